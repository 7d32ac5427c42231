/**
 * QR codes for the web app (the `otpauth://` link an authenticator app scans), made by the
 * maintained `qr` package: byte mode, error correction level M, the smallest version that holds
 * the text. The test beside this file reads every symbol back with a reader written from
 * ISO/IEC 18004 (format bits, unmasking, Reed–Solomon syndromes, the byte segment).
 */
import encodeQR from "qr";

export interface QrMatrix {
  readonly version: number;
  readonly size: number;
  /** modules[y][x]: true = dark. */
  readonly modules: readonly (readonly boolean[])[];
}

/** The quiet zone around a symbol, in modules (ISO/IEC 18004 asks for 4). */
export const QUIET_ZONE = 4;

/** Encodes `text` (UTF-8, byte mode, level M); the symbol alone, without its quiet zone. */
export function encodeQr(text: string): QrMatrix {
  const framed = encodeQR(text, "raw", { ecc: "medium", encoding: "byte", border: QUIET_ZONE });
  const modules = framed.slice(QUIET_ZONE, -QUIET_ZONE).map((row) => row.slice(QUIET_ZONE, -QUIET_ZONE));
  const size = modules.length;
  return { version: (size - 17) / 4, size, modules };
}

/** An SVG path drawing the dark modules, offset by the quiet zone. */
export function qrPath(m: QrMatrix): string {
  const parts: string[] = [];
  m.modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x + QUIET_ZONE} ${y + QUIET_ZONE}h1v1h-1z`);
    }),
  );
  return parts.join("");
}
