/**
 * Doorbells: a camera, video doorbell or NVR asks to open a door through a webhook (DESIGN
 * "Remote unlock, human in the loop"). Each door may have one doorbell token — 32 random bytes,
 * shown once when created, stored only as a keyed hash — and a POST with it creates an unlock
 * request (with the doorbell's snapshot) that a person approves with a passkey, exactly like a
 * request made in the app. The token can only ask: it never opens anything, never reads
 * anything back but the request id, and a new token replaces the old one.
 */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { LatchkeyError } from "@latchkey/protocol";
import { refuseUnknownSecret } from "../abuse/unknown-secret.js";
import type { HubContext } from "../runtime/context.js";
import type { UnlockRequest, UnlockRequests } from "./service.js";

export type DoorbellTable = {
  door_id: string;
  site_id: string;
  /** Keyed hash of the token (never the token). */
  token_hash: string;
  created_at: number;
  last_rung_at: number | null;
};

// A type alias (not an interface) so it fits Kysely's `withTables` constraint.
export type DoorbellTables = { doorbells: DoorbellTable };

/** Tokens are 32 random bytes in base64url, with a prefix that says what they are. */
export const DOORBELL_TOKEN_PREFIX = "lkdb_";
const TOKEN_PATTERN = /^lkdb_[A-Za-z0-9_-]{43}$/;

function table(ctx: HubContext): Kysely<DoorbellTables> {
  return ctx.db.withTables<DoorbellTables>() as unknown as Kysely<DoorbellTables>;
}

function tokenHash(ctx: HubContext, token: string): string {
  return ctx.secret.keyedHash("doorbell", token);
}

export interface DoorbellStatus {
  readonly enabled: boolean;
  readonly createdAt: number | null;
  readonly lastRungAt: number | null;
}

export async function doorbellStatus(ctx: HubContext, doorId: string): Promise<DoorbellStatus> {
  const row = await table(ctx)
    .selectFrom("doorbells")
    .select(["created_at", "last_rung_at"])
    .where("door_id", "=", doorId)
    .executeTakeFirst();
  return row === undefined
    ? { enabled: false, createdAt: null, lastRungAt: null }
    : {
        enabled: true,
        createdAt: Number(row.created_at),
        lastRungAt: row.last_rung_at === null ? null : Number(row.last_rung_at),
      };
}

/** Where doorbells post: the hub's public URL, whatever path it is reached under. */
function webhookUrl(ctx: HubContext): string {
  return `${ctx.config.publicUrl.replace(/\/$/, "")}/api/v1/doorbell/ring`;
}

/**
 * A new token for the door's doorbell (the old one, if any, stops working), with the URL to post
 * it to. Shown once.
 */
export async function createDoorbellToken(
  ctx: HubContext,
  door: { readonly id: string; readonly siteId: string },
): Promise<{ token: string; webhookUrl: string; createdAt: number }> {
  const token = DOORBELL_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const createdAt = ctx.now();
  await table(ctx)
    .transaction()
    .execute(async (trx) => {
      await trx.deleteFrom("doorbells").where("door_id", "=", door.id).execute();
      await trx
        .insertInto("doorbells")
        .values({
          door_id: door.id,
          site_id: door.siteId,
          token_hash: tokenHash(ctx, token),
          created_at: createdAt,
          last_rung_at: null,
        })
        .execute();
    });
  return { token, webhookUrl: webhookUrl(ctx), createdAt };
}

/** Turns the door's doorbell off (HUB_NOT_FOUND when it has none). */
export async function removeDoorbell(ctx: HubContext, doorId: string): Promise<void> {
  const r = await table(ctx).deleteFrom("doorbells").where("door_id", "=", doorId).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0)
    throw new LatchkeyError("HUB_NOT_FOUND", "this door has no doorbell webhook");
}

/** The token from `Authorization: Bearer lkdb_…`, or null when absent or not shaped like one. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer ([^\s]+)$/i.exec(header.trim());
  const token = m?.[1];
  return token !== undefined && TOKEN_PATTERN.test(token) ? token : null;
}

/**
 * A doorbell rings: an unlock request for its door. A missing or unknown token is "not found"
 * and counts against the caller's address, like every other secret.
 */
export async function ringDoorbell(
  ctx: HubContext,
  requests: UnlockRequests,
  token: string | null,
  ip: string,
  input: { readonly note: string | null; readonly snapshot: string | null },
): Promise<UnlockRequest> {
  await ctx.throttle.check([`ip:${ip}`]);
  const row =
    token === null
      ? undefined
      : await table(ctx)
          .selectFrom("doorbells")
          .select(["door_id"])
          .where("token_hash", "=", tokenHash(ctx, token))
          .executeTakeFirst();
  if (row === undefined) return refuseUnknownSecret(ctx, "doorbell", ip);
  const request = await requests.create({
    doorId: row.door_id,
    requestedBy: { kind: "doorbell" },
    note: input.note,
    snapshot: input.snapshot,
  });
  await table(ctx)
    .updateTable("doorbells")
    .set({ last_rung_at: ctx.now() })
    .where("door_id", "=", row.door_id)
    .execute();
  return request;
}
