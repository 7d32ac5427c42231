/**
 * Proof planning: which subtree hashes make up a proof, before any hash is read.
 *
 * Every element of an RFC 9162 inclusion or consistency proof is MTH(D[start:end]) of some
 * subtree of the recursive split (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 SUBPROOF), and every such
 * subtree is the right fold of at most log2(n) *perfect* nodes (complete subtrees of 2^level
 * leaves). Storage keeps every perfect node, so a proof costs one batched read of O(log n) nodes:
 * plan → `planNodes` → read → `assembleProof`. The planner is pure and shared by the in-memory
 * tree, the SQLite and PostgreSQL ledgers and tests.
 *
 * Subtrees [start, end) follow draft-ietf-plants-merkle-tree-certs ("Subtrees", also used by
 * c2sp.org/tlog-cosignature): valid when start ≤ end and start is 0, equals end, or is a multiple
 * of BIT_CEIL(end − start).
 */
import { LatchkeyError } from "../errors/error.js";
import type { MerkleHasher } from "./hasher.js";
import { bitCeil, isIndex, popCount, splitPoint, trailingZeros } from "./bits.js";

/** A perfect node: the root of leaves [index·2^level, (index+1)·2^level). Level 0 = leaf hash. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Leaves [start, end); its hash is MTH(D[start:end]). */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/**
 * A dense, append-ordered number for a perfect node: its position in the post-order walk, which
 * is also the order in which nodes complete while leaves are appended (so storage keyed by it is
 * append-only). With N = (index+1)·2^level leaves, the tree has 2N − popcount(N) perfect nodes
 * and this node is followed only by its completed ancestors.
 */
export function nodeKey(level: number, index: number): number {
  const n = (index + 1) * 2 ** level;
  return 2 * n - popCount(n) - 1 - (trailingZeros(n) - level);
}

export function isValidSubtree(start: number, end: number): boolean {
  if (!isIndex(start) || !isIndex(end) || start > end) return false;
  if (start === 0 || start === end) return true;
  return start % bitCeil(end - start) === 0;
}

function rangeError(message: string, details: Record<string, number>): LatchkeyError {
  return new LatchkeyError("LEDGER_RANGE_INVALID", message, details);
}

export function checkSubtree(start: number, end: number): void {
  if (!isValidSubtree(start, end)) {
    throw rangeError(`[${start}, ${end}) is not a valid subtree`, { start, end });
  }
}

/** Decomposes [start, end) into maximal aligned perfect nodes, left to right. */
export function perfectNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let at = start;
  while (at < end) {
    let level = at === 0 ? 53 : trailingZeros(at);
    while (at + 2 ** level > end) level--;
    out.push({ level, index: at / 2 ** level });
    at += 2 ** level;
  }
  return out;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), bottom-up. */
function path(m: number, lo: number, hi: number, out: LeafRange[]): void {
  if (hi - lo <= 1) return;
  const mid = lo + splitPoint(hi - lo);
  if (m < mid) {
    path(m, lo, mid, out);
    out.push({ start: mid, end: hi });
  } else {
    path(m, mid, hi, out);
    out.push({ start: lo, end: mid });
  }
}

/**
 * RFC 9162 §2.1.4.1 SUBPROOF generalised to subtrees [start, end) as in the Merkle Tree
 * Certificates draft: `known` is true while the verifier already holds the hash of the current
 * node (it is then omitted).
 */
function subproof(
  start: number,
  end: number,
  lo: number,
  hi: number,
  known: boolean,
  out: LeafRange[],
): void {
  if (start === lo && end === hi) {
    if (!known) out.push({ start: lo, end: hi });
    return;
  }
  const mid = lo + splitPoint(hi - lo);
  if (end <= mid) {
    subproof(start, end, lo, mid, known, out);
    out.push({ start: mid, end: hi });
  } else if (start >= mid) {
    subproof(start, end, mid, hi, known, out);
    out.push({ start: lo, end: mid });
  } else {
    // A valid subtree straddling the split starts at lo (= 0 of this node).
    subproof(mid, end, mid, hi, false, out);
    out.push({ start: lo, end: mid });
  }
}

export function inclusionProofPlan(index: number, size: number): LeafRange[] {
  if (!isIndex(index) || !isIndex(size) || index >= size) {
    throw rangeError(`leaf ${index} is not in a tree of size ${size}`, { index, size });
  }
  const out: LeafRange[] = [];
  path(index, 0, size, out);
  return out;
}

export function subtreeInclusionProofPlan(index: number, start: number, end: number): LeafRange[] {
  checkSubtree(start, end);
  if (!isIndex(index) || index < start || index >= end) {
    throw rangeError(`leaf ${index} is not in subtree [${start}, ${end})`, { index, start, end });
  }
  const out: LeafRange[] = [];
  path(index, start, end, out);
  return out;
}

export function consistencyProofPlan(size1: number, size2: number): LeafRange[] {
  if (!isIndex(size1) || !isIndex(size2) || size1 > size2 || size1 === 0) {
    throw rangeError(`no consistency proof from size ${size1} to size ${size2}`, { size1, size2 });
  }
  const out: LeafRange[] = [];
  if (size1 < size2) subproof(0, size1, 0, size2, true, out);
  return out;
}

export function subtreeConsistencyProofPlan(start: number, end: number, size: number): LeafRange[] {
  checkSubtree(start, end);
  if (!isIndex(size) || end > size) {
    throw rangeError(`subtree [${start}, ${end}) is not in a tree of size ${size}`, { start, end, size });
  }
  const out: LeafRange[] = [];
  if (start < end && !(start === 0 && end === size)) subproof(start, end, 0, size, true, out);
  return out;
}

/** Every perfect node a plan needs, deduplicated, in a stable order. */
export function planNodes(plan: readonly LeafRange[]): NodeId[] {
  const seen = new Set<number>();
  const out: NodeId[] = [];
  for (const r of plan) {
    for (const id of perfectNodes(r.start, r.end)) {
      const key = nodeKey(id.level, id.index);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(id);
      }
    }
  }
  return out;
}

/** Reads a perfect node's hash; `undefined` when storage lacks it (a corrupt or short store). */
export type NodeLookup = (id: NodeId) => Uint8Array | undefined;

/** MTH(D[start:end]) from perfect nodes: the right fold of its decomposition. */
export function hashRange(range: LeafRange, lookup: NodeLookup, hasher: MerkleHasher): Uint8Array {
  if (range.start === range.end) return hasher.emptyRoot;
  const nodes = perfectNodes(range.start, range.end);
  let acc: Uint8Array | undefined;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const id = nodes[i] as NodeId;
    const h = lookup(id);
    if (h === undefined) {
      throw new LatchkeyError(
        "LEDGER_STORE_CORRUPT",
        `tree node at level ${id.level} index ${id.index} is missing`,
        {
          level: id.level,
          index: id.index,
        },
      );
    }
    acc = acc === undefined ? h : hasher.hashChildren(h, acc);
  }
  return acc as Uint8Array;
}

export function assembleProof(
  plan: readonly LeafRange[],
  lookup: NodeLookup,
  hasher: MerkleHasher,
): Uint8Array[] {
  return plan.map((r) => hashRange(r, lookup, hasher));
}
