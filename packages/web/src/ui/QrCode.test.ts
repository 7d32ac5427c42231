/**
 * The QR codes the app draws read back: the SVG path is painted onto a white image the way a
 * browser would and handed to the `qr` package's own reader, which finds the symbol by its finder
 * patterns — so a path drawn off the grid, or a quiet zone lost, fails here.
 */
import decodeQR from "qr/decode.js";
import { describe, expect, it } from "vitest";
import { qrSymbol } from "./QrCode.js";

/** Paints the `M{x} {y}h1v1h-1z` squares of `path` black, `scale` pixels per module (RGBA). */
function paint(size: number, path: string, scale = 4): { width: number; height: number; data: Uint8Array } {
  const width = size * scale;
  const data = new Uint8Array(width * width * 4).fill(255);
  for (const [, x, y] of path.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    for (let i = 0; i < scale; i++)
      for (let j = 0; j < scale; j++) {
        const p = ((Number(y) * scale + i) * width + Number(x) * scale + j) * 4;
        data[p] = data[p + 1] = data[p + 2] = 0;
      }
  }
  return { width, height: width, data };
}

describe("QrCode", () => {
  it.each([
    ["otpauth://totp/Latchkey", 2],
    [
      "otpauth://totp/Latchkey:owner?issuer=Latchkey&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6",
      7,
    ],
    ["Grüße, ключ 🔑", 2],
  ])("draws %j as a version %i symbol inside a 4-module quiet zone that reads back", (text, version) => {
    const { size, path } = qrSymbol(text);
    expect(size).toBe(version * 4 + 17 + 2 * 4);
    // Nothing dark in the quiet zone.
    for (const [, x, y] of path.matchAll(/M(\d+) (\d+)/g))
      for (const v of [Number(x), Number(y)]) expect(v >= 4 && v < size - 4).toBe(true);
    expect(decodeQR(paint(size, path))).toBe(text);
  });
});
