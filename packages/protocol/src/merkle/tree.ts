/**
 * An in-memory append-only Merkle tree that keeps every perfect node. Used by tests, by the
 * offline verifier to rebuild small trees, and as the reference for the stored ledger.
 */
import type { MerkleHasher } from "./hasher.js";
import {
  assembleProof,
  consistencyProofPlan,
  hashRange,
  inclusionProofPlan,
  subtreeConsistencyProofPlan,
  subtreeInclusionProofPlan,
  type NodeId,
} from "./plan.js";
import { LatchkeyError } from "../errors/error.js";

export class MemoryMerkleTree {
  /** levels[l][i] = hash of perfect node (l, i). */
  private readonly levels: Uint8Array[][] = [[]];

  constructor(readonly hasher: MerkleHasher) {}

  get size(): number {
    return (this.levels[0] as Uint8Array[]).length;
  }

  appendData(data: Uint8Array): number {
    return this.appendLeafHash(this.hasher.hashLeaf(data));
  }

  /** Appends a leaf hash, completing every perfect node it closes; returns the leaf's index. */
  appendLeafHash(leafHash: Uint8Array): number {
    const index = this.size;
    let hash = leafHash;
    let level = 0;
    for (;;) {
      const row = (this.levels[level] ??= []);
      row.push(hash);
      if (row.length % 2 === 1) break;
      hash = this.hasher.hashChildren(row[row.length - 2] as Uint8Array, hash);
      level++;
    }
    return index;
  }

  readonly lookup = (id: NodeId): Uint8Array | undefined => this.levels[id.level]?.[id.index];

  private checkSize(size: number): void {
    if (size > this.size) {
      throw new LatchkeyError("LEDGER_RANGE_INVALID", `tree has ${this.size} leaves, not ${size}`, {
        size,
        have: this.size,
      });
    }
  }

  /** MTH(D[start:end]); the root of the first `end` leaves when start is 0. */
  subtreeHash(start: number, end: number): Uint8Array {
    this.checkSize(end);
    return hashRange({ start, end }, this.lookup, this.hasher);
  }

  root(size = this.size): Uint8Array {
    return this.subtreeHash(0, size);
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    this.checkSize(size);
    return assembleProof(inclusionProofPlan(index, size), this.lookup, this.hasher);
  }

  consistencyProof(size1: number, size2 = this.size): Uint8Array[] {
    this.checkSize(size2);
    return assembleProof(consistencyProofPlan(size1, size2), this.lookup, this.hasher);
  }

  subtreeInclusionProof(index: number, start: number, end: number): Uint8Array[] {
    this.checkSize(end);
    return assembleProof(subtreeInclusionProofPlan(index, start, end), this.lookup, this.hasher);
  }

  subtreeConsistencyProof(start: number, end: number, size = this.size): Uint8Array[] {
    this.checkSize(size);
    return assembleProof(subtreeConsistencyProofPlan(start, end, size), this.lookup, this.hasher);
  }
}
