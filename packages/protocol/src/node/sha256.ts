/** node:crypto SHA-256 for Node processes; same contract as @noble's `sha256` (bytes in, 32 bytes out). */
import { createHash, hash } from "node:crypto";

export function nodeSha256(data: Uint8Array): Uint8Array {
  const b = hash("sha256", data, "buffer");
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** SHA-256 of the concatenation of `parts`, without concatenating them. */
export function nodeSha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return nodeSha256(parts[0]!); // one-shot is cheaper for small inputs
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  const b = h.digest();
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
