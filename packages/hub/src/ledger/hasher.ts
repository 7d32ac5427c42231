/** The RFC 6962 hasher over node:crypto's one-shot SHA-256 (the hub's hot path). */
import { rfc6962Hasher, type MerkleHasher } from "@latchkey/protocol";
import { nodeSha256 } from "@latchkey/protocol/node";

export const nodeMerkleHasher: MerkleHasher = rfc6962Hasher(nodeSha256);
