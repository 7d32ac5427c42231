/**
 * The account's own devices: its browser sessions (see them, end one, end all but this one) and
 * its passkeys (see them, remove one). Everything here is scoped to the account: another
 * account's session or passkey is answered exactly like one that does not exist (HUB_NOT_FOUND).
 * Sessions are named by their public id (sessions/sessions.ts), never by cookie or stored hash.
 */
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { SessionTable } from "../db/schema.js";
import { recordAudit } from "../audit/audit.js";
import { isLive, publicSessionId, STEP_UP_WINDOW_MS, type SessionStage } from "../sessions/sessions.js";
import type { Own } from "./sign-in.js";

export interface AccountSession {
  readonly id: string;
  readonly current: boolean;
  readonly stage: SessionStage;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Until when a full session's step-up holds; null when it has none. */
  readonly stepUpUntil: number | null;
}

export interface AccountPasskey {
  readonly id: string;
  readonly createdAt: number;
  readonly transports: string[];
}

function notFound(): LatchkeyError {
  return new LatchkeyError("HUB_NOT_FOUND", "not found");
}

/** The account's live sessions (expired ones are not shown and cannot be named). */
async function liveSessions(ctx: HubContext, accountId: string): Promise<SessionTable[]> {
  const rows = await ctx.db.selectFrom("sessions").selectAll().where("account_id", "=", accountId).execute();
  const now = ctx.now();
  return rows.filter((s) => isLive(ctx, s, now));
}

/** The account's live sessions, the caller's own first (seen now), then newest activity first. */
export async function listSessions(ctx: HubContext, own: Own): Promise<AccountSession[]> {
  const current = own.session.id_hash;
  const rows = await liveSessions(ctx, own.account.id);
  rows.sort((a, b) => {
    if (a.id_hash === current) return -1;
    if (b.id_hash === current) return 1;
    return b.last_seen_at - a.last_seen_at || b.created_at - a.created_at;
  });
  return rows.map((s) => ({
    id: publicSessionId(s.id_hash),
    current: s.id_hash === current,
    stage: s.stage as SessionStage,
    createdAt: s.created_at,
    lastSeenAt: s.id_hash === current ? ctx.now() : s.last_seen_at,
    stepUpUntil: s.stage === "full" && s.mfa_at !== null ? s.mfa_at + STEP_UP_WINDOW_MS : null,
  }));
}

/** Ends one of the account's sessions by public id; `signedOut` when it was the caller's own. */
export async function endAccountSession(
  ctx: HubContext,
  own: Own,
  input: { sessionId: string; ip: string },
): Promise<{ signedOut: boolean }> {
  const { session, account } = own;
  const target = (await liveSessions(ctx, account.id)).find(
    (s) => publicSessionId(s.id_hash) === input.sessionId,
  );
  if (target === undefined) throw notFound();
  const signedOut = target.id_hash === session.id_hash;
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom("sessions")
      .where("id_hash", "=", target.id_hash)
      .where("account_id", "=", account.id)
      .execute();
    await recordAudit(trx, ctx.now(), {
      actorAccountId: account.id,
      action: "account.session.end",
      targetType: "session",
      targetId: input.sessionId,
      details: { current: signedOut },
      ip: input.ip,
    });
  });
  return { signedOut };
}

/** Ends every session of the account but the caller's own; returns how many ended. */
export async function endOtherSessions(ctx: HubContext, own: Own, ip: string): Promise<number> {
  const { session, account } = own;
  return ctx.db.transaction().execute(async (trx) => {
    const result = await trx
      .deleteFrom("sessions")
      .where("account_id", "=", account.id)
      .where("id_hash", "!=", session.id_hash)
      .executeTakeFirst();
    const ended = Number(result.numDeletedRows);
    await recordAudit(trx, ctx.now(), {
      actorAccountId: account.id,
      action: "account.session.end-others",
      targetType: "account",
      targetId: account.id,
      details: { ended },
      ip,
    });
    return ended;
  });
}

function parseTransports(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === "string") : [];
  } catch {
    return [];
  }
}

/** The account's passkeys, oldest first (ids, when added, transports; no keys). */
export async function listPasskeys(ctx: HubContext, accountId: string): Promise<AccountPasskey[]> {
  const rows = await ctx.db
    .selectFrom("passkeys")
    .select(["id", "created_at", "transports"])
    .where("account_id", "=", accountId)
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .execute();
  return rows.map((p) => ({ id: p.id, createdAt: p.created_at, transports: parseTransports(p.transports) }));
}

/**
 * Removes a passkey (the caller has passed step-up); refused (AUTH_LAST_SECOND_FACTOR) when it is
 * the account's only second factor. As for every factor change, the account's other sessions
 * end; returns how many did.
 */
export async function removePasskey(
  ctx: HubContext,
  own: Own,
  input: { passkeyId: string; ip: string },
): Promise<number> {
  const { session, account } = own;
  const { passkeyId } = input;
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom("accounts")
      .select("totp_secret_sealed")
      .where("id", "=", account.id)
      .executeTakeFirstOrThrow();
    const keys = await trx.selectFrom("passkeys").select("id").where("account_id", "=", account.id).execute();
    if (!keys.some((k) => k.id === passkeyId)) throw notFound();
    if (current.totp_secret_sealed === null && keys.length <= 1) {
      throw new LatchkeyError(
        "AUTH_LAST_SECOND_FACTOR",
        "this is your only second factor; add another passkey or an authenticator app first",
      );
    }
    await trx
      .deleteFrom("passkeys")
      .where("id", "=", passkeyId)
      .where("account_id", "=", account.id)
      .execute();
    await trx.updateTable("accounts").set({ factors_changed_at: now }).where("id", "=", account.id).execute();
    const ended = await trx
      .deleteFrom("sessions")
      .where("account_id", "=", account.id)
      .where("id_hash", "!=", session.id_hash)
      .executeTakeFirst();
    const endedSessions = Number(ended.numDeletedRows);
    await recordAudit(trx, ctx.now(), {
      actorAccountId: account.id,
      action: "account.passkey.remove",
      targetType: "passkey",
      targetId: passkeyId,
      details: { endedSessions, remainingPasskeys: keys.length - 1 },
      ip: input.ip,
    });
    return endedSessions;
  });
}
