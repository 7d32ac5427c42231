/**
 * One writer per key (the audit feed, each lock's ingestion): an in-process queue, and on
 * PostgreSQL also a session advisory lock held on one pooled connection, so several hub processes
 * never ingest the same lock or feed the same audit rows at once. A process that dies loses its
 * session and with it the lock.
 */
import { sql, type Kysely } from "kysely";
import type { Dialect } from "../db/migrations.js";

/**
 * On PostgreSQL each holder keeps one pooled connection for its advisory lock while its work
 * uses others; capping the holders below the pool size (10) means they can never take every
 * connection and wait on each other.
 */
const MAX_PG_HOLDERS = 4;

export class Exclusive {
  readonly #tails = new Map<string, Promise<unknown>>();
  #holders = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly db: Kysely<unknown>,
    private readonly dialect: Dialect,
  ) {}

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const run = previous.then(
      () => this.#locked(key, fn),
      () => this.#locked(key, fn),
    );
    const tail = run.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** Resolves when every queued run has finished. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }

  async #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.dialect !== "postgres") return fn();
    // A finishing holder hands its slot straight to the next waiter, so the cap is exact.
    if (this.#holders >= MAX_PG_HOLDERS) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#holders++;
    try {
      return await this.#advisory(key, fn);
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#holders--;
      else next();
    }
  }

  #advisory<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(hashtext('latchkey/ledger-writer'), hashtext(${key}))`.execute(conn);
      try {
        return await fn();
      } finally {
        await sql`select pg_advisory_unlock(hashtext('latchkey/ledger-writer'), hashtext(${key}))`.execute(
          conn,
        );
      }
    });
  }
}
