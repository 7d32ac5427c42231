/**
 * Bringing a lock's user slots and credentials to what the grants call for (reconcile.ts writes
 * the wanted rows): take away what should go, set up user slots and schedules, then send
 * credentials. Every credential × lock row is persisted before and after each step (`sending` is
 * written before the request leaves), so a hub killed at any point resumes where it was: a
 * `sending` row is simply sent again (setting a credential on the same slot is idempotent).
 * A refusal marks the row failed(reason) and retries it with exponential backoff; an unreachable
 * lock leaves rows pending.
 */
import { fromHex, type LockId } from "@latchkey/protocol";
import type { CredentialSyncTable, LockUserTable } from "../db/schema.js";
import { LockUnreachable, type LockSession } from "../drivers/lock-driver.js";
import type { Breaker } from "./breaker.js";
import type { AgentContext } from "./context.js";
import type { DesiredUser } from "./desired.js";
import { backoffMs } from "./backoff.js";
import { hasWorkToDo, SyncState } from "./reconcile.js";

type Row = CredentialSyncTable;

export class CredentialPush {
  constructor(
    private readonly ctx: AgentContext,
    readonly lockId: LockId,
    private readonly breaker: Breaker,
  ) {}

  /** One round over the lock's due rows; returns when the next row comes due (Infinity: none). */
  async run(session: LockSession): Promise<number> {
    const { db } = this.ctx.opts;
    const at = Date.now();
    const rows = await db
      .selectFrom("credential_sync")
      .selectAll()
      .where("lock_id", "=", this.lockId)
      .where(hasWorkToDo)
      // Least-tried first: a few refused rows must not starve the rest behind the breaker.
      .orderBy("attempts")
      .orderBy("credential_index")
      .execute();
    let nextDue = Number.POSITIVE_INFINITY;
    const due = rows.filter((r) => {
      if (Number(r.next_attempt_at) <= at) return true;
      nextDue = Math.min(nextDue, Number(r.next_attempt_at));
      return false;
    });
    for (const r of due.filter((r) => r.state === SyncState.Removing)) await this.#remove(session, r);
    const users = await db.selectFrom("lock_users").selectAll().where("lock_id", "=", this.lockId).execute();
    const userOk = new Map<number, string | null>();
    for (const u of users) {
      if (u.desired_json === u.applied_json) {
        userOk.set(Number(u.user_index), null);
        continue;
      }
      userOk.set(Number(u.user_index), await this.#applyUser(session, u));
    }
    for (const r of due.filter((r) => r.state !== SyncState.Removing)) {
      const refusal = userOk.get(Number(r.user_index));
      if (refusal !== null && refusal !== undefined) {
        await this.#mark(r, SyncState.Failed, refusal, Number(r.attempts) + 1);
        continue;
      }
      await this.#send(session, r);
    }
    const failed = await db
      .selectFrom("credential_sync")
      .select((eb) => eb.fn.min("next_attempt_at").as("next"))
      .where("lock_id", "=", this.lockId)
      .where("state", "in", [SyncState.Failed, SyncState.Pending, SyncState.Removing])
      .where("next_attempt_at", ">", at)
      .executeTakeFirst();
    const next = Number(failed?.next ?? NaN);
    if (Number.isFinite(next) && next < Number.MAX_SAFE_INTEGER) nextDue = Math.min(nextDue, next);
    return nextDue;
  }

  async #mark(
    r: Row,
    state: SyncState,
    reason: string | null,
    attempts: number,
    extra: Partial<Row> = {},
  ): Promise<void> {
    const { db, now } = this.ctx.opts;
    const retryAt =
      state === SyncState.Failed ||
      (state === SyncState.Pending && attempts > 0) ||
      (state === SyncState.Removing && reason !== null)
        ? Date.now() + backoffMs(attempts, this.ctx.policy)
        : Date.now();
    await db
      .updateTable("credential_sync")
      .set({ state, reason, attempts, next_attempt_at: retryAt, updated_at: now(), ...extra })
      .where("credential_id", "=", r.credential_id)
      .where("lock_id", "=", r.lock_id)
      .execute();
  }

  async #send(session: LockSession, r: Row): Promise<void> {
    if (r.sealed === null)
      return this.#mark(r, SyncState.Failed, "no sealed copy for this lock", Number(r.attempts));
    const attempts = Number(r.attempts) + 1;
    await this.#mark(r, SyncState.Sending, null, attempts);
    let code: string;
    try {
      code = await session.setCredential({
        credentialType: Number(r.wire_type),
        credentialIndex: Number(r.credential_index),
        userIndex: Number(r.user_index),
        sealed: fromHex(r.sealed),
      });
    } catch (e) {
      if (e instanceof LockUnreachable) await this.#mark(r, SyncState.Pending, "lock unreachable", attempts);
      throw e;
    }
    if (code === "OK") {
      await this.#mark(r, SyncState.Set, null, 0);
      this.breaker.succeeded();
    } else {
      await this.#mark(r, SyncState.Failed, code, attempts);
      this.breaker.refused();
    }
  }

  async #remove(session: LockSession, r: Row): Promise<void> {
    const { db } = this.ctx.opts;
    const attempts = Number(r.attempts) + 1;
    let code: string;
    try {
      code = await session.clearCredential(Number(r.wire_type), Number(r.credential_index));
    } catch (e) {
      if (e instanceof LockUnreachable) await this.#mark(r, SyncState.Removing, "lock unreachable", attempts);
      throw e;
    }
    if (code !== "OK") {
      await this.#mark(r, SyncState.Removing, code, attempts);
      this.breaker.refused();
      return;
    }
    const cred = await db
      .selectFrom("credentials")
      .select("status")
      .where("id", "=", r.credential_id)
      .executeTakeFirst();
    // A revoked credential's sealed copy is destroyed; an ungranted one stays for a later grant.
    await this.#mark(r, SyncState.Removed, r.reason, 0, cred?.status === "active" ? {} : { sealed: null });
    this.breaker.succeeded();
  }

  /** Applies a user slot (or clears it); returns null when done, else the refusal reason. */
  async #applyUser(session: LockSession, u: LockUserTable): Promise<string | null> {
    const { db, now } = this.ctx.opts;
    const index = Number(u.user_index);
    const save = (applied: string | null): Promise<unknown> =>
      db
        .updateTable("lock_users")
        .set({ applied_json: applied, updated_at: now() })
        .where("lock_id", "=", this.lockId)
        .where("person_id", "=", u.person_id)
        .execute();
    if (u.desired_json === null) {
      // Only once none of the person's credentials is still on the lock.
      const still = await db
        .selectFrom("credential_sync")
        .select("credential_id")
        .where("lock_id", "=", this.lockId)
        .where("user_index", "=", index)
        .where("state", "in", [SyncState.Set, SyncState.Sending, SyncState.Removing])
        .executeTakeFirst();
      if (still !== undefined) return null;
      const code = await session.clearUser(index);
      if (code !== "OK" && code !== "LOCK_USER_UNKNOWN") return code;
      await save(null);
      return null;
    }
    const refusal = await session.applyUser(index, JSON.parse(u.desired_json) as DesiredUser);
    if (refusal !== null) {
      this.breaker.refused();
      return refusal;
    }
    await save(u.desired_json);
    return null;
  }
}
