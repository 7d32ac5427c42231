/**
 * First run, sign-in, second factors, step-up, and the account's own security settings.
 * Every failure on a secret (password, code, passkey, link) is throttled per account and per
 * address and answered with one message, so the answer says nothing about which part was wrong.
 */
import { randomUUID } from "node:crypto";
import { Type } from "typebox";
import { LatchkeyError } from "@latchkey/protocol";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import type { ApiContext } from "./context.js";
import type { Kysely } from "kysely";
import type { AccountTable, Database, OneTimeLinkTable, SessionTable } from "../db/schema.js";
import { Name, Ok, PasswordInput, SessionInfo, Strict, Username, errorResponses } from "./schemas.js";
import { ACCOUNT_POLICY, ADDRESS_POLICY } from "../abuse/rate-limit.js";
import { recordAudit } from "../audit/audit.js";
import {
  createSession,
  endAllSessions,
  hasFreshSecondFactor,
  rotateSession,
  sessionCookieName,
  STEP_UP_WINDOW_MS,
  type IssuedSession,
} from "../sessions/sessions.js";
import { checkPasswordPolicy } from "../accounts/password-policy.js";
import { ACCOUNT_DEVICE_ROUTES } from "./account-device-routes.js";
import { consumeLink, linkUsername } from "../accounts/links.js";
import {
  beginTotp,
  confirmTotp,
  hasSecondFactor,
  issueRecoveryCodes,
  passkeyAuthenticationOptions,
  passkeyRegistrationOptions,
  registerPasskey,
  useRecoveryCode,
  verifyPasskey,
  verifyTotp,
} from "../accounts/factors.js";

const B64 = Type.String({ pattern: "^[A-Za-z0-9_-]*={0,2}$", maxLength: 16_384 });

const RegistrationResponse = Strict({
  id: B64,
  rawId: B64,
  type: Type.Literal("public-key"),
  authenticatorAttachment: Type.Optional(
    Type.Union([Type.Literal("platform"), Type.Literal("cross-platform")]),
  ),
  clientExtensionResults: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 16 }),
  response: Strict({
    clientDataJSON: B64,
    attestationObject: B64,
    authenticatorData: Type.Optional(B64),
    publicKey: Type.Optional(B64),
    publicKeyAlgorithm: Type.Optional(Type.Integer()),
    transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
  }),
});

const AuthenticationResponse = Strict({
  id: B64,
  rawId: B64,
  type: Type.Literal("public-key"),
  authenticatorAttachment: Type.Optional(
    Type.Union([Type.Literal("platform"), Type.Literal("cross-platform")]),
  ),
  clientExtensionResults: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 16 }),
  response: Strict({
    clientDataJSON: B64,
    authenticatorData: B64,
    signature: B64,
    userHandle: Type.Optional(B64),
  }),
});

const TotpCode = Type.String({ pattern: "^[0-9]{6}$" });
const RecoveryCode = Type.String({ minLength: 1, maxLength: 40 });

const SecondFactor = Type.Union([
  Strict({ method: Type.Literal("totp"), code: TotpCode }),
  Strict({ method: Type.Literal("recovery"), code: RecoveryCode }),
  Strict({ method: Type.Literal("passkey"), response: AuthenticationResponse }),
]);

const WithRecovery = Strict({
  session: SessionInfo,
  recoveryCodes: Type.Union([Type.Array(Type.String()), Type.Null()]),
});

const errors = errorResponses(400, 401, 403, 404, 409, 422, 429);

export function normaliseUsername(u: string): string {
  return u.toLowerCase();
}

function setSessionCookie(call: Call<RouteSchema>, issued: IssuedSession): void {
  const ctx = call.ctx;
  call.reply.setCookie(sessionCookieName(ctx.secureCookies), issued.token, {
    httpOnly: true,
    secure: ctx.secureCookies,
    sameSite: "strict",
    path: "/",
    maxAge: Math.floor(ctx.config.sessionAbsoluteMs / 1000),
  });
}

function sessionInfo(
  ctx: ApiContext,
  account: AccountTable,
  issued: { stage: string; csrfToken: string },
  mfaAt: number | null,
) {
  return {
    stage: issued.stage as "enrol" | "mfa" | "full",
    csrfToken: issued.csrfToken,
    account: { id: account.id, username: account.username, isOwner: account.is_owner === 1 },
    stepUpUntil: mfaAt === null ? null : mfaAt + STEP_UP_WINDOW_MS,
  };
}

