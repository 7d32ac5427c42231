/**
 * First run, sign-in, second factors, step-up, and the account's own security settings: the HTTP
 * side (request schemas, the session cookie, the reply). The rules live in accounts/ (sign-in.ts,
 * first-run.ts, factor-changes.ts).
 */
import { Type } from "typebox";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import type { AccountTable } from "../db/schema.js";
import { Name, Ok, PasswordInput, SessionInfo, Strict, Username, errorResponses } from "./schemas.js";
import {
  endSession,
  sessionCookieName,
  STEP_UP_WINDOW_MS,
  type IssuedSession,
} from "../sessions/sessions.js";
import { ACCOUNT_DEVICE_ROUTES, ownSession } from "./account-device-routes.js";
import { passkeyAuthenticationOptions } from "../accounts/factors.js";
import { isSetupRequired, proveSecondFactor, signIn, type SignedIn } from "../accounts/sign-in.js";
import { acceptInvitation, setUpOwner } from "../accounts/first-run.js";
import {
  beginTotpEnrolment,
  changePassword,
  confirmTotpEnrolment,
  enrolPasskey,
  passkeyEnrolmentOptions,
  replaceRecoveryCodes,
  type FactorChanged,
} from "../accounts/factor-changes.js";

// Kept for the routes that still import it from here; the rule lives in accounts/sign-in.ts.

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

/** The browser now holds the new session: its cookie is set and the session described. */
function signedIn(call: Call<RouteSchema>, { account, session }: SignedIn) {
  setSessionCookie(call, session);
  return sessionInfo(account, session, null);
}

/** After a factor change the browser holds a fresh full session; recovery codes are shown once. */
function factorChanged(call: Call<RouteSchema>, account: AccountTable, changed: FactorChanged) {
  setSessionCookie(call, changed.session);
  return {
    session: sessionInfo(account, changed.session, changed.mfaAt),
    recoveryCodes: changed.recoveryCodes,
  };
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
      return { setupRequired: await isSetupRequired(ctx) };
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
      const { body } = call;
      return signedIn(
        call,
        await setUpOwner(call.ctx, {
          token: body.token,
          username: body.username,
          password: body.password,
          organisationName: body.organisationName,
          ip: call.caller.ip,
        }),
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
      const { body, caller } = call;
      return signedIn(
        call,
        await acceptInvitation(call.ctx, {
          token: body.token,
          password: body.password,
          ip: caller.ip,
          replacing: caller.session,
        }),
      );
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
      const { body, caller } = call;
      return signedIn(
        call,
        await signIn(call.ctx, {
          username: body.username,
          password: body.password,
          ip: caller.ip,
          replacing: caller.session,
        }),
      );
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
      const own = ownSession(c);
      const proved = await proveSecondFactor(call.ctx, own, { proof: call.body, ip: call.caller.ip });
      if (proved.rotated !== null) setSessionCookie(c, proved.rotated);
      return sessionInfo(own.account, { stage: "full", csrfToken: proved.csrfToken }, proved.mfaAt);
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
        sessionInfo(account, { stage: session.stage, csrfToken: session.csrf_token }, session.mfa_at),
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
      await endSession(call.ctx, session.id_hash);
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
      return beginTotpEnrolment(call.ctx, ownSession(call));
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
      const c = call as Call<RouteSchema>;
      const own = ownSession(c);
      const changed = await confirmTotpEnrolment(call.ctx, own, { code: call.body.code, ip: call.caller.ip });
      return factorChanged(c, own.account, changed);
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
      return passkeyEnrolmentOptions(call.ctx, ownSession(call));
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
      const c = call as Call<RouteSchema>;
      const own = ownSession(c);
      const changed = await enrolPasskey(call.ctx, own, { response: call.body.response, ip: call.caller.ip });
      return factorChanged(c, own.account, changed);
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
      return factorChanged(c, account, await replaceRecoveryCodes(call.ctx, account, call.caller.ip));
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
      const { account } = ownSession(c);
      const changed = await changePassword(call.ctx, account, {
        currentPassword: call.body.currentPassword,
        newPassword: call.body.newPassword,
        ip: call.caller.ip,
      });
      return factorChanged(c, account, changed);
    },
  }),
  ...ACCOUNT_DEVICE_ROUTES,
];
