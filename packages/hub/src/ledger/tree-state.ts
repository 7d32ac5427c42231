/**
 * The append side of the stored Merkle tree, shared by the SQLite and PostgreSQL stores.
 *
 * Every perfect node (complete subtree, leaves included) is stored once, keyed by `nodeKey`,
 * which grows with every append: the node table is itself append-only. The *frontier* — the
 * popcount(size) perfect nodes covering [0, size), largest first — is all an append needs; it is
 * cached in memory and reloaded (popcount(size) point reads) whenever another writer moved the
 * tree since this process last looked.
 */
import { nodeKey, perfectNodes, type MerkleHasher } from "@latchkey/protocol";

export interface FrontierNode {
  readonly level: number;
  readonly hash: Uint8Array;
}

export interface NodeRow {
  readonly key: number;
  readonly hash: Uint8Array;
}

export interface TreeSnapshot {
  readonly size: number;
  readonly frontier: readonly FrontierNode[];
}

export const EMPTY_SNAPSHOT: TreeSnapshot = { size: 0, frontier: [] };

/** Keys of the frontier nodes of a tree of `size` leaves (what to read to rebuild a snapshot). */
export function frontierKeys(size: number): { level: number; key: number }[] {
  return perfectNodes(0, size).map((id) => ({ level: id.level, key: nodeKey(id.level, id.index) }));
}

/**
 * Appends leaf hashes to a snapshot. Returns the node rows to insert (each leaf hash and every
 * perfect node it completes) and the snapshot after the append; the input is not modified, so a
 * failed transaction leaves the cached snapshot intact.
 */
export function appendToSnapshot(
  snap: TreeSnapshot,
  leafHashes: readonly Uint8Array[],
  hasher: MerkleHasher,
): { rows: NodeRow[]; next: TreeSnapshot } {
  const frontier = [...snap.frontier];
  const rows: NodeRow[] = [];
  let size = snap.size;
  for (const leafHash of leafHashes) {
    let level = 0;
    let index = size;
    let hash = leafHash;
    rows.push({ key: nodeKey(0, index), hash });
    while (frontier.length > 0 && (frontier[frontier.length - 1] as FrontierNode).level === level) {
      const left = frontier.pop() as FrontierNode;
      hash = hasher.hashChildren(left.hash, hash);
      level++;
      index = Math.floor(index / 2);
      rows.push({ key: nodeKey(level, index), hash });
    }
    frontier.push({ level, hash });
    size++;
  }
  return { rows, next: { size, frontier } };
}

/** MTH of the whole snapshot: the right fold of its frontier. */
export function snapshotRoot(snap: TreeSnapshot, hasher: MerkleHasher): Uint8Array {
  const f = snap.frontier;
  if (f.length === 0) return hasher.emptyRoot;
  let acc = (f[f.length - 1] as FrontierNode).hash;
  for (let i = f.length - 2; i >= 0; i--) acc = hasher.hashChildren((f[i] as FrontierNode).hash, acc);
  return acc;
}