function ownSession(call: Call<RouteSchema>): { session: SessionTable; account: AccountTable } {
  const { session, account } = call.caller;
  if (session === null || account === null) throw new LatchkeyError("AUTH_REQUIRED", "sign in first");
  return { session, account };
}

/** Changing a factor on a full session needs step-up; the first enrolment does not. */
function requireStepUpUnlessEnrolling(call: Call<RouteSchema>, session: SessionTable): void {
  if (session.stage === "full" && !hasFreshSecondFactor(call.ctx, session)) {
    throw new LatchkeyError(
      "AUTH_STEP_UP_REQUIRED",
      "confirm your second factor again (step-up) for this action",
    );
  }
}

async function failAttempt(
  ctx: ApiContext,
  kind: string,
  keys: { account?: string; ip: string },
): Promise<never> {
  ctx.metrics.authFailure(kind);
  if (keys.account !== undefined) await ctx.throttle.fail(keys.account, ACCOUNT_POLICY);
  await ctx.throttle.fail(`ip:${keys.ip}`, ADDRESS_POLICY);
  throw new LatchkeyError("AUTH_INVALID_CREDENTIALS", kind === "link" ? "invalid" : "wrong credentials");
}

/**
 * A factor was added or replaced: every session of the account ends (other devices must sign in
 * again) and this browser gets a fresh full session with a fresh second factor.
 */
async function afterFactorChange(
  call: Call<RouteSchema>,
  account: AccountTable,
  action: string,
  firstFactor: boolean,
) {
  const ctx = call.ctx;
  const now = ctx.now();
  const recoveryCodes = firstFactor ? await issueRecoveryCodes(ctx, account.id) : null;
  await ctx.db
    .updateTable("accounts")
    .set({ factors_changed_at: now })
    .where("id", "=", account.id)
    .execute();
  await endAllSessions(ctx, account.id);
  const issued = await createSession(ctx, account.id, "full", now);
  setSessionCookie(call, issued);
  await recordAudit(ctx.db, now, {
    actorAccountId: account.id,
    action,
    targetType: "account",
    targetId: account.id,
    ip: call.caller.ip,
  });
  return { session: sessionInfo(ctx, account, issued, now), recoveryCodes };
}

/**
 * Enrols a second factor (TOTP or passkey), the one path every factor takes: step-up unless this
 * is the first enrolment, the same per-account and per-address throttle as sign-in, then either a
 * counted failure or the factor change (all sessions end; the first factor also issues recovery
 * codes).
 */
async function enrolFactor(
  call: Call<RouteSchema>,
  factor: "totp" | "passkey",
  verify: (session: SessionTable, account: AccountTable) => Promise<boolean>,
) {
  const { ctx, caller } = call;
  const { session, account } = ownSession(call);
  requireStepUpUnlessEnrolling(call, session);
  const key = `mfa:${account.id}`;
  await ctx.throttle.check([key, `ip:${caller.ip}`]);
  const first = !(await hasSecondFactor(ctx, account));
  if (!(await verify(session, account))) {
    return failAttempt(ctx, `${factor}-enrol`, { account: key, ip: caller.ip });
  }
  return afterFactorChange(call, account, `account.${factor}.enrol`, first);
}

/**
 * Uses a setup link or an invitation. Setup and an invitation for a new user name create the
 * account (password policy applies). An invitation addressed to an account that already exists
 * (a site's manager cannot tell the two apart when inviting) is accepted with that account's own
 * password, throttled like sign-in; the account then gets the role and, like after sign-in, must
 * prove its second factor.
 */
/** The site role an invitation names, for this account (replacing any it had there). */
async function setSiteRole(trx: Kysely<Database>, accountId: string, link: OneTimeLinkTable, now: number) {
  if (link.site_id === null || link.role === null) return;
  await trx
    .deleteFrom("site_roles")
    .where("account_id", "=", accountId)
    .where("site_id", "=", link.site_id)
    .execute();
  await trx
    .insertInto("site_roles")
    .values({ account_id: accountId, site_id: link.site_id, role: link.role, created_at: now })
    .execute();
}

