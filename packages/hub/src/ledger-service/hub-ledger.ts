/**
 * The hub's ledger: opened by `buildHub` on the same kind of database as the hub, signed with the
 * hub's checkpoint key, checkpointed every N entries or T seconds, and fed by the audit trail.
 *
 * Where it lives. On SQLite the ledger has its own file, `<data-dir>/ledger.sqlite`, on its own
 * better-sqlite3 connection. It cannot share the hub's file: the hub holds `latchkey.sqlite` in
 * exclusive locking mode (one hub per data directory), so a second connection cannot open it; and
 * sharing the hub's one connection would let a synchronous ledger append fall inside whatever
 * Kysely transaction happens to be open on it (better-sqlite3 nests it as a savepoint), so a
 * rollback of unrelated work could undo an acknowledged leaf. A separate file also lets
 * `latchkey verify` read the ledger while the hub runs. On PostgreSQL the ledger tables sit in the
 * hub's database and schema, on a pool of their own.
 *
 * Atomicity between the two stores is by intents (intents.ts): the ledger is the source of truth
 * and the hub database's cursors are caught up from it after a crash.
 */
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { ed25519NoteSigner, formatVerifierKey, SIG_TYPE_ED25519 } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { Ledger, PgLedgerStore, SqliteLedgerStore } from "../ledger/index.js";
import type { Dialect } from "../db/migrations.js";
import type { Database, HubDatabase, IngestTables, SyncTables } from "../db/schema.js";
import { loadOrCreateCheckpointKey } from "../keys/checkpoint-key.js";
import { AuditFeed } from "./audit-feed.js";
import { Exclusive } from "./exclusive.js";
import { ensurePrivateFile } from "../config/data-dir.js";
import type { WitnessEndpoint } from "../witness/config.js";
import { WitnessSubmitter } from "./witnesses.js";

export const LEDGER_SQLITE_FILE = "ledger.sqlite";

export interface HubLedgerOptions {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly dataDir: string;
  readonly publicUrl: string;
  readonly ledgerOrigin?: string | undefined;
  readonly checkpointEvery: { readonly entries: number; readonly seconds: number };
  /** The postgres:// URL when dialect is postgres. */
  readonly databaseUrl?: string;
  readonly pgSchema?: string | undefined;
  readonly now: () => number;
  readonly log: Logger;
  /** How often rows recorded outside a request reach the ledger (default 1000 ms). */
  readonly auditFlushMs?: number;
  /** Witnesses to submit every checkpoint to (`--witness`); none by default. */
  readonly witnesses?: readonly WitnessEndpoint[];
}

export class HubLedger {
  readonly #stopTimer: () => void;
  readonly #auditTimer: NodeJS.Timeout;
  #closed = false;

