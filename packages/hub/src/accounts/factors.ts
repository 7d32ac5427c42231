/**
 * Second factors: TOTP (RFC 6238, SHA-1, 6 digits, 30 s, ±1 step; each time step is accepted
 * once), WebAuthn passkeys, and 10 single-use recovery codes. TOTP secrets are sealed with the
 * hub key at rest; recovery codes are stored as keyed hashes.
 */
import { randomBytes, randomUUID } from "node:crypto";
import * as OTPAuth from "otpauth";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { AccountTable } from "../db/schema.js";

const TOTP_PERIOD = 30;
export const RECOVERY_CODE_COUNT = 10;

function totpFor(account: AccountTable, base32: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: "Latchkey",
    label: account.username,
    algorithm: "SHA1",
    digits: 6,
    period: TOTP_PERIOD,
    secret: OTPAuth.Secret.fromBase32(base32),
  });
}

/** The WebAuthn library, loaded at the first passkey ceremony: most starts never need its memory. */
const webauthn = () => import("@simplewebauthn/server");

const totpContext = (accountId: string): string => `latchkey/totp/${accountId}`;

export async function beginTotp(
  ctx: HubContext,
  account: AccountTable,
): Promise<{ secret: string; uri: string }> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  await ctx.db
    .updateTable("accounts")
    .set({ totp_pending_sealed: ctx.secret.seal(secret, totpContext(account.id)) })
    .where("id", "=", account.id)
    .execute();
  return { secret, uri: totpFor(account, secret).toString() };
}

/** The accepted time step for `code`, or null. Steps at or before `lastStep` are refused. */
function matchTotp(
  ctx: HubContext,
  account: AccountTable,
  sealed: string,
  code: string,
  lastStep: number | null,
): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const totp = totpFor(account, ctx.secret.open(sealed, totpContext(account.id)));
  const now = ctx.now();
  const delta = totp.validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  const step = Math.floor(now / 1000 / TOTP_PERIOD) + delta;
  if (lastStep !== null && step <= lastStep) return null;
  return step;
}

/** Confirms a pending enrolment; returns false when the code is wrong. */
export async function confirmTotp(ctx: HubContext, account: AccountTable, code: string): Promise<boolean> {
  if (account.totp_pending_sealed === null) {
    throw new LatchkeyError("AUTH_FACTOR_STATE", "no TOTP enrolment in progress; begin one first");
  }
  const step = matchTotp(ctx, account, account.totp_pending_sealed, code, null);
  if (step === null) return false;
  await ctx.db
    .updateTable("accounts")
    .set({ totp_secret_sealed: account.totp_pending_sealed, totp_pending_sealed: null, totp_last_step: step })
    .where("id", "=", account.id)
    .execute();
  return true;
}

