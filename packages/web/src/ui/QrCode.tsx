/** A QR code as an SVG (black on white with the quiet zone). */
import { useMemo } from "react";
import { encodeQr, qrPath, QUIET_ZONE } from "../qr/qr.js";

export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => {
    const m = encodeQr(text);
    return { size: m.size + 2 * QUIET_ZONE, path: qrPath(m) };
  }, [text]);
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
