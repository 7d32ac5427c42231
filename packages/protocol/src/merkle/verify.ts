/**
 * Proof verification: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), plus the subtree
 * inclusion and subtree consistency proofs of draft-ietf-plants-merkle-tree-certs, checked
 * against the transparency-dev/merkle test vectors (see merkle.vectors.test.ts).
 *
 * Every function throws a LatchkeyError: LEDGER_RANGE_INVALID (indexes or sizes that admit no
 * proof), LEDGER_PROOF_MALFORMED (wrong number of hashes, a hash that is not 32 bytes) or
 * LEDGER_PROOF_MISMATCH (the proof does not lead to the expected root).
 */
import { LatchkeyError } from "../errors/error.js";
import { equalBytes } from "../encoding/bytes.js";
import { MERKLE_HASH_SIZE, type MerkleHasher } from "./hasher.js";
import { bitAt, bitLength, isIndex, popCount, shiftRight, trailingZeros, xor } from "./bits.js";
import { checkSubtree } from "./plan.js";

function malformed(message: string, details: Record<string, number>): LatchkeyError {
  return new LatchkeyError("LEDGER_PROOF_MALFORMED", message, details);
}

function checkHashes(proof: readonly Uint8Array[], what: string): void {
  proof.forEach((h, i) => {
    if (h.length !== MERKLE_HASH_SIZE)
      throw malformed(`${what} hash ${i} is ${h.length} bytes, not 32`, { index: i, length: h.length });
  });
}

function checkLength(got: number, want: number, what: string): void {
  if (got !== want) throw malformed(`${what} has ${got} hashes, expected ${want}`, { got, want });
}

function expectRoot(calculated: Uint8Array, expected: Uint8Array, what: string): void {
  // Roots are public: a plain comparison is fine, equalBytes just avoids a second helper.
  if (!equalBytes(calculated, expected)) {
    throw new LatchkeyError("LEDGER_PROOF_MISMATCH", `${what} does not lead to the expected root hash`);
  }
}

/** Chains proof hashes below the split between `index` and the tree's right border. */
function chainInner(
  h: MerkleHasher,
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: number,
): Uint8Array {
  proof.forEach((p, i) => {
    seed = bitAt(index, i) === 0 ? h.hashChildren(seed, p) : h.hashChildren(p, seed);
  });
  return seed;
}

/** Like chainInner but keeps only left siblings: the hash of the older, smaller tree. */
function chainInnerRight(
  h: MerkleHasher,
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: number,
): Uint8Array {
  proof.forEach((p, i) => {
    if (bitAt(index, i) === 1) seed = h.hashChildren(p, seed);
  });
  return seed;
}

/** Chains hashes along the right border, where every sibling is on the left. */
function chainBorderRight(h: MerkleHasher, seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  for (const p of proof) seed = h.hashChildren(p, seed);
  return seed;
}

/** The root implied by an inclusion proof for leaf `index` in a tree of `size` leaves. */
export function rootFromInclusionProof(
  hasher: MerkleHasher,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (!isIndex(index) || !isIndex(size) || index >= size) {
    throw new LatchkeyError("LEDGER_RANGE_INVALID", `leaf ${index} is not in a tree of size ${size}`, {
      index,
      size,
    });
  }
  if (leafHash.length !== MERKLE_HASH_SIZE)
    throw malformed(`leaf hash is ${leafHash.length} bytes, not 32`, { length: leafHash.length });
  checkHashes(proof, "inclusion proof");
  const inner = bitLength(xor(index, size - 1));
  const border = popCount(shiftRight(index, inner));
  checkLength(proof.length, inner + border, "inclusion proof");
  const res = chainInner(hasher, leafHash, proof.slice(0, inner), index);
  return chainBorderRight(hasher, res, proof.slice(inner));
}

export function verifyInclusion(
  hasher: MerkleHasher,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  expectRoot(rootFromInclusionProof(hasher, index, size, leafHash, proof), root, "inclusion proof");
}

/** Inclusion of leaf `index` in the subtree [start, end) whose hash is `subtreeRoot`. */
export function verifySubtreeInclusion(
  hasher: MerkleHasher,
  index: number,
  start: number,
  end: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
): void {
  checkSubtree(start, end);
  if (!isIndex(index) || index < start || index >= end) {
    throw new LatchkeyError("LEDGER_RANGE_INVALID", `leaf ${index} is not in subtree [${start}, ${end})`, {
      index,
      start,
      end,
    });
  }
  const calculated = rootFromInclusionProof(hasher, index - start, end - start, leafHash, proof);
  expectRoot(calculated, subtreeRoot, "subtree inclusion proof");
}

/**
 * The root of a tree of `size` leaves implied by the hash of its subtree [start, end) and a
 * subtree consistency proof; also checks the proof's nodes inside the subtree against `subRoot`.
 */
