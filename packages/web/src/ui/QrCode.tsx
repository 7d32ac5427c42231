/** A QR code as an SVG (black on white with the quiet zone), from the maintained `qr` package. */
import { useMemo } from "react";
import encodeQR from "qr";

/** The quiet zone around a symbol, in modules (ISO/IEC 18004 asks for 4). */
const QUIET_ZONE = 4;

/**
 * The symbol for `text` (UTF-8 bytes, error correction level M, the smallest version that holds
 * it) with its quiet zone: its width in modules and an SVG path over its dark modules.
 */
export function qrSymbol(text: string): { readonly size: number; readonly path: string } {
  const modules = encodeQR(text, "raw", { ecc: "medium", encoding: "byte", border: QUIET_ZONE });
  const parts: string[] = [];
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
    }),
  );
  return { size: modules.length, path: parts.join("") };
}

export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => qrSymbol(text), [text]);
  return (
    <svg
      className="qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={label}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
