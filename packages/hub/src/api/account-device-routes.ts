/**
 * The account's own devices: its browser sessions (see them, end one, end all but this one) and
 * its passkeys (see them, remove one with step-up). Everything here is scoped to the caller's
 * account: another account's session or passkey is answered exactly like one that does not exist.
 *
 * A session is named by a public id derived from the stored hash of its cookie under a domain
 * tag, so neither the cookie value nor its stored hash ever leaves the hub, and the public id
 * cannot be turned back into either.
 */
import { createHash } from "node:crypto";
import { Type } from "typebox";
import { LatchkeyError } from "@latchkey/protocol";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import type { AccountTable, SessionTable } from "../db/schema.js";
import type { ApiContext } from "./context.js";
import { EpochMs, Strict, errorResponses } from "./schemas.js";
import { recordAudit, type AuditEntry } from "../audit/audit.js";
import { sessionCookieName, STEP_UP_WINDOW_MS } from "../sessions/sessions.js";

const SESSION_ID_TAG = "latchkey/session-public-id/v1\0";

/** The public id of a session: 16 hex digits of SHA-256 over a domain tag and the stored hash. */
export function publicSessionId(idHash: string): string {
  return createHash("sha256").update(SESSION_ID_TAG).update(idHash).digest("hex").slice(0, 16);
}

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

/** Records an action by the caller inside `db` (the action's own transaction). */
async function audit(
  call: Call<RouteSchema>,
  db: Parameters<typeof recordAudit>[0],
  entry: Omit<AuditEntry, "actorAccountId" | "ip">,
): Promise<void> {
  await recordAudit(db, call.ctx.now(), {
    ...entry,
    actorAccountId: call.caller.account?.id ?? null,
    ip: call.caller.ip,
  });
}

function notFound(): LatchkeyError {
  return new LatchkeyError("HUB_NOT_FOUND", "not found");
}

function own(call: Call<RouteSchema>): { session: SessionTable; account: AccountTable } {
  const { session, account } = call.caller;
  if (session === null || account === null) throw new LatchkeyError("AUTH_REQUIRED", "sign in first");
  return { session, account };
}

function live(ctx: ApiContext, s: SessionTable, now: number): boolean {
  return (
    now - s.last_seen_at <= ctx.config.sessionIdleMs && now - s.created_at <= ctx.config.sessionAbsoluteMs
  );
}

/** The account's live sessions (expired ones are not shown and cannot be named). */
async function liveSessions(ctx: ApiContext, accountId: string): Promise<SessionTable[]> {
  const rows = await ctx.db.selectFrom("sessions").selectAll().where("account_id", "=", accountId).execute();
  const now = ctx.now();
  return rows.filter((s) => live(ctx, s, now));
}

function parseTransports(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === "string") : [];
  } catch {
    return [];
  }
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
      const { session, account } = own(call);
      const rows = await liveSessions(call.ctx, account.id);
      rows.sort((a, b) => {
        if (a.id_hash === session.id_hash) return -1;
        if (b.id_hash === session.id_hash) return 1;
        return b.last_seen_at - a.last_seen_at || b.created_at - a.created_at;
      });
      return {
        items: rows.map((s) => ({
          id: publicSessionId(s.id_hash),
          current: s.id_hash === session.id_hash,
          stage: s.stage as "enrol" | "mfa" | "full",
          createdAt: s.created_at,
          lastSeenAt: s.id_hash === session.id_hash ? call.ctx.now() : s.last_seen_at,
          ...(s.stage === "full" && s.mfa_at !== null ? { stepUpUntil: s.mfa_at + STEP_UP_WINDOW_MS } : {}),
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
      const c = call as Call<RouteSchema>;
      const { session, account } = own(c);
      const target = (await liveSessions(call.ctx, account.id)).find(
        (s) => publicSessionId(s.id_hash) === call.params.sessionId,
      );
      if (target === undefined) throw notFound();
      const signedOut = target.id_hash === session.id_hash;
      await call.ctx.db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom("sessions")
          .where("id_hash", "=", target.id_hash)
          .where("account_id", "=", account.id)
          .execute();
        await audit(c, trx, {
          action: "account.session.end",
          targetType: "session",
          targetId: call.params.sessionId,
          details: { current: signedOut },
        });
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
      const c = call as Call<RouteSchema>;
      const { session, account } = own(c);
      let ended = 0;
      await call.ctx.db.transaction().execute(async (trx) => {
        const result = await trx
          .deleteFrom("sessions")
          .where("account_id", "=", account.id)
          .where("id_hash", "!=", session.id_hash)
          .executeTakeFirst();
        ended = Number(result.numDeletedRows);
        await audit(c, trx, {
          action: "account.session.end-others",
          targetType: "account",
          targetId: account.id,
          details: { ended },
        });
      });
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
      const { account } = own(call);
      const rows = await call.ctx.db
        .selectFrom("passkeys")
        .select(["id", "created_at", "transports"])
        .where("account_id", "=", account.id)
        .orderBy("created_at", "asc")
        .orderBy("id", "asc")
        .execute();
      return {
        items: rows.map((p) => ({
          id: p.id,
          createdAt: p.created_at,
          transports: parseTransports(p.transports),
        })),
      };
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
      const c = call as Call<RouteSchema>;
      const { ctx } = call;
      const { session, account } = own(c);
      const passkeyId = call.params.passkeyId;
      const now = ctx.now();
      let endedSessions = 0;
      await ctx.db.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom("accounts")
          .select("totp_secret_sealed")
          .where("id", "=", account.id)
          .executeTakeFirstOrThrow();
        const keys = await trx
          .selectFrom("passkeys")
          .select("id")
          .where("account_id", "=", account.id)
          .execute();
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
        // A factor changed: as for every factor change, the account's other sessions end.
        await trx
          .updateTable("accounts")
          .set({ factors_changed_at: now })
          .where("id", "=", account.id)
          .execute();
        const ended = await trx
          .deleteFrom("sessions")
          .where("account_id", "=", account.id)
          .where("id_hash", "!=", session.id_hash)
          .executeTakeFirst();
        endedSessions = Number(ended.numDeletedRows);
        await audit(c, trx, {
          action: "account.passkey.remove",
          targetType: "passkey",
          targetId: passkeyId,
          details: { endedSessions, remainingPasskeys: keys.length - 1 },
        });
      });
      return { ok: true as const, endedSessions };
    },
  }),
];