export function rootFromSubtreeConsistencyProof(
  hasher: MerkleHasher,
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subRoot: Uint8Array,
): Uint8Array {
  checkSubtree(start, end);
  if (!isIndex(size) || size < end) {
    throw new LatchkeyError(
      "LEDGER_RANGE_INVALID",
      `subtree [${start}, ${end}) is not in a tree of size ${size}`,
      {
        start,
        end,
        size,
      },
    );
  }
  checkHashes(proof, "consistency proof");
  if (start === end) {
    if (size !== 0) {
      throw new LatchkeyError(
        "LEDGER_RANGE_INVALID",
        "an empty subtree cannot prove a non-empty tree's root",
        { size },
      );
    }
    checkLength(proof.length, 0, "consistency proof");
    expectRoot(subRoot, hasher.emptyRoot, "empty subtree");
    return hasher.emptyRoot;
  }
  // subRoot's length is not checked: a root of the wrong size simply never matches.
  if (start === 0 && end === size) {
    checkLength(proof.length, 0, "consistency proof");
    return subRoot;
  }
  if (proof.length === 0) throw malformed("consistency proof is empty", { got: 0 });

  if (end === size) {
    // The subtree sits on the right border: only its left siblings are needed.
    const level = bitLength(xor(end - 1, start));
    checkLength(proof.length, popCount(shiftRight(start, level)), "consistency proof");
    return chainBorderRight(hasher, subRoot, proof);
  }

  // Paths to leaves end−1 and size−1 split at forkLevel; the proof starts at `shift`, the height
  // of the rightmost perfect subtree inside [start, end).
  const forkLevel = bitLength(xor(end - 1, size - 1));
  const border = popCount(shiftRight(end - 1, forkLevel));
  const shift = trailingZeros(end - start);
  const inner = forkLevel - shift;
  // A perfect subtree's own hash is the seed and is not repeated in the proof.
  const perfect = end - start === 2 ** shift;
  const seed = perfect ? subRoot : (proof[0] as Uint8Array);
  const rest = perfect ? proof : proof.slice(1);
  checkLength(proof.length, (perfect ? 0 : 1) + inner + border, "consistency proof");
  const mask = shiftRight(end - 1, shift);

  if (!perfect) {
    // Rebuild the subtree's own hash from the nodes of the proof that lie inside it.
    const height = bitLength(xor(end - 1, start));
    const subInner = Math.min(height, forkLevel) - shift;
    const subBorder = Math.max(0, border - popCount(shiftRight(end - 1, height)));
    let hash1 = chainInnerRight(hasher, seed, rest.slice(0, subInner), mask);
    hash1 = chainBorderRight(hasher, hash1, rest.slice(inner, inner + subBorder));
    expectRoot(hash1, subRoot, "consistency proof (old root)");
  }
  const hash2 = chainInner(hasher, seed, rest.slice(0, inner), mask);
  return chainBorderRight(hasher, hash2, rest.slice(inner));
}

/** Consistency of the subtree [start, end) (hash `subRoot`) with a tree of `size` leaves (`root`). */
export function verifySubtreeConsistency(
  hasher: MerkleHasher,
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subRoot: Uint8Array,
  root: Uint8Array,
): void {
  if (start === end && isIndex(start)) {
    // An empty subtree is consistent with every tree that is at least as large.
    if (!isIndex(size) || end > size) {
      throw new LatchkeyError(
        "LEDGER_RANGE_INVALID",
        `subtree [${start}, ${end}) is not in a tree of size ${size}`,
        {
          start,
          end,
          size,
        },
      );
    }
    checkLength(proof.length, 0, "consistency proof");
    expectRoot(subRoot, hasher.emptyRoot, "empty subtree");
    return;
  }
  expectRoot(
    rootFromSubtreeConsistencyProof(hasher, start, end, size, proof, subRoot),
    root,
    "consistency proof",
  );
}

/** The root of the tree of `size2` leaves implied by the root of its first `size1` leaves. */
export function rootFromConsistencyProof(
  hasher: MerkleHasher,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): Uint8Array {
  if (!isIndex(size1) || !isIndex(size2) || size2 < size1) {
    throw new LatchkeyError("LEDGER_RANGE_INVALID", `no consistency proof from size ${size1} to ${size2}`, {
      size1,
      size2,
    });
  }
  if (size1 === 0) {
    throw new LatchkeyError(
      "LEDGER_RANGE_INVALID",
      "a consistency proof from the empty tree proves nothing",
      { size2 },
    );
  }
  checkHashes(proof, "consistency proof");
  if (size1 === size2) {
    checkLength(proof.length, 0, "consistency proof");
    return root1;
  }
  if (proof.length === 0) throw malformed("consistency proof is empty", { got: 0 });
  return rootFromSubtreeConsistencyProof(hasher, 0, size1, size2, proof, root1);
}

export function verifyConsistency(
  hasher: MerkleHasher,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  expectRoot(rootFromConsistencyProof(hasher, size1, size2, proof, root1), root2, "consistency proof");
}
