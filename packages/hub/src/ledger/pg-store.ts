/**
 * The ledger on PostgreSQL (`pg`), for several stateless hub processes sharing one database.
 * Appends lock the single `ledger_state` row (`SELECT … FOR UPDATE`), so writers in different
 * processes are serialised and each sees the size the previous one committed; a process whose
 * cached frontier is stale reloads it. Commits are durable with PostgreSQL's default
 * `synchronous_commit = on`.
 */
import type { Pool, PoolClient } from "pg";
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

export interface PgLedgerOptions {
  /** Schema holding the ledger_* tables (created if missing); default: the pool's search_path. */
  readonly schema?: string;
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const num = (v: string | number): number => Number(v);

interface CheckpointRow {
  size: string;
  root: Buffer;
  note: string;
  created_at: string;
}

export class PgLedgerStore implements LedgerStore {
  private snapshot: TreeSnapshot = EMPTY_SNAPSHOT;
  private readonly t: (name: string) => string;
  private readonly schemaName: string | undefined;

  constructor(
    private readonly pool: Pool,
    options: PgLedgerOptions = {},
  ) {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new LatchkeyError("LK_INTERNAL", "ledger schema name must be a lower-case SQL identifier");
    }
    this.schemaName = schema;
    this.t = (name) => (schema === undefined ? name : `${schema}.${name}`);
  }

  async init(): Promise<void> {
    const t = this.t;
    await this.tx(async (c) => {
      // Several hub processes may start at once: serialise the DDL.
      await c.query("SELECT pg_advisory_xact_lock(hashtext('latchkey/ledger/init'))");
      if (this.schemaName !== undefined) await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schemaName}`);
      await c.query(`
        CREATE TABLE IF NOT EXISTS ${t("ledger_state")} (id INTEGER PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL);
        INSERT INTO ${t("ledger_state")} (id, size) VALUES (1, 0) ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS ${t("ledger_leaf")} (
          idx BIGINT PRIMARY KEY, kind INTEGER NOT NULL, lock_id TEXT, appended_at BIGINT NOT NULL, data BYTEA NOT NULL);
        CREATE INDEX IF NOT EXISTS ledger_leaf_lock ON ${t("ledger_leaf")} (lock_id, appended_at) WHERE lock_id IS NOT NULL;
        CREATE TABLE IF NOT EXISTS ${t("ledger_node")} (id BIGINT PRIMARY KEY, hash BYTEA NOT NULL);
        CREATE TABLE IF NOT EXISTS ${t("ledger_checkpoint")} (
          size BIGINT PRIMARY KEY, root BYTEA NOT NULL, note TEXT NOT NULL, created_at BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS ${t("ledger_cosignature")} (
          checkpoint_size BIGINT NOT NULL REFERENCES ${t("ledger_checkpoint")} (size),
          kind TEXT NOT NULL CHECK (kind IN ('witness', 'lock-ack')),
          signer TEXT NOT NULL, key_id BIGINT, timestamp BIGINT, signature BYTEA NOT NULL, received_at BIGINT NOT NULL,
          PRIMARY KEY (checkpoint_size, kind, signer));
        CREATE INDEX IF NOT EXISTS ledger_cosignature_signer ON ${t("ledger_cosignature")} (kind, signer, checkpoint_size);
        CREATE OR REPLACE FUNCTION ${t("ledger_append_only")}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
      `);
      for (const table of ["ledger_leaf", "ledger_node", "ledger_checkpoint"]) {
        await c.query(`DROP TRIGGER IF EXISTS ${table}_append_only ON ${t(table)}`);
        await c.query(
          `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${t(table)}
           FOR EACH ROW EXECUTE FUNCTION ${t("ledger_append_only")}()`,
        );
      }
    });
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  private async nodes(c: Pool | PoolClient, keys: readonly number[]): Promise<Map<number, Uint8Array>> {
    const res = await c.query<{ id: string; hash: Buffer }>(
      `SELECT id, hash FROM ${this.t("ledger_node")} WHERE id = ANY($1::bigint[])`,
      [keys],
    );
    return new Map(res.rows.map((r) => [num(r.id), u8(r.hash)]));
  }

  async append(
    leaves: readonly LeafInput[],
    leafHashes: readonly Uint8Array[],
    hasher: MerkleHasher,
  ): Promise<AppendResult> {
    const t = this.t;
    try {
      const { snap, next } = await this.tx(async (c) => {
        const res = await c.query<{ size: string }>(
          `SELECT size FROM ${t("ledger_state")} WHERE id = 1 FOR UPDATE`,
        );
        const size = num((res.rows[0] as { size: string }).size);
        let snap = this.snapshot;
        if (size !== snap.size) {
          const keys = frontierKeys(size);
          const found = await this.nodes(
            c,
            keys.map((k) => k.key),
          );
          const frontier = keys.map(({ level, key }) => {
            const hash = found.get(key);
            if (hash === undefined) {
              throw new LatchkeyError(
                "LEDGER_STORE_CORRUPT",
                `frontier node ${key} of tree size ${size} is missing`,
                {
                  size,
                },
              );
            }
            return { level, hash };
          });
          snap = { size, frontier };
        }
        const { rows, next } = appendToSnapshot(snap, leafHashes, hasher);
        await c.query(
          `INSERT INTO ${t("ledger_leaf")} (idx, kind, lock_id, appended_at, data)
           SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::bytea[])`,
          [
            leaves.map((_, i) => snap.size + i),
            leaves.map((l) => l.kind),
            leaves.map((l) => l.lockId),
            leaves.map((l) => l.appendedAt),
            leaves.map((l) => buf(l.data)),
          ],
        );
        await c.query(
          `INSERT INTO ${t("ledger_node")} (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])`,
          [rows.map((r) => r.key), rows.map((r) => buf(r.hash))],
        );
        await c.query(`UPDATE ${t("ledger_state")} SET size = $1 WHERE id = 1`, [next.size]);
        return { snap, next };
      });
      this.snapshot = next;
      return { firstIndex: snap.size, size: next.size, root: snapshotRoot(next, hasher) };
    } catch (e) {
      this.snapshot = EMPTY_SNAPSHOT;
      throw e;
    }
  }

  async size(): Promise<number> {
    const res = await this.pool.query<{ size: string }>(
      `SELECT size FROM ${this.t("ledger_state")} WHERE id = 1`,
    );
    return num((res.rows[0] as { size: string }).size);
  }

  readNodes(keys: readonly number[]): Promise<Map<number, Uint8Array>> {
    return this.nodes(this.pool, keys);
  }

  async readLeaves(start: number, end: number): Promise<StoredLeaf[]> {
    const res = await this.pool.query<{
      idx: string;
      kind: number;
      lock_id: string | null;
      appended_at: string;
      data: Buffer;
    }>(
      `SELECT idx, kind, lock_id, appended_at, data FROM ${this.t("ledger_leaf")}
       WHERE idx >= $1 AND idx < $2 ORDER BY idx`,
      [start, end],
    );
    return res.rows.map((r) => ({
      index: num(r.idx),
      kind: r.kind,
      lockId: r.lock_id,
      appendedAt: num(r.appended_at),
      data: u8(r.data),
    }));
  }

  private toCheckpoint(r: CheckpointRow): StoredCheckpoint {
    return { size: num(r.size), rootHash: u8(r.root), note: r.note, createdAt: num(r.created_at) };
  }

  async putCheckpoint(cp: StoredCheckpoint): Promise<StoredCheckpoint> {
    await this.pool.query(
      `INSERT INTO ${this.t("ledger_checkpoint")} (size, root, note, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (size) DO NOTHING`,
      [cp.size, buf(cp.rootHash), cp.note, cp.createdAt],
    );
    return (await this.getCheckpoint(cp.size)) as StoredCheckpoint;
  }

  async getCheckpoint(size: number): Promise<StoredCheckpoint | undefined> {
    const res = await this.pool.query<CheckpointRow>(
      `SELECT size, root, note, created_at FROM ${this.t("ledger_checkpoint")} WHERE size = $1`,
      [size],
    );
    const r = res.rows[0];
    return r === undefined ? undefined : this.toCheckpoint(r);
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const res = await this.pool.query<CheckpointRow>(
      `SELECT size, root, note, created_at FROM ${this.t("ledger_checkpoint")} ORDER BY size DESC LIMIT 1`,
    );
    const r = res.rows[0];
    return r === undefined ? undefined : this.toCheckpoint(r);
  }

  async listCheckpoints(afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    const res = await this.pool.query<CheckpointRow>(
      `SELECT size, root, note, created_at FROM ${this.t("ledger_checkpoint")} WHERE size > $1 ORDER BY size LIMIT $2`,
      [afterSize, limit],
    );
    return res.rows.map((r) => this.toCheckpoint(r));
  }

  async putCosignature(c: StoredCosignature): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.t("ledger_cosignature")}
         (checkpoint_size, kind, signer, key_id, timestamp, signature, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (checkpoint_size, kind, signer) DO UPDATE SET key_id = excluded.key_id,
         timestamp = excluded.timestamp, signature = excluded.signature, received_at = excluded.received_at`,
      [c.checkpointSize, c.kind, c.signer, c.keyId, c.timestamp, buf(c.signature), c.receivedAt],
    );
  }

