/**
 * Standard base64 (RFC 4648 §4, with padding), strict: only canonical encodings decode, so one
 * byte string has exactly one text form inside a signed note. Pure code, no Buffer.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Each byte's 6-bit value in the alphabet, -1 for any other byte (also read by bundle-scan.ts). */
export const BASE64_VALUE: Int16Array = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) BASE64_VALUE[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + "=";
  }
  return out;
}

/** Decodes canonical padded base64; returns null for anything else (callers choose the error). */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  let n = 0;
  for (let i = 0; i < text.length; i += 4) {
    n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v: number;
      if (c === 0x3d /* = */ && i + 4 === text.length && j >= 4 - pad) v = 0;
      else v = c < 256 ? (BASE64_VALUE[c] as number) : -1;
      if (v < 0) return null;
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 0xff;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  // Only the canonical encoding is accepted (RFC 4648 §3.5): the bits the padding leaves over in
  // the last group must be zero — 4 bits with "==", 2 bits with "=".
  if (pad === 2 && (n & 0xffff) !== 0) return null;
  if (pad === 1 && (n & 0xff) !== 0) return null;
  return out;
}