  private constructor(
    readonly ledger: Ledger,
    readonly db: Kysely<HubDatabase>,
    readonly exclusive: Exclusive,
    readonly auditFeed: AuditFeed,
    private readonly release: () => Promise<void>,
    private readonly log: Logger,
    auditFlushMs: number,
    /** Submits checkpoints to the configured witnesses; null without any. */
    readonly witnesses: WitnessSubmitter | null,
  ) {
    this.#stopTimer = ledger.startCheckpointTimer((e) => log.error({ err: e }, "ledger checkpoint failed"));
    this.#auditTimer = setInterval(() => {
      this.flushAudit().catch((e: unknown) => log.error({ err: e }, "audit feed to the ledger failed"));
    }, auditFlushMs);
    this.#auditTimer.unref();
  }

  static async open(opts: HubLedgerOptions): Promise<HubLedger> {
    const key = loadOrCreateCheckpointKey(opts.dataDir, {
      publicUrl: opts.publicUrl,
      ...(opts.ledgerOrigin === undefined ? {} : { origin: opts.ledgerOrigin }),
    });
    let store: SqliteLedgerStore | PgLedgerStore;
    let release: () => Promise<void>;
    if (opts.dialect === "postgres") {
      const { default: pg } = await import("pg"); // as in db/database.ts: only for PostgreSQL
      const pool = new pg.Pool({
        connectionString: opts.databaseUrl,
        max: 4,
        ...(opts.pgSchema === undefined ? {} : { options: `-c search_path=${opts.pgSchema}` }),
      });
      store = new PgLedgerStore(pool, opts.pgSchema === undefined ? {} : { schema: opts.pgSchema });
      release = () => pool.end();
    } else {
      ensurePrivateFile(join(opts.dataDir, LEDGER_SQLITE_FILE));
      const file = new SqliteDatabase(join(opts.dataDir, LEDGER_SQLITE_FILE), { timeout: 5000 });
      store = new SqliteLedgerStore(file);
      release = () => {
        file.close();
        return Promise.resolve();
      };
    }
    let ledger: Ledger;
    let witnesses: WitnessSubmitter | null = null;
    try {
      ledger = await Ledger.open({
        store,
        origin: key.origin,
        signer: ed25519NoteSigner(key.origin, key.seed, nodeEd25519),
        ed: nodeEd25519,
        checkpointEvery: opts.checkpointEvery,
        now: opts.now,
      });
      if (opts.witnesses !== undefined && opts.witnesses.length > 0) {
        const submitter = new WitnessSubmitter({
          ledger,
          witnesses: opts.witnesses,
          log: opts.log.child({ part: "witness" }),
        });
        ledger.onCheckpoint((cp) => submitter.submit(cp));
        witnesses = submitter;
      }
      // A verifier always finds a signed checkpoint, even of the empty log.
      const latest = (await ledger.latestCheckpoint()) ?? (await ledger.checkpoint());
      // Whatever a witness missed while the hub was down (or failed last time) goes now.
      void witnesses?.submit(latest);
    } catch (e) {
      await witnesses?.close();
      await release();
      throw e;
    } finally {
      key.seed.fill(0);
    }
    // Pick<…> turns the interface into a mapped type, which satisfies withTables' index signature.
    const db: Kysely<HubDatabase> =
      opts.db.withTables<Pick<IngestTables & SyncTables, keyof (IngestTables & SyncTables)>>();
    const exclusive = new Exclusive(db as Kysely<unknown>, opts.dialect);
    const feed = new AuditFeed(db, ledger, exclusive, opts.now);
    const hubLedger = new HubLedger(
      ledger,
      db,
      exclusive,
      feed,
      release,
      opts.log,
      opts.auditFlushMs ?? 1000,
      witnesses,
    );
    // Catch up audit rows a crash left outside the ledger before anything new happens.
    await hubLedger.flushAudit();
    opts.log.info(
      {
        origin: key.origin,
        size: await ledger.size(),
        verifierKey: hubLedger.verifierKey,
        witnesses: opts.witnesses?.map((w) => w.name) ?? [],
      },
      "ledger open",
    );
    return hubLedger;
  }

  get origin(): string {
    return this.ledger.origin;
  }

  /** The C2SP verifier key of the hub's checkpoints (`<origin>+<key id>+<base64>`). */
  get verifierKey(): string {
    return formatVerifierKey(this.ledger.origin, SIG_TYPE_ED25519, this.ledger.publicKey);
  }

  /** Appends every audit row not yet in the ledger. */
  flushAudit(): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    return this.auditFeed.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#auditTimer);
    this.#stopTimer();
    // Let in-flight writers finish, then stop.
    this.#closed = true;
    await this.exclusive.drain();
    // Queued behind any append or checkpoint in flight inside the ledger, so those finish first.
    await this.ledger.checkpointIfDue().catch(() => undefined);
    // Requests in flight are abandoned; the next start submits the latest checkpoint again.
    await this.witnesses?.close();
    await this.release();
    this.log.debug("ledger closed");
  }
}
