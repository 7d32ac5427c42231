/**
 * Browser sessions. The cookie holds 32 random bytes; the database keeps only their SHA-256, so
 * a database leak yields no usable session. Every session has an idle and an absolute timeout,
 * a CSRF token, a stage (enrol → mfa → full) and the time its second factor was last proven
 * (step-up). Signing in, finishing a second factor and changing a factor all issue a new id.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { HubContext } from "../runtime/context.js";
import type { AccountTable, SessionTable } from "../db/schema.js";

export type SessionStage = "enrol" | "mfa" | "full";

export const STEP_UP_WINDOW_MS = 5 * 60_000;
/** last_seen_at is refreshed at most this often, so reads do not each write. */
const TOUCH_EVERY_MS = 30_000;

export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-latchkey_session" : "latchkey_session";
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface IssuedSession {
  readonly token: string;
  readonly idHash: string;
  readonly csrfToken: string;
  readonly stage: SessionStage;
}

export async function createSession(
  ctx: HubContext,
  accountId: string,
  stage: SessionStage,
  mfaAt: number | null,
): Promise<IssuedSession> {
  const token = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(32).toString("base64url");
  const now = ctx.now();
  const idHash = hashToken(token);
  await ctx.db
    .insertInto("sessions")
    .values({
      id_hash: idHash,
      account_id: accountId,
      stage,
      created_at: now,
      last_seen_at: now,
      mfa_at: mfaAt,
      csrf_token: csrfToken,
      challenge: null,
    })
    .execute();
  return { token, idHash, csrfToken, stage };
}

/** Whether a session is within both its idle and its absolute timeout at `now`. */
export function isLive(ctx: HubContext, session: SessionTable, now: number): boolean {
  return (
    now - session.last_seen_at <= ctx.config.sessionIdleMs &&
    now - session.created_at <= ctx.config.sessionAbsoluteMs
  );
}

/** The live session for a cookie token, or null (expired sessions are deleted on sight). */
export async function findSession(ctx: HubContext, token: string | undefined): Promise<SessionTable | null> {
  if (token === undefined || token.length === 0 || token.length > 100) return null;
  const idHash = hashToken(token);
  const row = await ctx.db
    .selectFrom("sessions")
    .selectAll()
    .where("id_hash", "=", idHash)
    .executeTakeFirst();
  if (row === undefined) return null;
  const now = ctx.now();
  if (!isLive(ctx, row, now)) {
    await endSession(ctx, idHash);
    return null;
  }
  if (now - row.last_seen_at > TOUCH_EVERY_MS) {
    await ctx.db.updateTable("sessions").set({ last_seen_at: now }).where("id_hash", "=", idHash).execute();
  }
  return row;
}

/** The account a live session belongs to (null once the account is gone). */
export async function sessionAccount(ctx: HubContext, session: SessionTable): Promise<AccountTable | null> {
  return (
    (await ctx.db
      .selectFrom("accounts")
      .selectAll()
      .where("id", "=", session.account_id)
      .executeTakeFirst()) ?? null
  );
}

/** Replaces a session by a new one (new id and CSRF token), e.g. when a login completes. */
export async function rotateSession(
  ctx: HubContext,
  old: SessionTable,
  stage: SessionStage,
  mfaAt: number | null,
): Promise<IssuedSession> {
  await endSession(ctx, old.id_hash);
  return createSession(ctx, old.account_id, stage, mfaAt);
}

/** Ends one session (sign-out, or a browser signing in anew); an unknown one is no error. */
export async function endSession(ctx: HubContext, idHash: string): Promise<void> {
  await ctx.db.deleteFrom("sessions").where("id_hash", "=", idHash).execute();
}

/** Ends every session of an account (a factor or the password changed), keeping none. */
export async function endAllSessions(ctx: HubContext, accountId: string): Promise<void> {
  await ctx.db.deleteFrom("sessions").where("account_id", "=", accountId).execute();
}

export function hasFreshSecondFactor(ctx: HubContext, session: SessionTable): boolean {
  return (
    session.stage === "full" && session.mfa_at !== null && ctx.now() - session.mfa_at <= STEP_UP_WINDOW_MS
  );
}

/** Sessions seen within the idle timeout (the active-sessions metric). */
export async function countActiveSessions(ctx: HubContext): Promise<number> {
  const row = await ctx.db
    .selectFrom("sessions")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("last_seen_at", ">", ctx.now() - ctx.config.sessionIdleMs)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const PUBLIC_ID_TAG = "latchkey/session-public-id/v1\0";

/**
 * The public id of a session: 16 hex digits of SHA-256 over a domain tag and the stored hash of
 * its cookie, so neither the cookie value nor its stored hash ever leaves the hub, and the public
 * id cannot be turned back into either.
 */
export function publicSessionId(idHash: string): string {
  return createHash("sha256").update(PUBLIC_ID_TAG).update(idHash).digest("hex").slice(0, 16);
}
