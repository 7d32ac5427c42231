/**
 * Inclusion proofs of many leaves in one tree (RFC 9162 §2.1.3.2), sharing work between them.
 *
 * Verifying each proof alone costs one hash per tree level (17 for 100,000 leaves); an evidence
 * bundle holds one proof per event, mostly for neighbouring leaves whose paths share almost
 * every node. This verifier remembers every node a verified proof established — the nodes it
 * computed and the sibling hashes it used, each named by the range of leaves it covers — and
 * stops climbing as soon as a new proof reaches a node it already knows. It accepts exactly the
 * proofs `verifyInclusion` accepts: the rest of the path above a known node must consist of the
 * very hashes already proven there, compared byte for byte (inclusion-batch.test.ts checks the
 * two agree on every leaf of many trees, and on damaged proofs).
 */
import { LatchkeyError } from "../errors/error.js";
import { equalBytes } from "../encoding/bytes.js";
import { MERKLE_HASH_SIZE, type MerkleHasher } from "./hasher.js";

/** At most this many known nodes are kept; past it the memory starts again (still correct). */
const MAX_KNOWN_NODES = 1 << 20;

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class InclusionBatchVerifier {
  readonly #hasher: MerkleHasher;
  readonly #size: number;
  readonly #root: Uint8Array;
  readonly #known = new Map<number | string, Uint8Array>();
  // The path of the leaf being verified, root first, reused from call to call (no allocation
  // per leaf): sibling range [start, end) and whether it lies to the right.
  readonly #pathStart = new Float64Array(64);
  readonly #pathEnd = new Float64Array(64);
  readonly #pathRight = new Uint8Array(64);
  // Nodes of the current path not yet known: up to 2 per level (the node and its sibling).
  readonly #newKeys: (number | string)[] = [];
  readonly #newHashes: Uint8Array[] = [];

  constructor(hasher: MerkleHasher, treeSize: number, root: Uint8Array) {
    this.#hasher = hasher;
    this.#size = treeSize;
    this.#root = root;
  }

  /** A node's name: the range [start, end) of leaves it covers (a number while that is exact). */
  #key(start: number, end: number): number | string {
    return this.#size < 2 ** 26 ? start * (this.#size + 1) + end : `${start},${end}`;
  }

  /**
   * Checks that `leafHash` is leaf `index` of the tree. `proof` is the RFC 9162 audit path,
   * either as separate 32-byte hashes or packed one after another in one array. Throws like
   * `verifyInclusion`: LEDGER_RANGE_INVALID, LEDGER_PROOF_MALFORMED or LEDGER_PROOF_MISMATCH.
   */
  verify(index: number, leafHash: Uint8Array, proof: Uint8Array | readonly Uint8Array[]): void {
    // An empty (or nonsensical) tree admits no proof: every index is out of range.
    if (
      !Number.isSafeInteger(index) ||
      !Number.isSafeInteger(this.#size) ||
      index < 0 ||
      index >= this.#size
    ) {
      throw new LatchkeyError(
        "LEDGER_RANGE_INVALID",
        `leaf ${index} is not in a tree of size ${this.#size}`,
        {
          index,
          treeSize: this.#size,
        },
      );
    }
    const depth = this.#path(index);
    const packed = proof instanceof Uint8Array;
    if (packed && proof.length % MERKLE_HASH_SIZE !== 0) {
      throw new LatchkeyError("LEDGER_PROOF_MALFORMED", "inclusion proof is not a whole number of hashes", {
        length: proof.length,
      });
    }
    const count = packed ? proof.length / MERKLE_HASH_SIZE : proof.length;
    if (count !== depth) {
      throw new LatchkeyError(
        "LEDGER_PROOF_MALFORMED",
        `inclusion proof has ${count} hashes, expected ${depth}`,
        {
          got: count,
          want: depth,
        },
      );
    }
    const hashAt = (j: number): Uint8Array => {
      const h = packed
        ? proof.subarray(j * MERKLE_HASH_SIZE, (j + 1) * MERKLE_HASH_SIZE)
        : (proof[j] as Uint8Array);
      if (h.length !== MERKLE_HASH_SIZE) {
        throw new LatchkeyError(
          "LEDGER_PROOF_MALFORMED",
          `inclusion proof hash ${j} is ${h.length} bytes, not 32`,
          {
            index: j,
            length: h.length,
          },
        );
      }
      return h;
    };

    // Climb from the leaf. proof[j] is the sibling at path level depth - 1 - j (deepest first).
    const keys = this.#newKeys;
    const hashes = this.#newHashes;
    keys.length = 0;
    hashes.length = 0;
    let start = index;
    let end = index + 1;
    let node = leafHash;
    for (let j = 0; ; j++) {
      const key = this.#key(start, end);
      const known = this.#known.get(key);
      if (known !== undefined) {
        if (!equalBytes(known, node)) throw mismatch();
        // Above a known node the path is the proven one: every remaining hash must be it.
        for (let r = j; r < depth; r++) {
          const level = depth - 1 - r;
          const sibling = this.#known.get(this.#key(this.#pathStart[level]!, this.#pathEnd[level]!));
          if (sibling === undefined || !equalBytes(sibling, hashAt(r))) throw mismatch();
        }
        this.#remember();
        return;
      }
      if (j === depth) break;
      const level = depth - 1 - j;
      const sibling = hashAt(j);
      keys.push(key, this.#key(this.#pathStart[level]!, this.#pathEnd[level]!));
      hashes.push(node, sibling);
      if (this.#pathRight[level] === 1) {
        node = this.#hasher.hashChildren(node, sibling);
        end = this.#pathEnd[level]!;
      } else {
        node = this.#hasher.hashChildren(sibling, node);
        start = this.#pathStart[level]!;
      }
    }
    if (!equalBytes(node, this.#root)) throw mismatch();
    this.#remember();
  }

  /** Keeps the nodes of a path just proven: the ones computed and the siblings used. */
  #remember(): void {
    if (this.#known.size > MAX_KNOWN_NODES) this.#known.clear();
    this.#known.set(this.#key(0, this.#size), this.#root);
    for (let i = 0; i < this.#newKeys.length; i++) this.#known.set(this.#newKeys[i]!, this.#newHashes[i]!);
  }

  /** Fills the path from the root down to leaf `index` (RFC 9162 §2.1.3.1's split); returns its depth. */
  #path(index: number): number {
    let depth = 0;
    let start = 0;
    let end = this.#size;
    while (end - start > 1) {
      const k = largestPowerOfTwoBelow(end - start);
      if (index < start + k) {
        this.#pathStart[depth] = start + k;
        this.#pathEnd[depth] = end;
        this.#pathRight[depth] = 1;
        end = start + k;
      } else {
        this.#pathStart[depth] = start;
        this.#pathEnd[depth] = start + k;
        this.#pathRight[depth] = 0;
        start = start + k;
      }
      depth++;
    }
    return depth;
  }
}

function mismatch(): LatchkeyError {
  return new LatchkeyError(
    "LEDGER_PROOF_MISMATCH",
    "inclusion proof does not lead to the expected root hash",
  );
}
