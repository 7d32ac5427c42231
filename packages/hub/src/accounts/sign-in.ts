/**
 * Signing in: user name and password (a session in stage "mfa", or "enrol" while the account has
 * no second factor), then a second factor (stage "full"); later proofs refresh step-up. Every
 * failure on a secret is throttled per account and per address and answered with one message, so
 * the answer says nothing about which part was wrong.
 */
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { AccountTable, SessionTable } from "../db/schema.js";
import { ACCOUNT_POLICY, ADDRESS_POLICY } from "../abuse/rate-limit.js";
import { recordAudit } from "../audit/audit.js";
import { createSession, endSession, rotateSession, type IssuedSession } from "../sessions/sessions.js";
import type { PasswordHasher } from "./password-policy.js";
import { hasSecondFactor, useRecoveryCode, verifyPasskey, verifyTotp } from "./factors.js";

/** What the account rules need beyond the hub's context: the password hasher. */
export interface AccountsContext extends HubContext {
  readonly passwords: PasswordHasher;
}

/** The caller's own session and the account it belongs to. */
export interface Own {
  readonly session: SessionTable;
  readonly account: AccountTable;
}

/** A new session for an account, with the account it belongs to. */
export interface SignedIn {
  readonly account: AccountTable;
  readonly session: IssuedSession;
}

export type SecondFactorProof =
  | { readonly method: "totp"; readonly code: string }
  | { readonly method: "recovery"; readonly code: string }
  | { readonly method: "passkey"; readonly response: AuthenticationResponseJSON };

export function normaliseUsername(u: string): string {
  return u.toLowerCase();
}

/** Throttle keys: password guesses per user name, second-factor guesses per account, any per address. */
export const passwordKey = (username: string): string => `acct:${username}`;
export const secondFactorKey = (accountId: string): string => `mfa:${accountId}`;
export const addressKey = (ip: string): string => `ip:${ip}`;

/** Counts a failed attempt on a secret against the account (if known) and the address, then refuses. */
export async function failAttempt(
  ctx: HubContext,
  kind: string,
  keys: { account?: string; ip: string },
): Promise<never> {
  ctx.metrics.authFailure(kind);
  if (keys.account !== undefined) await ctx.throttle.fail(keys.account, ACCOUNT_POLICY);
  await ctx.throttle.fail(addressKey(keys.ip), ADDRESS_POLICY);
  throw new LatchkeyError("AUTH_INVALID_CREDENTIALS", kind === "link" ? "invalid" : "wrong credentials");
}

/** Whether first-run setup is still needed (no account exists yet). */
export async function isSetupRequired(ctx: HubContext): Promise<boolean> {
  const any = await ctx.db.selectFrom("accounts").select("id").limit(1).executeTakeFirst();
  return any === undefined;
}

/**
 * Checks a user name and password (an unknown name costs the same time as a wrong password) and
 * opens a session that must prove a second factor next; `replacing`, the browser's session
 * before (of whichever account), ends.
 */
export async function signIn(
  ctx: AccountsContext,
  input: { username: string; password: string; ip: string; replacing: SessionTable | null },
): Promise<SignedIn> {
  const username = normaliseUsername(input.username);
  const accountKey = passwordKey(username);
  await ctx.throttle.check([accountKey, addressKey(input.ip)]);
  const account = await ctx.db
    .selectFrom("accounts")
    .selectAll()
    .where("username", "=", username)
    .executeTakeFirst();
  const ok = await ctx.passwords.verify(
    account?.password_hash ?? (await ctx.passwords.dummyHash()),
    input.password,
  );
  if (account === undefined || !ok) {
    await recordAudit(ctx.db, ctx.now(), {
      actorAccountId: null,
      action: "auth.login.failed",
      details: { username },
      ip: input.ip,
    });
    return failAttempt(ctx, "password", { account: accountKey, ip: input.ip });
  }
  await ctx.throttle.reset(accountKey);
  if (input.replacing !== null) await endSession(ctx, input.replacing.id_hash);
  const stage = (await hasSecondFactor(ctx, account)) ? "mfa" : "enrol";
  return { account, session: await createSession(ctx, account.id, stage, null) };
}

/**
 * Proves a second factor. A session in stage "mfa" is replaced by a full one (`rotated`, whose
 * cookie the browser must now hold) and the sign-in is audited; a full session keeps its id and
 * has its step-up refreshed. Either way the session is full with a second factor proven now.
 */
export async function proveSecondFactor(
  ctx: HubContext,
  own: Own,
  input: { proof: SecondFactorProof; ip: string },
): Promise<{ rotated: IssuedSession | null; csrfToken: string; mfaAt: number }> {
  const { session, account } = own;
  const { proof, ip } = input;
  const accountKey = secondFactorKey(account.id);
  await ctx.throttle.check([accountKey, addressKey(ip)]);
  let ok: boolean;
  switch (proof.method) {
    case "totp":
      ok = await verifyTotp(ctx, account, proof.code);
      break;
    case "recovery":
      ok = await useRecoveryCode(ctx, account.id, proof.code);
      break;
    case "passkey":
      ok = await verifyPasskey(ctx, account, session.id_hash, proof.response);
      break;
  }
  if (!ok) return failAttempt(ctx, proof.method, { account: accountKey, ip });
  await ctx.throttle.reset(accountKey);
  const now = ctx.now();
  let rotated: IssuedSession | null = null;
  if (session.stage === "mfa") {
    rotated = await rotateSession(ctx, session, "full", now);
    await recordAudit(ctx.db, now, {
      actorAccountId: account.id,
      action: "auth.login",
      targetType: "account",
      targetId: account.id,
      details: { method: proof.method },
      ip,
    });
  } else {
    await ctx.db
      .updateTable("sessions")
      .set({ mfa_at: now })
      .where("id_hash", "=", session.id_hash)
      .execute();
  }
  if (proof.method === "recovery") {
    await recordAudit(ctx.db, now, {
      actorAccountId: account.id,
      action: "auth.recovery-code.used",
      targetType: "account",
      targetId: account.id,
      ip,
    });
  }
  return { rotated, csrfToken: rotated?.csrfToken ?? session.csrf_token, mfaAt: now };
}
