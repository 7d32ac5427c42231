/**
 * The account's own security settings: enrolling a second factor (TOTP or passkey), replacing the
 * recovery codes, changing the password. Changing a factor on a full session needs step-up; the
 * first enrolment does not. After any change every session of the account ends (other devices
 * must sign in again) and this browser gets a fresh full session with a fresh second factor.
 */
import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { AccountTable, SessionTable } from "../db/schema.js";
import { recordAudit } from "../audit/audit.js";
import {
  createSession,
  endAllSessions,
  hasFreshSecondFactor,
  type IssuedSession,
} from "../sessions/sessions.js";
import { checkPasswordPolicy } from "./password-policy.js";
import {
  beginTotp,
  confirmTotp,
  hasSecondFactor,
  issueRecoveryCodes,
  passkeyRegistrationOptions,
  registerPasskey,
} from "./factors.js";
import {
  addressKey,
  failAttempt,
  passwordKey,
  secondFactorKey,
  type AccountsContext,
  type Own,
} from "./sign-in.js";

/** The browser's new full session after a change, and the recovery codes (shown once) if new ones were issued. */
export interface FactorChanged {
  readonly session: IssuedSession;
  readonly mfaAt: number;
  readonly recoveryCodes: string[] | null;
}

/** Refuses (AUTH_STEP_UP_REQUIRED) a full session without a fresh second factor. */
export function requireStepUpUnlessEnrolling(ctx: HubContext, session: SessionTable): void {
  if (session.stage === "full" && !hasFreshSecondFactor(ctx, session)) {
    throw new LatchkeyError(
      "AUTH_STEP_UP_REQUIRED",
      "confirm your second factor again (step-up) for this action",
    );
  }
}

/** Starts TOTP enrolment: the secret and otpauth URI, shown once. */
export function beginTotpEnrolment(ctx: HubContext, own: Own): Promise<{ secret: string; uri: string }> {
  requireStepUpUnlessEnrolling(ctx, own.session);
  return beginTotp(ctx, own.account);
}

/** WebAuthn registration options for adding a passkey. */
export function passkeyEnrolmentOptions(ctx: HubContext, own: Own) {
  requireStepUpUnlessEnrolling(ctx, own.session);
  return passkeyRegistrationOptions(ctx, own.account, own.session.id_hash);
}

/** Finishes TOTP enrolment with a current code. */
export function confirmTotpEnrolment(
  ctx: HubContext,
  own: Own,
  input: { code: string; ip: string },
): Promise<FactorChanged> {
  return enrolFactor(ctx, own, input.ip, "totp", () => confirmTotp(ctx, own.account, input.code));
}

/** Registers a passkey. */
export function enrolPasskey(
  ctx: HubContext,
  own: Own,
  input: { response: RegistrationResponseJSON; ip: string },
): Promise<FactorChanged> {
  return enrolFactor(ctx, own, input.ip, "passkey", () =>
    registerPasskey(ctx, own.account, own.session.id_hash, input.response),
  );
}

/** Replaces the recovery codes by new ones (the caller has passed step-up). */
export function replaceRecoveryCodes(
  ctx: HubContext,
  account: AccountTable,
  ip: string,
): Promise<FactorChanged> {
  return afterFactorChange(ctx, account, ip, "account.recovery-codes.replace", true);
}

/**
 * Changes the password (the caller has passed step-up): the current one is checked and throttled
 * like sign-in, the new one must meet the policy.
 */
export async function changePassword(
  ctx: AccountsContext,
  account: AccountTable,
  input: { currentPassword: string; newPassword: string; ip: string },
): Promise<FactorChanged> {
  const key = passwordKey(account.username);
  await ctx.throttle.check([key, addressKey(input.ip)]);
  if (!(await ctx.passwords.verify(account.password_hash, input.currentPassword))) {
    return failAttempt(ctx, "password", { account: key, ip: input.ip });
  }
  checkPasswordPolicy(input.newPassword, account.username);
  await ctx.db
    .updateTable("accounts")
    .set({ password_hash: await ctx.passwords.hash(input.newPassword) })
    .where("id", "=", account.id)
    .execute();
  return afterFactorChange(ctx, account, input.ip, "account.password.change", false);
}

/**
 * The one path every second factor's enrolment takes: step-up unless this is the first
 * enrolment, the same per-account and per-address throttle as sign-in, then either a counted
 * failure or the factor change (the first factor also issues recovery codes).
 */
async function enrolFactor(
  ctx: HubContext,
  own: Own,
  ip: string,
  factor: "totp" | "passkey",
  verify: () => Promise<boolean>,
): Promise<FactorChanged> {
  const { session, account } = own;
  requireStepUpUnlessEnrolling(ctx, session);
  const key = secondFactorKey(account.id);
  await ctx.throttle.check([key, addressKey(ip)]);
  const first = !(await hasSecondFactor(ctx, account));
  if (!(await verify())) return failAttempt(ctx, `${factor}-enrol`, { account: key, ip });
  return afterFactorChange(ctx, account, ip, `account.${factor}.enrol`, first);
}

async function afterFactorChange(
  ctx: HubContext,
  account: AccountTable,
  ip: string,
  action: string,
  issueCodes: boolean,
): Promise<FactorChanged> {
  const now = ctx.now();
  const recoveryCodes = issueCodes ? await issueRecoveryCodes(ctx, account.id) : null;
  await ctx.db
    .updateTable("accounts")
    .set({ factors_changed_at: now })
    .where("id", "=", account.id)
    .execute();
  await endAllSessions(ctx, account.id);
  const session = await createSession(ctx, account.id, "full", now);
  await recordAudit(ctx.db, now, {
    actorAccountId: account.id,
    action,
    targetType: "account",
    targetId: account.id,
    ip,
  });
  return { session, mfaAt: now, recoveryCodes };
}
