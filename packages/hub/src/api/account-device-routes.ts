/**
 * The account's own devices: its browser sessions (see them, end one, end all but this one) and
 * its passkeys (see them, remove one with step-up): the HTTP side. The rules, and the scoping to
 * the caller's account, live in accounts/devices.ts.
 */
import { Type } from "typebox";
import { LatchkeyError } from "@latchkey/protocol";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import type { AccountTable, SessionTable } from "../db/schema.js";
import { EpochMs, Strict, errorResponses } from "./schemas.js";
import { sessionCookieName } from "../sessions/sessions.js";
import {
  endAccountSession,
  endOtherSessions,
  listPasskeys,
  listSessions,
  removePasskey,
} from "../accounts/devices.js";

const SessionId = Type.String({ pattern: "^[0-9a-f]{16}$", minLength: 16, maxLength: 16 });
/** WebAuthn credential ids are at most 1023 bytes, base64url without padding. */
const PasskeyId = Type.String({ pattern: "^[A-Za-z0-9_-]+$", minLength: 1, maxLength: 1400 });

const SessionItem = Strict({
  id: SessionId,
  current: Type.Boolean(),
  stage: Type.Union([Type.Literal("enrol"), Type.Literal("mfa"), Type.Literal("full")]),
  createdAt: EpochMs,
  lastSeenAt: EpochMs,
  stepUpUntil: Type.Optional(EpochMs),
});

const PasskeyItem = Strict({
  id: Type.String(),
  createdAt: EpochMs,
  transports: Type.Array(Type.String()),
});

const errors = errorResponses(400, 401, 403, 404, 409, 429);

/** The caller's own session and account (AUTH_REQUIRED without them). */
export function ownSession(call: Call<RouteSchema>): { session: SessionTable; account: AccountTable } {
  const { session, account } = call.caller;
  if (session === null || account === null) throw new LatchkeyError("AUTH_REQUIRED", "sign in first");
  return { session, account };
}

export const ACCOUNT_DEVICE_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/account/sessions",
    summary: "The signed-in account's sessions (this one marked current), newest activity first",
    tags: ["account"],
    access: { kind: "session", stages: ["full"] },
    schema: { response: { 200: Strict({ items: Type.Array(SessionItem) }), ...errors } },
    async handler(call) {
      const sessions = await listSessions(call.ctx, ownSession(call));
      return {
        items: sessions.map(({ stepUpUntil, ...s }) => ({
          ...s,
          ...(stepUpUntil === null ? {} : { stepUpUntil }),
        })),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/sessions/:sessionId/end",
    summary: "End one of the account's sessions; ending this one signs out",
    tags: ["account"],
    access: { kind: "session", stages: ["full"] },
    schema: {
      params: Strict({ sessionId: SessionId }),
      response: { 200: Strict({ ok: Type.Literal(true), signedOut: Type.Boolean() }), ...errors },
    },
    async handler(call) {
      const own = ownSession(call);
      const { signedOut } = await endAccountSession(call.ctx, own, {
        sessionId: call.params.sessionId,
        ip: call.caller.ip,
      });
      if (signedOut) call.reply.clearCookie(sessionCookieName(call.ctx.secureCookies), { path: "/" });
      return { ok: true as const, signedOut };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/sessions/end-others",
    summary: "End every session of the account except this one",
    tags: ["account"],
    access: { kind: "session", stages: ["full"] },
    schema: { response: { 200: Strict({ ok: Type.Literal(true), ended: Type.Integer() }), ...errors } },
    async handler(call) {
      const ended = await endOtherSessions(call.ctx, ownSession(call), call.caller.ip);
      return { ok: true as const, ended };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/account/passkeys",
    summary: "The account's passkeys (ids, when added, transports; no keys)",
    tags: ["account"],
    access: { kind: "session", stages: ["full"] },
    schema: { response: { 200: Strict({ items: Type.Array(PasskeyItem) }), ...errors } },
    async handler(call) {
      return { items: await listPasskeys(call.ctx, ownSession(call).account.id) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/account/passkeys/:passkeyId/remove",
    summary:
      "Remove a passkey (step-up); refused if it is the account's only second factor. Ends every other session",
    tags: ["account"],
    access: { kind: "signed-in" },
    stepUp: true,
    schema: {
      params: Strict({ passkeyId: PasskeyId }),
      response: { 200: Strict({ ok: Type.Literal(true), endedSessions: Type.Integer() }), ...errors },
    },
    async handler(call) {
      const own = ownSession(call);
      const endedSessions = await removePasskey(call.ctx, own, {
        passkeyId: call.params.passkeyId,
        ip: call.caller.ip,
      });
      return { ok: true as const, endedSessions };
    },
  }),
];
