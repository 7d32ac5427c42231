import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isLatchkeyError } from "../errors/error.js";
import { sha256MerkleHasher as H } from "./hasher.js";
import { InclusionBatchVerifier } from "./inclusion-batch.js";
import { MemoryMerkleTree } from "./tree.js";
import { verifyInclusion } from "./verify.js";

function treeOf(n: number): MemoryMerkleTree {
  const t = new MemoryMerkleTree(H);
  for (let i = 0; i < n; i++) t.appendData(new TextEncoder().encode(`leaf ${i}`));
  return t;
}

function leafHash(i: number): Uint8Array {
  return H.hashLeaf(new TextEncoder().encode(`leaf ${i}`));
}

function code(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return e.code;
  }
}

const packed = (proof: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(proof.length * 32);
  proof.forEach((h, i) => out.set(h, i * 32));
  return out;
};

describe("batched inclusion proofs", () => {
  it("accepts every leaf of trees of 1–70 leaves, in order and in reverse, separate or packed", () => {
    for (let n = 1; n <= 70; n++) {
      const t = treeOf(n);
      const forward = new InclusionBatchVerifier(H, n, t.root());
      const backward = new InclusionBatchVerifier(H, n, t.root());
      for (let i = 0; i < n; i++) {
        expect(code(() => forward.verify(i, leafHash(i), t.inclusionProof(i)))).toBeNull();
        const j = n - 1 - i;
        expect(code(() => backward.verify(j, leafHash(j), packed(t.inclusionProof(j))))).toBeNull();
      }
    }
  });

  it("refuses exactly what verifyInclusion refuses, even after neighbours were proven (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom("flip", "drop", "extra", "index", "leaf", "none"),
        fc.nat(),
        (n, picks, victimPick, damage, where) => {
          const t = treeOf(n);
          const batch = new InclusionBatchVerifier(H, n, t.root());
          for (const p of picks) batch.verify(p % n, leafHash(p % n), t.inclusionProof(p % n));
          const victim = victimPick % n;
          const proof = t.inclusionProof(victim).map((h) => h.slice());
          let index = victim;
          let leaf = leafHash(victim);
          if (damage === "flip" && proof.length > 0)
            proof[where % proof.length]![where % 32]! ^= 1 << (where % 8);
          if (damage === "drop" && proof.length > 0) proof.splice(where % proof.length, 1);
          if (damage === "extra") proof.push(new Uint8Array(32));
          if (damage === "index") index = (victim + 1 + (where % n)) % (n + 1);
          if (damage === "leaf") leaf = leafHash(n + 1);
          const alone = code(() => verifyInclusion(H, index, n, leaf, proof, t.root()));
          expect(code(() => batch.verify(index, leaf, proof))).toBe(alone);
          expect(code(() => batch.verify(index, leaf, packed(proof)))).toBe(alone);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("an empty tree admits no proof", () => {
    expect(code(() => new InclusionBatchVerifier(H, 0, H.emptyRoot).verify(0, leafHash(0), []))).toBe(
      "LEDGER_RANGE_INVALID",
    );
  });
});
