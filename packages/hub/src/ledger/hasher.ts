/** The RFC 6962 hasher over node:crypto's one-shot SHA-256 (the hub's hot path). */
import { hash } from "node:crypto";
import { rfc6962Hasher, type MerkleHasher } from "@latchkey/protocol";

export const nodeMerkleHasher: MerkleHasher = rfc6962Hasher((data) => {
  const b = hash("sha256", data, "buffer");
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
});
