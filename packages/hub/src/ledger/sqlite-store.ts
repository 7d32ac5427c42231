/**
 * The ledger on SQLite (better-sqlite3). Durability: WAL with `synchronous = FULL`, so a commit
 * returns only after the WAL is fsync'ed — an acknowledged append survives kill -9 and power
 * loss. (WAL with NORMAL would survive kill -9 but could lose the last commits on power loss.)
 * Both settings are per connection; the hub should open its database with the same settings.
 *
 * Appends run in `BEGIN IMMEDIATE` transactions, so a second process on the same file waits for
 * the writer lock and then sees the new size (the cached frontier is reloaded when it moved).
 */
import type { Database, Statement } from "better-sqlite3";
import { LatchkeyError, type MerkleHasher } from "@latchkey/protocol";
import type {
  AppendResult,
  CosignatureKind,
  LeafInput,
  LedgerStore,
  StoredCheckpoint,
  StoredCosignature,
  StoredLeaf,
} from "./store.js";
import {
  appendToSnapshot,
  EMPTY_SNAPSHOT,
  frontierKeys,
  snapshotRoot,
  type TreeSnapshot,
} from "./tree-state.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL
);
INSERT OR IGNORE INTO ledger_state (id, size) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS ledger_leaf (
  idx INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  lock_id TEXT,
  appended_at INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_leaf_lock ON ledger_leaf (lock_id, appended_at) WHERE lock_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS ledger_node (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_checkpoint (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_cosignature (
  checkpoint_size INTEGER NOT NULL REFERENCES ledger_checkpoint (size),
  kind TEXT NOT NULL CHECK (kind IN ('witness', 'lock-ack')),
  signer TEXT NOT NULL,
  key_id INTEGER,
  timestamp INTEGER,
  signature BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (checkpoint_size, kind, signer)
);
CREATE INDEX IF NOT EXISTS ledger_cosignature_signer ON ledger_cosignature (kind, signer, checkpoint_size);
CREATE TRIGGER IF NOT EXISTS ledger_leaf_no_update BEFORE UPDATE ON ledger_leaf
  BEGIN SELECT RAISE(ABORT, 'ledger_leaf is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_leaf_no_delete BEFORE DELETE ON ledger_leaf
  BEGIN SELECT RAISE(ABORT, 'ledger_leaf is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_node_no_update BEFORE UPDATE ON ledger_node
  BEGIN SELECT RAISE(ABORT, 'ledger_node is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_node_no_delete BEFORE DELETE ON ledger_node
  BEGIN SELECT RAISE(ABORT, 'ledger_node is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_checkpoint_no_update BEFORE UPDATE ON ledger_checkpoint
  BEGIN SELECT RAISE(ABORT, 'ledger_checkpoint is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_checkpoint_no_delete BEFORE DELETE ON ledger_checkpoint
  BEGIN SELECT RAISE(ABORT, 'ledger_checkpoint is append-only'); END;
`;

interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
  created_at: number;
}
interface CosignatureRow {
  checkpoint_size: number;
  kind: CosignatureKind;
  signer: string;
  key_id: number | null;
  timestamp: number | null;
  signature: Buffer;
  received_at: number;
}
interface LeafRow {
  idx: number;
  kind: number;
  lock_id: string | null;
  appended_at: number;
  data: Buffer;
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const toCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  size: r.size,
  rootHash: u8(r.root),
  note: r.note,
  createdAt: r.created_at,
});

export interface SqliteLedgerOptions {
  /** Set WAL + synchronous=FULL on the connection (default true). Turn off only in benchmarks of raw speed. */
  readonly durable?: boolean;
}

export class SqliteLedgerStore implements LedgerStore {
  private snapshot: TreeSnapshot = EMPTY_SNAPSHOT;
  private statements: ReturnType<SqliteLedgerStore["prepare"]> | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: SqliteLedgerOptions = {},
  ) {}

  init(): Promise<void> {
    if (this.options.durable !== false) {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
    }
    this.db.exec(SCHEMA);
    this.statements = this.prepare();
    return Promise.resolve();
  }

  private prepare() {
    const db = this.db;
    return {
      size: db.prepare("SELECT size FROM ledger_state WHERE id = 1").pluck() as Statement<[], number>,
      setSize: db.prepare("UPDATE ledger_state SET size = ? WHERE id = 1"),
      insertLeaf: db.prepare(
        "INSERT INTO ledger_leaf (idx, kind, lock_id, appended_at, data) VALUES (?, ?, ?, ?, ?)",
      ),
      insertNode: db.prepare("INSERT INTO ledger_node (id, hash) VALUES (?, ?)"),
      node: db.prepare("SELECT hash FROM ledger_node WHERE id = ?").pluck() as Statement<
        [number],
        Buffer | undefined
      >,
      leaves: db.prepare<[number, number], LeafRow>(
        "SELECT idx, kind, lock_id, appended_at, data FROM ledger_leaf WHERE idx >= ? AND idx < ? ORDER BY idx",
      ),
      insertCheckpoint: db.prepare(
        "INSERT INTO ledger_checkpoint (size, root, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING",
      ),
      checkpoint: db.prepare<[number], CheckpointRow>(
        "SELECT size, root, note, created_at FROM ledger_checkpoint WHERE size = ?",
      ),
      latest: db.prepare<[], CheckpointRow>(
        "SELECT size, root, note, created_at FROM ledger_checkpoint ORDER BY size DESC LIMIT 1",
      ),
      list: db.prepare<[number, number], CheckpointRow>(
        "SELECT size, root, note, created_at FROM ledger_checkpoint WHERE size > ? ORDER BY size LIMIT ?",
      ),
      putCosignature: db.prepare(
        `INSERT INTO ledger_cosignature (checkpoint_size, kind, signer, key_id, timestamp, signature, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (checkpoint_size, kind, signer) DO UPDATE SET key_id = excluded.key_id,
           timestamp = excluded.timestamp, signature = excluded.signature, received_at = excluded.received_at`,
      ),
      // Signers are deduplicated by the caller; the primary key makes COUNT(*) count signers.
      latestCosigned: db
        .prepare(
          `SELECT checkpoint_size FROM ledger_cosignature
           WHERE kind = 'witness' AND signer IN (SELECT value FROM json_each(?))
           GROUP BY checkpoint_size HAVING COUNT(*) = ? ORDER BY checkpoint_size DESC LIMIT 1`,
        )
        .pluck() as Statement<[string, number], number | undefined>,
      cosignatures: db.prepare<[number], CosignatureRow>(
        `SELECT checkpoint_size, kind, signer, key_id, timestamp, signature, received_at
         FROM ledger_cosignature WHERE checkpoint_size = ? ORDER BY kind, signer`,
      ),
    };
  }

  private get st() {
    if (this.statements === undefined) {
      throw new LatchkeyError("LK_INTERNAL", "SqliteLedgerStore used before init()");
    }
    return this.statements;
  }

  /** Current snapshot, reloaded from disk if another writer moved the tree. Call inside a transaction. */
  private currentSnapshot(): TreeSnapshot {
    const size = this.st.size.get() as number;
    if (size === this.snapshot.size) return this.snapshot;
    const frontier = frontierKeys(size).map(({ level, key }) => {
      const hash = this.st.node.get(key);
      if (hash === undefined) {
        throw new LatchkeyError(
          "LEDGER_STORE_CORRUPT",
          `frontier node ${key} of tree size ${size} is missing`,
          { size },
        );
      }
      return { level, hash: u8(hash) };
    });
    return { size, frontier };
  }

  append(
    leaves: readonly LeafInput[],
    leafHashes: readonly Uint8Array[],
    hasher: MerkleHasher,
  ): Promise<AppendResult> {
    const st = this.st;
    const run = this.db.transaction(() => {
      const snap = this.currentSnapshot();
      const { rows, next } = appendToSnapshot(snap, leafHashes, hasher);
      leaves.forEach((leaf, i) => {
        st.insertLeaf.run(snap.size + i, leaf.kind, leaf.lockId, leaf.appendedAt, leaf.data);
      });
      for (const row of rows) st.insertNode.run(row.key, row.hash);
      st.setSize.run(next.size);
      return { snap, next };
    });
    try {
      const { snap, next } = run.immediate();
      this.snapshot = next; // only after the commit
      return Promise.resolve({ firstIndex: snap.size, size: next.size, root: snapshotRoot(next, hasher) });
    } catch (e) {
      this.snapshot = EMPTY_SNAPSHOT; // force a reload from disk next time
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  size(): Promise<number> {
    return Promise.resolve(this.st.size.get() as number);
  }

  readNodes(keys: readonly number[]): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    // One short read transaction so every node comes from the same snapshot.
    this.db.transaction(() => {
      for (const key of keys) {
        const h = this.st.node.get(key);
        if (h !== undefined) out.set(key, u8(h));
      }
    })();
    return Promise.resolve(out);
  }

  readLeaves(start: number, end: number): Promise<StoredLeaf[]> {
    return Promise.resolve(
      this.st.leaves.all(start, end).map((r) => ({
        index: r.idx,
        kind: r.kind,
        lockId: r.lock_id,
        appendedAt: r.appended_at,
        data: u8(r.data),
      })),
    );
  }

  putCheckpoint(cp: StoredCheckpoint): Promise<StoredCheckpoint> {
    const stored = this.db.transaction(() => {
      this.st.insertCheckpoint.run(cp.size, cp.rootHash, cp.note, cp.createdAt);
      return this.st.checkpoint.get(cp.size) as CheckpointRow;
    })();
    return Promise.resolve(toCheckpoint(stored));
  }

  getCheckpoint(size: number): Promise<StoredCheckpoint | undefined> {
    const r = this.st.checkpoint.get(size);
    return Promise.resolve(r === undefined ? undefined : toCheckpoint(r));
  }

  latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const r = this.st.latest.get();
    return Promise.resolve(r === undefined ? undefined : toCheckpoint(r));
  }

  listCheckpoints(afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    return Promise.resolve(this.st.list.all(afterSize, limit).map(toCheckpoint));
  }

  putCosignature(c: StoredCosignature): Promise<void> {
    this.st.putCosignature.run(
      c.checkpointSize,
      c.kind,
      c.signer,
      c.keyId,
      c.timestamp,
      c.signature,
      c.receivedAt,
    );
    return Promise.resolve();
  }

  latestCosignedSize(signers: readonly string[]): Promise<number | undefined> {
    const unique = [...new Set(signers)];
    if (unique.length === 0) return Promise.resolve(undefined);
    return Promise.resolve(this.st.latestCosigned.get(JSON.stringify(unique), unique.length));
  }

  listCosignatures(checkpointSize: number): Promise<StoredCosignature[]> {
    return Promise.resolve(
      this.st.cosignatures.all(checkpointSize).map((r) => ({
        checkpointSize: r.checkpoint_size,
        kind: r.kind,
        signer: r.signer,
        keyId: r.key_id,
        timestamp: r.timestamp,
        signature: u8(r.signature),
        receivedAt: r.received_at,
      })),
    );
  }
}
