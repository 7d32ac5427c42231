/**
 * RFC 6962 / RFC 9162 §2.1.1 Merkle tree hashing with SHA-256:
 *   leaf hash  = SHA-256(0x00 ‖ data)
 *   node hash  = SHA-256(0x01 ‖ left ‖ right)
 *   empty tree = SHA-256("")
 * The SHA-256 primitive is injectable so the hub can use node:crypto (much faster for bulk
 * hashing) while browsers and the offline verifier use @noble/hashes.
 */
import { sha256 } from "@noble/hashes/sha2.js";

export const MERKLE_HASH_SIZE = 32;

export interface MerkleHasher {
  hashLeaf(data: Uint8Array): Uint8Array;
  hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array;
  /** MTH({}) = SHA-256 of the empty string. */
  readonly emptyRoot: Uint8Array;
}

/** Builds the RFC 6962 hasher over a SHA-256 function (bytes in, 32 bytes out). */
export function rfc6962Hasher(sha256Fn: (data: Uint8Array) => Uint8Array): MerkleHasher {
  // Node hashing is the hot path of proofs: one reusable 65-byte input for two 32-byte children
  // (safe because hashing is synchronous and the digest is a fresh array).
  const scratch = new Uint8Array(1 + 2 * MERKLE_HASH_SIZE);
  scratch[0] = 0x01;
  return {
    hashLeaf(data) {
      const buf = new Uint8Array(1 + data.length);
      buf[0] = 0x00;
      buf.set(data, 1);
      return sha256Fn(buf);
    },
    hashChildren(left, right) {
      if (left.length === MERKLE_HASH_SIZE && right.length === MERKLE_HASH_SIZE) {
        scratch.set(left, 1);
        scratch.set(right, 1 + MERKLE_HASH_SIZE);
        return sha256Fn(scratch);
      }
      const buf = new Uint8Array(1 + left.length + right.length);
      buf[0] = 0x01;
      buf.set(left, 1);
      buf.set(right, 1 + left.length);
      return sha256Fn(buf);
    },
    emptyRoot: sha256Fn(new Uint8Array(0)),
  };
}

/** The pure (browser-safe) RFC 6962 SHA-256 hasher. */
export const sha256MerkleHasher: MerkleHasher = rfc6962Hasher((d) => sha256(d));