async function createAccountWithSession(
  call: Call<RouteSchema>,
  purpose: "setup" | "invite",
  token: string,
  usernameInput: string | null,
  password: string,
  organisationName?: string,
) {
  const ctx = call.ctx;
  const ip = call.caller.ip;
  const addressed = purpose === "invite" ? await linkUsername(ctx, purpose, token) : null;
  const accountKey = addressed === null ? null : `acct:${normaliseUsername(addressed)}`;
  await ctx.throttle.check(accountKey === null ? [`ip:${ip}`] : [accountKey, `ip:${ip}`]);
  const now = ctx.now();
  let id: string = randomUUID();
  let joined = false;
  // Validate the password before consuming the link, so a policy refusal does not burn it.
  if (usernameInput !== null) checkPasswordPolicy(password, usernameInput);
  let username = "";
  try {
    await ctx.db.transaction().execute(async (trx) => {
      if (purpose === "setup") {
        const existing = await trx.selectFrom("accounts").select("id").limit(1).executeTakeFirst();
        if (existing !== undefined)
          throw new LatchkeyError("AUTH_SETUP_DONE", "the owner account already exists; sign in");
      }
      const link = await consumeLink(ctx, trx, purpose, token);
      username = normaliseUsername(usernameInput ?? link.username ?? "");
      const taken = await trx
        .selectFrom("accounts")
        .select(["id", "password_hash", "is_owner"])
        .where("username", "=", username)
        .executeTakeFirst();
      if (taken !== undefined && purpose === "invite") {
        if (!(await ctx.passwords.verify(taken.password_hash, password)))
          throw new LatchkeyError("AUTH_INVALID_CREDENTIALS", "wrong credentials");
        id = taken.id;
        joined = true;
        // The owner already holds every role; anyone else gets this site's role from the link.
        if (taken.is_owner !== 1) await setSiteRole(trx, id, link, now);
        await recordAudit(trx, now, {
          actorAccountId: id,
          action: "account.invite.accept",
          siteId: link.site_id,
          targetType: "account",
          targetId: id,
          details: { username, role: taken.is_owner === 1 ? "owner" : (link.role ?? "") },
          ip,
        });
        return;
      }
      checkPasswordPolicy(password, username);
      if (taken !== undefined)
        throw new LatchkeyError("HUB_CONFLICT", "user name already taken", { field: "username" });
      await trx
        .insertInto("accounts")
        .values({
          id,
          username,
          password_hash: await ctx.passwords.hash(password),
          is_owner: purpose === "setup" ? 1 : 0,
          created_at: now,
          totp_secret_sealed: null,
          totp_pending_sealed: null,
          totp_last_step: null,
          factors_changed_at: now,
        })
        .execute();
      if (purpose === "setup") {
        await trx
          .insertInto("organisation")
          .values({ id: randomUUID(), name: organisationName ?? "My organisation", created_at: now })
          .execute();
      }
      if (purpose === "invite") await setSiteRole(trx, id, link, now);
      await recordAudit(trx, now, {
        actorAccountId: id,
        action: purpose === "setup" ? "account.owner.create" : "account.invite.accept",
        siteId: link.site_id,
        targetType: "account",
        targetId: id,
        details: { username, role: link.role ?? "owner" },
        ip,
      });
    });
  } catch (e) {
    if (e instanceof LatchkeyError && e.code === "AUTH_SETUP_INVALID") {
      ctx.metrics.authFailure("link");
      await ctx.throttle.fail(`ip:${ip}`, ADDRESS_POLICY);
    }
    if (e instanceof LatchkeyError && e.code === "AUTH_INVALID_CREDENTIALS") {
      // The link stays unused (the transaction rolled back); the guess counts like a sign-in.
      await recordAudit(ctx.db, now, {
        actorAccountId: null,
        action: "auth.login.failed",
        details: { username, via: "invitation" },
        ip,
      });
      return failAttempt(ctx, "password", { account: `acct:${username}`, ip });
    }
    throw e;
  }
  const account = await ctx.db
    .selectFrom("accounts")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  if (accountKey !== null) await ctx.throttle.reset(accountKey);
  const stage = joined && (await hasSecondFactor(ctx, account)) ? "mfa" : "enrol";
  // A session of this browser for another account ends, as at sign-in.
  if (joined && call.caller.session !== null)
    await ctx.db.deleteFrom("sessions").where("id_hash", "=", call.caller.session.id_hash).execute();
  const issued = await createSession(ctx, id, stage, null);
  setSessionCookie(call, issued);
  return sessionInfo(ctx, account, issued, null);
}

