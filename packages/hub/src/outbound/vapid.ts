/**
 * The hub's Web Push identity (VAPID, RFC 8292): one P-256 key pair made at first use and kept
 * sealed under the hub secret. Browsers subscribe with its public key; a push service accepts
 * the hub's messages for those subscriptions only when signed with its private key.
 */
import type { HubContext } from "../runtime/context.js";
import type { VapidConfig } from "./channels/web-push.js";
import { outboundDb } from "./outbound-tables.js";

const SETTING = "vapid";
const context = (name: string) => `outbound-setting:${name}`;

/** The subject push services may write to about this hub (RFC 8292 §2.1: mailto: or https:). */
export function vapidSubject(origin: string): string {
  // An https origin is a contact page of sorts; a local http origin is not accepted by push services.
  return origin.startsWith("https://") ? origin : "mailto:latchkey-hub@users.noreply.latchkey.invalid";
}

/** The hub's VAPID keys, made and stored the first time they are asked for. */
export async function hubVapid(ctx: HubContext): Promise<VapidConfig> {
  const db = outboundDb(ctx.db);
  const row = await db
    .selectFrom("outbound_settings")
    .select("value_sealed")
    .where("name", "=", SETTING)
    .executeTakeFirst();
  if (row !== undefined) {
    const keys = JSON.parse(ctx.secret.open(row.value_sealed, context(SETTING))) as {
      publicKey: string;
      privateKey: string;
    };
    return { ...keys, subject: vapidSubject(ctx.origin) };
  }
  // web-push is loaded only by hubs that use it (channel-settings.ts).
  const { newVapidKeys } = await import("./channels/web-push.js");
  const keys = newVapidKeys();
  // Two first requests at once: the first insert wins, the other reads the winner's keys.
  await db
    .insertInto("outbound_settings")
    .values({
      name: SETTING,
      value_sealed: ctx.secret.seal(JSON.stringify(keys), context(SETTING)),
      created_at: ctx.now(),
    })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  return hubVapid(ctx);
}
