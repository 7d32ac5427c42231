import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { isLatchkeyError } from "../errors/error.js";
import { toHex } from "../encoding/bytes.js";
import { rfc6962Hasher, sha256MerkleHasher as H } from "./hasher.js";
import { bitCeil, bitLength, popCount, trailingZeros, xor } from "./bits.js";
import { nodeKey, perfectNodes } from "./plan.js";
import { MemoryMerkleTree } from "./tree.js";
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from "./verify.js";

function treeOf(n: number): MemoryMerkleTree {
  const t = new MemoryMerkleTree(H);
  for (let i = 0; i < n; i++) t.appendData(new TextEncoder().encode(`leaf ${i}`));
  return t;
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

describe("RFC 6962 hashing", () => {
  it("hashes leaves with 0x00, nodes with 0x01 and the empty tree as SHA-256('')", () => {
    const sha = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());
    expect(toHex(H.hashLeaf(Uint8Array.of(7)))).toBe(toHex(sha(Uint8Array.of(0, 7))));
    const l = new Uint8Array(32).fill(1);
    const r = new Uint8Array(32).fill(2);
    expect(toHex(H.hashChildren(l, r))).toBe(toHex(sha(Uint8Array.of(1, ...l, ...r))));
    // e3b0c442… is SHA-256 of the empty string (RFC 6962 §2.1: MTH({}) = SHA-256()).
    expect(toHex(H.emptyRoot)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(rfc6962Hasher(sha).hashLeaf(Uint8Array.of(7)))).toBe(toHex(H.hashLeaf(Uint8Array.of(7))));
  });

  it("does 64-bit-safe bit arithmetic above 2^32", () => {
    const big = 2 ** 40 + 5;
    expect(bitLength(big)).toBe(41);
    expect(popCount(big)).toBe(3);
    expect(trailingZeros(2 ** 40)).toBe(40);
    expect(xor(big, 2 ** 40)).toBe(5);
    expect(bitCeil(2 ** 33 + 1)).toBe(2 ** 34);
  });

  it("numbers perfect nodes in the order appends complete them", () => {
    const keys: number[] = [];
    for (let n = 1; n <= 64; n++) {
      // Nodes completed by leaf n−1: levels 0 … trailingZeros(n).
      for (let level = 0; level <= trailingZeros(n); level++) keys.push(nodeKey(level, n / 2 ** level - 1));
    }
    expect(keys).toEqual(keys.map((_, i) => i));
    expect(perfectNodes(0, 13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });
});

describe("proof generation and verification", () => {
  it("verifies every inclusion and consistency proof of trees up to 40 leaves", () => {
    const t = treeOf(40);
    for (let size = 1; size <= 40; size++) {
      const root = t.root(size);
      for (let i = 0; i < size; i++) {
        verifyInclusion(
          H,
          i,
          size,
          t.lookup({ level: 0, index: i }) as Uint8Array,
          t.inclusionProof(i, size),
          root,
        );
      }
      for (let s1 = 1; s1 <= size; s1++)
        verifyConsistency(H, s1, size, t.consistencyProof(s1, size), t.root(s1), root);
    }
  });

  it("rejects every single-bit change of a proof, leaf or root (attack)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 70 }), fc.nat(), fc.nat(), fc.nat(), (size, a, b, c) => {
        const t = treeOf(size);
        const index = a % size;
        const proof = t.inclusionProof(index, size);
        const leaf = t.lookup({ level: 0, index }) as Uint8Array;
        const root = t.root();
        const target = b % (proof.length + 2);
        const bit = c % 256;
        const flip = (x: Uint8Array) => {
          const y = x.slice();
          y[bit >> 3] = (y[bit >> 3] as number) ^ (1 << (bit & 7));
          return y;
        };
        const p2 = proof.map((h, i) => (i === target ? flip(h) : h));
        const leaf2 = target === proof.length ? flip(leaf) : leaf;
        const root2 = target === proof.length + 1 ? flip(root) : root;
        expect(code(() => verifyInclusion(H, index, size, leaf2, p2, root2))).toBe("LEDGER_PROOF_MISMATCH");
        // the original is untouched and still verifies
        verifyInclusion(H, index, size, leaf, proof, root);
      }),
      { numRuns: 100 },
    );
  });

  it("rejects proofs moved to another index or size with a stable code", () => {
    const t = treeOf(21);
    const proof = t.inclusionProof(5, 21);
    const leaf = t.lookup({ level: 0, index: 5 }) as Uint8Array;
    expect(code(() => verifyInclusion(H, 4, 21, leaf, proof, t.root()))).toBe("LEDGER_PROOF_MISMATCH");
    // The same hashes under a smaller size's root: the root commits to the size.
    expect(code(() => verifyInclusion(H, 5, 20, leaf, proof, t.root(20)))).toBe("LEDGER_PROOF_MISMATCH");
    expect(code(() => verifyInclusion(H, 21, 21, leaf, proof, t.root()))).toBe("LEDGER_RANGE_INVALID");
    expect(code(() => verifyInclusion(H, 5, 21, leaf, proof.slice(1), t.root()))).toBe(
      "LEDGER_PROOF_MALFORMED",
    );
    expect(code(() => verifyInclusion(H, 5, 21, leaf, [...proof, leaf], t.root()))).toBe(
      "LEDGER_PROOF_MALFORMED",
    );
    expect(code(() => verifyInclusion(H, -1, 21, leaf, proof, t.root()))).toBe("LEDGER_RANGE_INVALID");
    expect(code(() => verifyInclusion(H, 2 ** 53, 2 ** 54, leaf, proof, t.root()))).toBe(
      "LEDGER_RANGE_INVALID",
    );
    expect(code(() => verifyConsistency(H, 22, 21, [], t.root(), t.root()))).toBe("LEDGER_RANGE_INVALID");
    expect(code(() => verifyConsistency(H, 7, 21, t.consistencyProof(8), t.root(7), t.root()))).toMatch(
      /LEDGER_PROOF_(MISMATCH|MALFORMED)/,
    );
  });

  it("never throws anything but a LatchkeyError on arbitrary proof input (fuzz)", () => {
    const hash = fc.uint8Array({ minLength: 0, maxLength: 40 });
    fc.assert(
      fc.property(
        fc.integer({ min: -2, max: 2 ** 40 }),
        fc.integer({ min: -2, max: 2 ** 40 }),
        hash,
        fc.array(hash, { maxLength: 50 }),
        hash,
        (index, size, leaf, proof, root) => {
          try {
            rootFromInclusionProof(H, index, size, leaf, proof);
            verifyConsistency(H, index, size, proof, leaf, root);
          } catch (e) {
            expect(isLatchkeyError(e)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