export const ACCOUNT_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/setup",
    summary: "Whether first-run setup is still needed",
    tags: ["accounts"],
    access: { kind: "public" },
    schema: { response: { 200: Strict({ setupRequired: Type.Boolean() }) } },
    async handler({ ctx }) {
      const any = await ctx.db.selectFrom("accounts").select("id").limit(1).executeTakeFirst();
      return { setupRequired: any === undefined };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/setup",
    summary: "Create the owner account with the one-time setup link; a second factor must follow",
    tags: ["accounts"],
    access: { kind: "public" },
    status: 201,
    schema: {
      body: Strict({
        token: Type.String({ minLength: 1, maxLength: 128 }),
        username: Username,
        password: PasswordInput,
        organisationName: Type.Optional(Name),
      }),
      response: { 201: SessionInfo, ...errors },
    },
    async handler(call) {
      return createAccountWithSession(
        call,
        "setup",
        call.body.token,
        call.body.username,
        call.body.password,
        call.body.organisationName,
      );
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/invites/accept",
    summary:
      "Accept an invitation: choose a password (a new account) or give the invited account's own; a second factor must follow",
    tags: ["accounts"],
    access: { kind: "public" },
    status: 201,
    schema: {
      body: Strict({ token: Type.String({ minLength: 1, maxLength: 128 }), password: PasswordInput }),
      response: { 201: SessionInfo, ...errors },
    },
    async handler(call) {
      return createAccountWithSession(call, "invite", call.body.token, null, call.body.password);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/auth/login",
    summary: "Sign in with user name and password (a second factor follows)",
    tags: ["auth"],
    access: { kind: "public" },
    schema: {
      body: Strict({ username: Username, password: PasswordInput }),
      response: { 200: SessionInfo, ...errors },
    },
    async handler(call) {
      const { ctx, caller } = call;
      const username = normaliseUsername(call.body.username);
      const accountKey = `acct:${username}`;
      await ctx.throttle.check([accountKey, `ip:${caller.ip}`]);
      const account = await ctx.db
        .selectFrom("accounts")
        .selectAll()
        .where("username", "=", username)
        .executeTakeFirst();
      const ok = await ctx.passwords.verify(
        account?.password_hash ?? (await ctx.passwords.dummyHash()),
        call.body.password,
      );
      if (account === undefined || !ok) {
        await recordAudit(ctx.db, ctx.now(), {
          actorAccountId: null,
          action: "auth.login.failed",
          details: { username },
          ip: caller.ip,
        });
        return failAttempt(ctx, "password", { account: accountKey, ip: caller.ip });
      }
      await ctx.throttle.reset(accountKey);
      if (caller.session !== null)
        await ctx.db.deleteFrom("sessions").where("id_hash", "=", caller.session.id_hash).execute();
      const stage = (await hasSecondFactor(ctx, account)) ? "mfa" : "enrol";
      const issued = await createSession(ctx, account.id, stage, null);
      setSessionCookie(call, issued);
      return sessionInfo(ctx, account, issued, null);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/auth/passkey-options",
    summary: "WebAuthn assertion options for sign-in or step-up with a passkey",
    tags: ["auth"],
    access: { kind: "session", stages: ["mfa", "full"] },
    schema: { response: { 200: Type.Unknown(), ...errors } },
    async handler(call) {
      const { session, account } = ownSession(call);
      return passkeyAuthenticationOptions(call.ctx, account, session.id_hash);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/auth/second-factor",
    summary: "Prove a second factor: completes sign-in, or refreshes step-up for 5 minutes",
    tags: ["auth"],
    access: { kind: "session", stages: ["mfa", "full"] },
    schema: { body: SecondFactor, response: { 200: SessionInfo, ...errors } },
    async handler(call) {
      const c = call as Call<RouteSchema>;
      const { ctx, caller } = call;
      const { session, account } = ownSession(c);
      const accountKey = `mfa:${account.id}`;
      await ctx.throttle.check([accountKey, `ip:${caller.ip}`]);
      const body = call.body;
      let ok: boolean;
      switch (body.method) {
        case "totp":
          ok = await verifyTotp(ctx, account, body.code);
          break;
        case "recovery":
          ok = await useRecoveryCode(ctx, account.id, body.code);
          break;
        case "passkey":
          ok = await verifyPasskey(ctx, account, session.id_hash, body.response);
          break;
      }
      if (!ok) return failAttempt(ctx, body.method, { account: accountKey, ip: caller.ip });
      await ctx.throttle.reset(accountKey);
      const now = ctx.now();
      let issued: { stage: string; csrfToken: string };
      if (session.stage === "mfa") {
        const fresh = await rotateSession(ctx, session, "full", now);
        setSessionCookie(c, fresh);
        issued = fresh;
        await recordAudit(ctx.db, now, {
          actorAccountId: account.id,
          action: "auth.login",
          targetType: "account",
          targetId: account.id,
          details: { method: body.method },
          ip: caller.ip,
        });
      } else {
        await ctx.db
          .updateTable("sessions")
          .set({ mfa_at: now })
          .where("id_hash", "=", session.id_hash)
          .execute();
        issued = { stage: "full", csrfToken: session.csrf_token };
      }
      if (body.method === "recovery") {
        await recordAudit(ctx.db, now, {
          actorAccountId: account.id,
          action: "auth.recovery-code.used",
          targetType: "account",
          targetId: account.id,
          ip: caller.ip,
        });
      }
      return sessionInfo(ctx, account, issued, now);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/session",
    summary: "The current session (stage, CSRF token, step-up expiry)",
    tags: ["auth"],
    access: { kind: "session", stages: ["enrol", "mfa", "full"] },
    schema: { response: { 200: SessionInfo, ...errors } },
    handler(call) {
      const { session, account } = ownSession(call);
      return Promise.resolve(
        sessionInfo(
          call.ctx,
          account,
          { stage: session.stage, csrfToken: session.csrf_token },
          session.mfa_at,
        ),
      );
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/auth/logout",
    summary: "End this session",
    tags: ["auth"],
    access: { kind: "session", stages: ["enrol", "mfa", "full"] },
    schema: { response: { 200: Ok, ...errors } },
    async handler(call) {
      const { session } = ownSession(call);
      await call.ctx.db.deleteFrom("sessions").where("id_hash", "=", session.id_hash).execute();
      call.reply.clearCookie(sessionCookieName(call.ctx.secureCookies), { path: "/" });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/totp/begin",
    summary: "Start TOTP enrolment: returns the secret and otpauth URI, shown once",
    tags: ["account"],
    access: { kind: "session", stages: ["enrol", "full"] },
    schema: { response: { 200: Strict({ secret: Type.String(), uri: Type.String() }), ...errors } },
    async handler(call) {
      const { session, account } = ownSession(call);
      requireStepUpUnlessEnrolling(call, session);
      return beginTotp(call.ctx, account);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/totp/confirm",
    summary: "Finish TOTP enrolment with a current code; the first factor also returns recovery codes",
    tags: ["account"],
    access: { kind: "session", stages: ["enrol", "full"] },
    schema: { body: Strict({ code: TotpCode }), response: { 200: WithRecovery, ...errors } },
    async handler(call) {
      return enrolFactor(call, "totp", (_session, account) => confirmTotp(call.ctx, account, call.body.code));
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/passkeys/options",
    summary: "WebAuthn registration options for adding a passkey",
    tags: ["account"],
    access: { kind: "session", stages: ["enrol", "full"] },
    schema: { response: { 200: Type.Unknown(), ...errors } },
    async handler(call) {
      const { session, account } = ownSession(call);
      requireStepUpUnlessEnrolling(call, session);
      return passkeyRegistrationOptions(call.ctx, account, session.id_hash);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/passkeys",
    summary: "Register a passkey; the first factor also returns recovery codes",
    tags: ["account"],
    access: { kind: "session", stages: ["enrol", "full"] },
    schema: { body: Strict({ response: RegistrationResponse }), response: { 200: WithRecovery, ...errors } },
    async handler(call) {
      return enrolFactor(call, "passkey", (session, account) =>
        registerPasskey(call.ctx, account, session.id_hash, call.body.response),
      );
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/recovery-codes",
    summary: "Replace the recovery codes by 10 new ones (step-up)",
    tags: ["account"],
    access: { kind: "signed-in" },
    stepUp: true,
    schema: { response: { 200: WithRecovery, ...errors } },
    async handler(call) {
      const c = call as Call<RouteSchema>;
      const { account } = ownSession(c);
      return afterFactorChange(c, account, "account.recovery-codes.replace", true);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/password",
    summary: "Change the password (step-up); ends every other session",
    tags: ["account"],
    access: { kind: "signed-in" },
    stepUp: true,
    schema: {
      body: Strict({ currentPassword: PasswordInput, newPassword: PasswordInput }),
      response: { 200: WithRecovery, ...errors },
    },
    async handler(call) {
      const c = call as Call<RouteSchema>;
      const { ctx, caller } = call;
      const { account } = ownSession(c);
      const key = `acct:${account.username}`;
      await ctx.throttle.check([key, `ip:${caller.ip}`]);
      if (!(await ctx.passwords.verify(account.password_hash, call.body.currentPassword))) {
        return failAttempt(ctx, "password", { account: key, ip: caller.ip });
      }
      checkPasswordPolicy(call.body.newPassword, account.username);
      await ctx.db
        .updateTable("accounts")
        .set({ password_hash: await ctx.passwords.hash(call.body.newPassword) })
        .where("id", "=", account.id)
        .execute();
      return afterFactorChange(c, account, "account.password.change", false);
    },
  }),
  ...ACCOUNT_DEVICE_ROUTES,
];
