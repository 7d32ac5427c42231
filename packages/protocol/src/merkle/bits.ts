/**
 * Bit arithmetic on tree sizes and indexes held in JavaScript numbers. Sizes are unsigned 64-bit
 * in RFC 9162; Latchkey accepts any safe integer (< 2^53), which is far beyond any real ledger,
 * and rejects larger values at the API boundary. JavaScript's bitwise operators work on 32 bits,
 * so these helpers split values into high and low words.
 */
const TWO32 = 0x1_0000_0000;

export function isIndex(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function pop32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of bits needed to represent x (0 for 0), like Go's bits.Len64. */
export function bitLength(x: number): number {
  if (x < TWO32) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / TWO32));
}

export function popCount(x: number): number {
  return pop32(x >>> 0) + pop32(Math.floor(x / TWO32));
}

/** Trailing zero bits of x > 0. */
export function trailingZeros(x: number): number {
  const lo = x >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / TWO32);
  return 32 + 31 - Math.clz32(hi & -hi);
}

export function shiftRight(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

/** Bit k of x (0 or 1). */
export function bitAt(x: number, k: number): number {
  return Math.floor(x / 2 ** k) % 2;
}

export function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO32) ^ Math.floor(b / TWO32)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * TWO32 + lo;
}

/** Largest power of two strictly less than n (n ≥ 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  return 2 ** (bitLength(n - 1) - 1);
}

/** Smallest power of two ≥ n (1 for n ≤ 1). */
export function bitCeil(n: number): number {
  return n <= 1 ? 1 : 2 ** bitLength(n - 1);
}
