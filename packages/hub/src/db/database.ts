/**
 * Opens the hub's database: a SQLite file (the embedded default) or PostgreSQL (scale-out), and
 * migrates it. A SQLite database is held in exclusive locking mode, so a second hub on the same
 * data directory is refused; the operating system drops the lock when a process dies, even by
 * kill -9, so a crash never leaves a stale lock behind.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import type pg from "pg";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { LatchkeyError } from "@latchkey/protocol";
import type { Database } from "./schema.js";
import { migrateToLatest, type Dialect } from "./migrations.js";
import { ensurePrivateFile } from "../config/data-dir.js";

export interface OpenedDatabase {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** "sqlite:<path>" / a bare path, or a postgres:// URL. */
  readonly url: string;
  /** PostgreSQL schema to use (created if missing); tests use one per file. */
  readonly pgSchema?: string;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith("postgres://") || url.startsWith("postgresql://");
}

export async function openDatabase(options: DatabaseOptions): Promise<OpenedDatabase> {
  return isPostgresUrl(options.url) ? openPostgres(options) : openSqlite(options.url);
}

async function openSqlite(url: string): Promise<OpenedDatabase> {
  const path = url.startsWith("sqlite:") ? url.slice("sqlite:".length) : url;
  let raw: SqliteDatabase.Database | undefined;
  try {
    // Private from birth: SQLite gives the -wal and -shm files the database file's mode.
    if (path !== ":memory:" && path !== "") ensurePrivateFile(path);
    raw = new SqliteDatabase(path, { timeout: 0 });
    // Deleted rows (revoked credentials' sealed copies, spent guest links) are overwritten with
    // zeros, not left in free pages for someone with the file to read.
    raw.pragma("secure_delete = ON");
    raw.pragma("journal_mode = WAL");
    raw.pragma("locking_mode = EXCLUSIVE");
    raw.pragma("foreign_keys = ON");
    // Exclusive mode takes its lock at the first write; take it now, so a second hub fails at
    // start rather than on its first request.
    raw.exec("BEGIN EXCLUSIVE; COMMIT;");
  } catch (e) {
    raw?.close();
    const code = (e as { code?: string }).code;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      throw new LatchkeyError(
        "HUB_DATA_DIR_LOCKED",
        `another hub is already running on ${path} (stop it first; see hub.pid next to it)`,
        undefined,
        { cause: e },
      );
    }
    throw new LatchkeyError("HUB_DATABASE_UNAVAILABLE", `cannot open SQLite database ${path}`, undefined, {
      cause: e,
    });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  try {
    await migrateToLatest(db as Kysely<unknown>, "sqlite");
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return { db, dialect: "sqlite", close: () => db.destroy() };
}

// PostgreSQL returns bigint (int8) columns as strings; every bigint we store is an epoch-ms or a
// counter well inside Number's safe range.
const pgTypes = (types: typeof pg.types) => ({
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === 20
      ? (v: string) => Number(v)
      : (types.getTypeParser(oid, format ?? "text") as (v: string) => unknown),
});

async function openPostgres(options: DatabaseOptions): Promise<OpenedDatabase> {
  const schema = options.pgSchema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new LatchkeyError("HUB_CONFIG_INVALID", "PostgreSQL schema name must be a lower-case identifier");
  }
  // Loaded only here: a SQLite hub never pays for the PostgreSQL driver's memory and start time.
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: options.url,
    types: pgTypes(pg.types),
    max: 10,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  try {
    if (schema !== undefined) await pool.query(`create schema if not exists ${schema}`);
  } catch (e) {
    await pool.end();
    throw new LatchkeyError("HUB_DATABASE_UNAVAILABLE", "cannot reach PostgreSQL", undefined, { cause: e });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db as Kysely<unknown>, "postgres");
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return { db, dialect: "postgres", close: () => db.destroy() };
}

/** The default SQLite location in a data directory, creating the directory if needed. */
export function defaultSqlitePath(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return join(dataDir, "latchkey.sqlite");
}

/** Informational only (the SQLite lock is the real guard): which process holds the data dir. */
export function writePidFile(dataDir: string): void {
  writeFileSync(join(dataDir, "hub.pid"), `${process.pid}\n`, { mode: 0o600 });
}

/** Removes hub.pid at shutdown if it still names this process. */
export function removePidFile(dataDir: string): void {
  const path = join(dataDir, "hub.pid");
  try {
    if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}