  async latestCosignedSize(signers: readonly string[]): Promise<number | undefined> {
    const unique = [...new Set(signers)];
    if (unique.length === 0) return undefined;
    // The primary key makes COUNT(*) count distinct signers per checkpoint.
    const res = await this.pool.query<{ checkpoint_size: string }>(
      `SELECT checkpoint_size FROM ${this.t("ledger_cosignature")}
       WHERE kind = 'witness' AND signer = ANY($1::text[])
       GROUP BY checkpoint_size HAVING COUNT(*) = $2 ORDER BY checkpoint_size DESC LIMIT 1`,
      [unique, unique.length],
    );
    const r = res.rows[0];
    return r === undefined ? undefined : num(r.checkpoint_size);
  }

  async listCosignatures(checkpointSize: number): Promise<StoredCosignature[]> {
    const res = await this.pool.query<{
      checkpoint_size: string;
      kind: CosignatureKind;
      signer: string;
      key_id: string | null;
      timestamp: string | null;
      signature: Buffer;
      received_at: string;
    }>(
      `SELECT checkpoint_size, kind, signer, key_id, timestamp, signature, received_at
       FROM ${this.t("ledger_cosignature")} WHERE checkpoint_size = $1 ORDER BY kind, signer COLLATE "C"`,
      [checkpointSize],
    );
    return res.rows.map((r) => ({
      checkpointSize: num(r.checkpoint_size),
      kind: r.kind,
      signer: r.signer,
      keyId: r.key_id === null ? null : num(r.key_id),
      timestamp: r.timestamp === null ? null : num(r.timestamp),
      signature: u8(r.signature),
      receivedAt: num(r.received_at),
    }));
  }
}