/** Verifies a TOTP code for sign-in or step-up, consuming its time step. */
export async function verifyTotp(ctx: HubContext, account: AccountTable, code: string): Promise<boolean> {
  if (account.totp_secret_sealed === null) return false;
  const step = matchTotp(ctx, account, account.totp_secret_sealed, code, account.totp_last_step);
  if (step === null) return false;
  // Conditional update: of two concurrent uses of one code, exactly one wins.
  const result = await ctx.db
    .updateTable("accounts")
    .set({ totp_last_step: step })
    .where("id", "=", account.id)
    .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Replaces the account's recovery codes by 10 new ones, returned once in clear. */
export async function issueRecoveryCodes(ctx: HubContext, accountId: string): Promise<string[]> {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const codes: string[] = [];
  for (let i = 0; i < RECOVERY_CODE_COUNT; i++) {
    const bytes = randomBytes(15);
    let s = "";
    for (const b of bytes) s += alphabet[b % alphabet.length];
    codes.push(`${s.slice(0, 5)}-${s.slice(5, 10)}-${s.slice(10, 15)}`);
  }
  await ctx.db.deleteFrom("recovery_codes").where("account_id", "=", accountId).execute();
  await ctx.db
    .insertInto("recovery_codes")
    .values(
      codes.map((c) => ({
        id: randomUUID(),
        account_id: accountId,
        code_hash: ctx.secret.keyedHash("recovery", normaliseRecoveryCode(c)),
        used_at: null,
      })),
    )
    .execute();
  return codes;
}

export async function useRecoveryCode(ctx: HubContext, accountId: string, code: string): Promise<boolean> {
  const hash = ctx.secret.keyedHash("recovery", normaliseRecoveryCode(code));
  const result = await ctx.db
    .updateTable("recovery_codes")
    .set({ used_at: ctx.now() })
    .where("account_id", "=", accountId)
    .where("code_hash", "=", hash)
    .where("used_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function hasSecondFactor(ctx: HubContext, account: AccountTable): Promise<boolean> {
  if (account.totp_secret_sealed !== null) return true;
  const pk = await ctx.db
    .selectFrom("passkeys")
    .select("id")
    .where("account_id", "=", account.id)
    .executeTakeFirst();
  return pk !== undefined;
}

async function setChallenge(ctx: HubContext, sessionHash: string, challenge: string): Promise<void> {
  await ctx.db.updateTable("sessions").set({ challenge }).where("id_hash", "=", sessionHash).execute();
}

/** Takes the session's pending challenge (single use). */
async function takeChallenge(ctx: HubContext, sessionHash: string): Promise<string> {
  const row = await ctx.db
    .selectFrom("sessions")
    .select("challenge")
    .where("id_hash", "=", sessionHash)
    .executeTakeFirst();
  if (row?.challenge === null || row === undefined) {
    throw new LatchkeyError("AUTH_FACTOR_STATE", "no passkey ceremony in progress; request options first");
  }
  await ctx.db.updateTable("sessions").set({ challenge: null }).where("id_hash", "=", sessionHash).execute();
  return row.challenge;
}

export async function passkeyRegistrationOptions(
  ctx: HubContext,
  account: AccountTable,
  sessionHash: string,
) {
  const existing = await ctx.db
    .selectFrom("passkeys")
    .select(["id", "transports"])
    .where("account_id", "=", account.id)
    .execute();
  const { generateRegistrationOptions } = await webauthn();
  const options = await generateRegistrationOptions({
    rpName: "Latchkey",
    rpID: ctx.rpId,
    userName: account.username,
    userID: new TextEncoder().encode(account.id),
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.id })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    // ES256 first: locks verify P-256 passkey signatures for remote unlocks (then EdDSA, RS256).
    supportedAlgorithmIDs: [-7, -8, -257],
  });
  await setChallenge(ctx, sessionHash, options.challenge);
  return options;
}

export async function registerPasskey(
  ctx: HubContext,
  account: AccountTable,
  sessionHash: string,
  response: RegistrationResponseJSON,
): Promise<boolean> {
  const expectedChallenge = await takeChallenge(ctx, sessionHash);
  const { verifyRegistrationResponse } = await webauthn();
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: ctx.origin,
      expectedRPID: ctx.rpId,
      requireUserVerification: false,
    });
  } catch {
    return false;
  }
  if (!verification.verified) return false;
  const cred = verification.registrationInfo.credential;
  await ctx.db
    .insertInto("passkeys")
    .values({
      id: cred.id,
      account_id: account.id,
      public_key: Buffer.from(cred.publicKey).toString("base64url"),
      counter: cred.counter,
      transports: JSON.stringify(cred.transports ?? []),
      created_at: ctx.now(),
    })
    .execute();
  return true;
}

export async function passkeyAuthenticationOptions(
  ctx: HubContext,
  account: AccountTable,
  sessionHash: string,
) {
  const existing = await ctx.db
    .selectFrom("passkeys")
    .select("id")
    .where("account_id", "=", account.id)
    .execute();
  if (existing.length === 0) throw new LatchkeyError("AUTH_FACTOR_STATE", "this account has no passkey");
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: ctx.rpId,
    allowCredentials: existing.map((p) => ({ id: p.id })),
    userVerification: "preferred",
  });
  await setChallenge(ctx, sessionHash, options.challenge);
  return options;
}

export async function verifyPasskey(
  ctx: HubContext,
  account: AccountTable,
  sessionHash: string,
  response: AuthenticationResponseJSON,
): Promise<boolean> {
  const expectedChallenge = await takeChallenge(ctx, sessionHash);
  const stored = await ctx.db
    .selectFrom("passkeys")
    .selectAll()
    .where("id", "=", response.id)
    .where("account_id", "=", account.id)
    .executeTakeFirst();
  if (stored === undefined) return false;
  const { verifyAuthenticationResponse } = await webauthn();
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: ctx.origin,
      expectedRPID: ctx.rpId,
      credential: {
        id: stored.id,
        publicKey: new Uint8Array(Buffer.from(stored.public_key, "base64url")),
        counter: stored.counter,
      },
      requireUserVerification: false,
    });
  } catch {
    return false;
  }
  if (!verification.verified) return false;
  await ctx.db
    .updateTable("passkeys")
    .set({ counter: verification.authenticationInfo.newCounter })
    .where("id", "=", stored.id)
    .execute();
  return true;
}
