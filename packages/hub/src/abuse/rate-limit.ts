/**
 * Failed-attempt throttling per account and per client address (ASVS 6.3.1). After a few free
 * failures each further one doubles a waiting time, capped at MAX_DELAY_MS: an attacker is slowed
 * to a handful of guesses per hour, while the owner is never locked out for good — at worst they
 * wait a few minutes. Counters live in the database so several hub processes share them, and a
 * quiet period forgets them.
 */
import type { Kysely } from "kysely";
import { LatchkeyError } from "@latchkey/protocol";
import type { Database } from "../db/schema.js";

export interface ThrottlePolicy {
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Failures older than this are forgotten. */
  readonly forgetAfterMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 60 * 60_000,
};
export const ADDRESS_POLICY: ThrottlePolicy = {
  freeFailures: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

export function delayAfter(failures: number, policy: ThrottlePolicy): number {
  const over = failures - policy.freeFailures;
  if (over < 0) return 0;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(over, 30));
}

export class Throttle {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  /** Refuses with AUTH_RATE_LIMITED (and the seconds to wait) while any key is in its delay. */
  async check(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const rows = await this.db.selectFrom("rate_limits").selectAll().where("key", "in", keys).execute();
    const now = this.now();
    let until = 0;
    for (const r of rows) until = Math.max(until, r.next_allowed_at);
    if (until > now) {
      const retryAfterSeconds = Math.ceil((until - now) / 1000);
      throw new LatchkeyError(
        "AUTH_RATE_LIMITED",
        `too many failed attempts; retry in ${retryAfterSeconds} s`,
        { retryAfterSeconds },
      );
    }
  }

  async fail(key: string, policy: ThrottlePolicy): Promise<void> {
    const now = this.now();
    const row = await this.db.selectFrom("rate_limits").selectAll().where("key", "=", key).executeTakeFirst();
    const previous = row === undefined || now - row.updated_at > policy.forgetAfterMs ? 0 : row.failures;
    const failures = previous + 1;
    const values = { failures, next_allowed_at: now + delayAfter(failures, policy), updated_at: now };
    await this.db
      .insertInto("rate_limits")
      .values({ key, ...values })
      .onConflict((oc) => oc.column("key").doUpdateSet(values))
      .execute();
  }

  async reset(key: string): Promise<void> {
    await this.db.deleteFrom("rate_limits").where("key", "=", key).execute();
  }
}
