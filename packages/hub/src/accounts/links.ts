/**
 * One-time links: the first-run setup link and invitations. The token (32 random bytes) is shown
 * once; the database keeps only its keyed hash, an expiry and whether it was used.
 */
import { randomBytes } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { Kysely } from "kysely";
import type { HubContext } from "../runtime/context.js";
import type { Database, OneTimeLinkTable } from "../db/schema.js";

export type LinkPurpose = "setup" | "invite";

export async function createLink(
  ctx: HubContext,
  purpose: LinkPurpose,
  fields: { siteId?: string; role?: string; username?: string } = {},
): Promise<{ token: string; url: string }> {
  const token = randomBytes(32).toString("base64url");
  const now = ctx.now();
  await ctx.db
    .insertInto("one_time_links")
    .values({
      token_hash: ctx.secret.keyedHash("link", token),
      purpose,
      site_id: fields.siteId ?? null,
      role: fields.role ?? null,
      username: fields.username ?? null,
      expires_at: now + ctx.config.setupLinkTtlMs,
      used_at: null,
      created_at: now,
    })
    .execute();
  // The token travels in the fragment, which browsers never send to servers or proxies' logs.
  return { token, url: `${ctx.origin}/${purpose}#${token}` };
}

/** The user name a live link is addressed to, without using the link (null when none or not live). */
export async function linkUsername(
  ctx: HubContext,
  purpose: LinkPurpose,
  token: string,
): Promise<string | null> {
  const row = await ctx.db
    .selectFrom("one_time_links")
    .select(["username", "used_at", "expires_at"])
    .where("token_hash", "=", ctx.secret.keyedHash("link", token))
    .where("purpose", "=", purpose)
    .executeTakeFirst();
  if (row === undefined || row.used_at !== null || row.expires_at <= ctx.now()) return null;
  return row.username;
}

/** Marks a valid link used and returns it; AUTH_SETUP_INVALID otherwise (one message for all). */
export async function consumeLink(
  ctx: HubContext,
  db: Kysely<Database>,
  purpose: LinkPurpose,
  token: string,
): Promise<OneTimeLinkTable> {
  const hash = ctx.secret.keyedHash("link", token);
  const now = ctx.now();
  const row = await db
    .selectFrom("one_time_links")
    .selectAll()
    .where("token_hash", "=", hash)
    .where("purpose", "=", purpose)
    .executeTakeFirst();
  const invalid = new LatchkeyError("AUTH_SETUP_INVALID", "this link is wrong, already used or expired");
  if (row === undefined || row.used_at !== null || row.expires_at <= now) throw invalid;
  const result = await db
    .updateTable("one_time_links")
    .set({ used_at: now })
    .where("token_hash", "=", hash)
    .where("used_at", "is", null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw invalid;
  return row;
}

/**
 * At start: if no account exists yet, replace any earlier setup link by a new one and return it
 * (for the console only); null once the owner exists.
 */
export async function prepareSetupLink(ctx: HubContext): Promise<string | null> {
  const any = await ctx.db.selectFrom("accounts").select("id").limit(1).executeTakeFirst();
  if (any !== undefined) return null;
  await ctx.db.deleteFrom("one_time_links").where("purpose", "=", "setup").execute();
  return (await createLink(ctx, "setup")).url;
}
