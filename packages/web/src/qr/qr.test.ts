/**
 * The QR codes the app draws (the `qr` package), checked by an independent reader written here
 * from the standard: function
 * areas from ISO/IEC 18004's alignment table, format bits against the standard's table, every
 * Reed–Solomon block checked by its syndromes, and the byte segment decoded back to the text.
 */
import { describe, expect, it } from "vitest";
import { encodeQr, type QrMatrix } from "./qr.js";

/** Multiplication in GF(2^8) with the standard's polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D). */
function gfMultiply(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z & 0xff;
}

// ISO/IEC 18004 Table C.1 (level M, masks 0–7), most significant bit first.
const FORMAT_M = [
  "101010000010010",
  "101000100100101",
  "101111001111100",
  "101101101001011",
  "100010111111001",
  "100000011001110",
  "100111110010111",
  "100101010100000",
];
// Annex E: alignment pattern centres; Table 9: blocks and EC codewords per block at level M.
const ALIGN: Record<number, number[]> = { 1: [], 2: [6, 18], 5: [6, 30], 7: [6, 22, 38], 10: [6, 28, 50] };
const BLOCKS: Record<number, { blocks: number; ecc: number; total: number }> = {
  1: { blocks: 1, ecc: 10, total: 26 },
  2: { blocks: 1, ecc: 16, total: 44 },
  5: { blocks: 2, ecc: 24, total: 134 },
  7: { blocks: 4, ecc: 18, total: 196 },
  10: { blocks: 5, ecc: 26, total: 346 },
};

function functionArea(ver: number): boolean[][] {
  const size = ver * 4 + 17;
  const f = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const mark = (x0: number, y0: number, w: number, h: number) => {
    for (let y = y0; y < y0 + h; y++) {
      const row = f[y];
      if (row !== undefined) for (let x = x0; x < x0 + w; x++) row[x] = true;
    }
  };
  mark(0, 0, 9, 9); // finder, separator, format
  mark(size - 8, 0, 8, 9);
  mark(0, size - 8, 9, 8);
  mark(0, 6, size, 1); // timing
  mark(6, 0, 1, size);
  const pos = ALIGN[ver] ?? [];
  for (const y of pos)
    for (const x of pos) {
      const nearFinder = (x === 6 && y === 6) || (x === 6 && y === size - 7) || (x === size - 7 && y === 6);
      if (!nearFinder) mark(x - 2, y - 2, 5, 5);
    }
  if (ver >= 7) {
    mark(size - 11, 0, 3, 6);
    mark(0, size - 11, 6, 3);
  }
  return f;
}

const MASKS: ((x: number, y: number) => boolean)[] = [
  (x, y) => (x + y) % 2 === 0,
  (_x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(y / 2) + Math.floor(x / 3)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

/** Reads a symbol back: format (level M and its mask), unmasking, codewords, RS syndromes, byte segment. */
function read(m: QrMatrix): { text: string; mask: number } {
  const size = m.size;
  const ver = (size - 17) / 4;
  const at = (x: number, y: number) => m.modules[y]?.[x] === true;
  // Format copy 1, bits 14..0: (0..5,8), (7,8), (8,8), (8,7), (8,5..0).
  const coords: [number, number][] = [
    [0, 8],
    [1, 8],
    [2, 8],
    [3, 8],
    [4, 8],
    [5, 8],
    [7, 8],
    [8, 8],
    [8, 7],
    [8, 5],
    [8, 4],
    [8, 3],
    [8, 2],
    [8, 1],
    [8, 0],
  ];
  const format = coords.map(([x, y]) => (at(x, y) ? "1" : "0")).join("");
  const mask = FORMAT_M.indexOf(format);
  expect(mask, `format ${format}`).toBeGreaterThanOrEqual(0);
  const fn = functionArea(ver);
  const bits: number[] = [];
  let upward = true;
  for (let col = size - 1; col > 0; col -= 2) {
    if (col === 6) col--;
    for (let k = 0; k < size; k++) {
      const y = upward ? size - 1 - k : k;
      for (const x of [col, col - 1]) {
        if (fn[y]?.[x] === true) continue;
        bits.push(at(x, y) !== (MASKS[mask] ?? (() => false))(x, y) ? 1 : 0);
      }
    }
    upward = !upward;
  }
  const { blocks, ecc, total } = BLOCKS[ver] ?? { blocks: 0, ecc: 0, total: 0 };
  const codewords: number[] = [];
  for (let i = 0; i + 8 <= total * 8; i += 8)
    codewords.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  const dataTotal = total - blocks * ecc;
  const shortData = Math.floor(dataTotal / blocks);
  const longCount = dataTotal % blocks;
  const lens = Array.from({ length: blocks }, (_, i) => shortData + (i >= blocks - longCount ? 1 : 0));
  const split: number[][] = lens.map(() => []);
  let p = 0;
  for (let i = 0; i < shortData + 1; i++)
    lens.forEach((len, b) => {
      if (i < len) split[b]?.push(codewords[p++] ?? -1);
    });
  for (let i = 0; i < ecc; i++) split.forEach((b) => b.push(codewords[p++] ?? -1));
  // Every block is a codeword of the RS code with generator roots α^0 … α^(ecc−1).
  for (const block of split) {
    let alpha = 1;
    for (let i = 0; i < ecc; i++) {
      let s = 0;
      for (const c of block) s = gfMultiply(s, alpha) ^ c;
      expect(s).toBe(0);
      alpha = gfMultiply(alpha, 2);
    }
  }
  const data = split.flatMap((b, i) => b.slice(0, lens[i]));
  const dataBits = data.flatMap((byte) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (byte >>> i) & 1));
  const take = (n: number) => dataBits.splice(0, n).reduce((a, b) => (a << 1) | b, 0);
  expect(take(4)).toBe(0b0100);
  const count = take(ver < 10 ? 8 : 16);
  const text = new TextDecoder().decode(new Uint8Array(Array.from({ length: count }, () => take(8))));
  return { text, mask };
}

describe("QR codes", () => {
  it.each([
    ["hello", 1],
    ["otpauth://totp/Latchkey", 2],
    [
      "otpauth://totp/Latchkey:owner?issuer=Latchkey&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6",
      7,
    ],
    [
      `otpauth://totp/Latchkey:${"x".repeat(88)}?issuer=Latchkey&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30`,
      10,
    ],
    ["Grüße, ключ 🔑", 2],
  ])("encodes %j in version %i and reads back", (text, version) => {
    const m = encodeQr(text);
    expect(m.version).toBe(version);
    expect(m.size).toBe(version * 4 + 17);
    expect(read(m).text).toBe(text);
  });

  it("reads back whichever mask the encoder chooses", () => {
    // Different lengths land on different masks; all must decode.
    const masks = new Set<number>();
    for (let n = 1; n < 100 && masks.size < 8; n++) {
      const text = "k".repeat(n % 14) + "latchkey".slice(0, n % 8);
      const m = encodeQr(text);
      if (m.version === 1) {
        const back = read(m);
        masks.add(back.mask);
        expect(back.text).toBe(text);
      }
    }
    expect(masks.size).toBeGreaterThan(2);
  });
});
