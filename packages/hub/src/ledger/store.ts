/**
 * What the ledger needs from a database. Two implementations with identical behaviour:
 * `SqliteLedgerStore` (better-sqlite3, the embedded default) and `PgLedgerStore` (`pg`, for
 * scale-out). Each creates its own `ledger_*` tables idempotently and never touches others.
 *
 * Stores use raw prepared statements rather than Kysely: the ledger's dozen queries are fixed,
 * the append and node-read paths are hot (see bench/ledger.bench.ts), and the shared behavioural
 * test suite (ledger.test.ts) runs unchanged against both stores to keep them equal.
 */
import type { MerkleHasher } from "@latchkey/protocol";

export interface LeafInput {
  /** LedgerLeafKind, duplicated out of `data` for queries. */
  readonly kind: number;
  /** The canonical encoded leaf (encodeLedgerLeaf). */
  readonly data: Uint8Array;
  /** Hex lock id for per-door evidence queries; null for admin actions. */
  readonly lockId: string | null;
  readonly appendedAt: number;
}

export interface StoredLeaf extends LeafInput {
  readonly index: number;
}

export interface AppendResult {
  /** Index of the first appended leaf. */
  readonly firstIndex: number;
  /** Tree size after the append. */
  readonly size: number;
  /** Root hash at `size`. */
  readonly root: Uint8Array;
}

export interface StoredCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The signed note (c2sp.org/tlog-checkpoint), hub signature only. */
  readonly note: string;
  readonly createdAt: number;
}

export type CosignatureKind = "witness" | "lock-ack";

export interface StoredCosignature {
  readonly checkpointSize: number;
  readonly kind: CosignatureKind;
  /** Witness key name, or the lock's hex id for a lock acknowledgement. */
  readonly signer: string;
  /** Note key ID (witness) or null. */
  readonly keyId: number | null;
  /** Cosignature timestamp, POSIX seconds (witness) or null. */
  readonly timestamp: number | null;
  /** Witness: the 72-byte timestamped signature; lock-ack: the lock's signed record, opaque. */
  readonly signature: Uint8Array;
  readonly receivedAt: number;
}

export interface LedgerStore {
  /** Creates the ledger_* tables and triggers if missing. Idempotent. */
  init(): Promise<void>;
  /**
   * Appends leaves in one durable transaction, serialised against every other writer. Resolves
   * only after the commit is on disk.
   */
  append(
    leaves: readonly LeafInput[],
    leafHashes: readonly Uint8Array[],
    hasher: MerkleHasher,
  ): Promise<AppendResult>;
  size(): Promise<number>;
  /** Hashes of perfect nodes by nodeKey; missing keys are absent from the map. */
  readNodes(keys: readonly number[]): Promise<Map<number, Uint8Array>>;
  readLeaves(start: number, end: number): Promise<StoredLeaf[]>;
  /** Inserts a checkpoint; an identical existing one is kept (idempotent). */
  putCheckpoint(cp: StoredCheckpoint): Promise<StoredCheckpoint>;
  getCheckpoint(size: number): Promise<StoredCheckpoint | undefined>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  listCheckpoints(afterSize: number, limit: number): Promise<StoredCheckpoint[]>;
  /** Inserts or replaces the cosignature of (checkpoint, kind, signer). */
  putCosignature(c: StoredCosignature): Promise<void>;
  listCosignatures(checkpointSize: number): Promise<StoredCosignature[]>;
  /**
   * The largest checkpoint size carrying a witness cosignature from every one of `signers`
   * (witness key names), or undefined (also for an empty list).
   */
  latestCosignedSize(signers: readonly string[]): Promise<number | undefined>;
}
