/**
 * Sites and their doors. A site is deleted only once empty; a door only once no commissioned
 * lock hangs on it. Which lock a door is bound to decides which lock receives sealed PINs, and a
 * site's time zone decides when schedules open: changing either tells the desired-state
 * notifier, once committed, so the site's locks follow.
 */
import { randomUUID } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { DoorTable, IngestTables, SiteTable, SyncTables } from "../db/schema.js";
import type { DoorbellTables } from "../approvals/doorbell.js";
import type { HubContext } from "../runtime/context.js";
import { assertTimeZone } from "../grants/schedule.js";
import { parseLockPublicKey } from "../credentials/lock-public-key.js";

/** The given sites, by name. */
export async function listSites(ctx: HubContext, siteIds: readonly string[]): Promise<SiteTable[]> {
  if (siteIds.length === 0) return [];
  return ctx.db
    .selectFrom("sites")
    .selectAll()
    .where("id", "in", siteIds)
    .orderBy("name")
    .orderBy("id")
    .execute();
}

export async function getSite(ctx: HubContext, siteId: string): Promise<SiteTable> {
  return ctx.db.selectFrom("sites").selectAll().where("id", "=", siteId).executeTakeFirstOrThrow();
}

export async function createSite(
  ctx: HubContext,
  site: { readonly name: string; readonly timezone: string },
): Promise<SiteTable> {
  assertTimeZone(site.timezone);
  const row: SiteTable = {
    id: randomUUID(),
    name: site.name,
    timezone: site.timezone,
    created_at: ctx.now(),
  };
  await ctx.db.insertInto("sites").values(row).execute();
  return row;
}

/** Renames a site or changes its time zone; answers the site as stored and the fields changed. */
export async function updateSite(
  ctx: HubContext,
  siteId: string,
  changes: { readonly name?: string; readonly timezone?: string },
): Promise<{ site: SiteTable; fields: string[] }> {
  if (changes.timezone !== undefined) assertTimeZone(changes.timezone);
  const columns = {
    ...(changes.name === undefined ? {} : { name: changes.name }),
    ...(changes.timezone === undefined ? {} : { timezone: changes.timezone }),
  };
  const fields = Object.keys(columns);
  if (fields.length > 0) await ctx.db.updateTable("sites").set(columns).where("id", "=", siteId).execute();
  if (changes.timezone !== undefined) ctx.desiredState.siteChanged(siteId);
  return { site: await getSite(ctx, siteId), fields };
}

/** Deletes a site without doors or people, with its roles, links, owner key and revocations. */
export async function deleteSite(ctx: HubContext, siteId: string): Promise<void> {
  const door = await ctx.db.selectFrom("doors").select("id").where("site_id", "=", siteId).executeTakeFirst();
  const person = await ctx.db
    .selectFrom("people")
    .select("id")
    .where("site_id", "=", siteId)
    .executeTakeFirst();
  if (door !== undefined || person !== undefined)
    throw new LatchkeyError("HUB_CONFLICT", "delete the site's doors and people first");
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("site_roles").where("site_id", "=", siteId).execute();
    await trx.deleteFrom("one_time_links").where("site_id", "=", siteId).execute();
    // The site's owner key and revocations go with it (it has no locks left to trust them).
    const sync = trx.withTables<Pick<SyncTables, "site_keys" | "revoked_certificates">>();
    await sync.deleteFrom("revoked_certificates").where("site_id", "=", siteId).execute();
    await sync.deleteFrom("site_keys").where("site_id", "=", siteId).execute();
    // Booking calendars (calendars/, migration 0010) whose doors are gone go with the site too.
    const calendars = trx.withTables<{
      calendar_bookings: { site_id: string };
      calendar_feeds: { site_id: string };
    }>();
    await calendars.deleteFrom("calendar_bookings").where("site_id", "=", siteId).execute();
    await calendars.deleteFrom("calendar_feeds").where("site_id", "=", siteId).execute();
    await trx.deleteFrom("sites").where("id", "=", siteId).execute();
  });
}

export interface DoorBinding {
  readonly lockId?: string | null;
  /** The lock's X25519 public key, hex. */
  readonly lockPublicKey?: string | null;
}

/** The doors of a site, by name. */
export async function listDoors(ctx: HubContext, siteId: string): Promise<DoorTable[]> {
  return ctx.db
    .selectFrom("doors")
    .selectAll()
    .where("site_id", "=", siteId)
    .orderBy("name")
    .orderBy("id")
    .execute();
}

export async function getDoor(ctx: HubContext, doorId: string): Promise<DoorTable> {
  return ctx.db.selectFrom("doors").selectAll().where("id", "=", doorId).executeTakeFirstOrThrow();
}

export async function createDoor(
  ctx: HubContext,
  siteId: string,
  door: { readonly name: string } & DoorBinding,
): Promise<DoorTable> {
  if (typeof door.lockPublicKey === "string") parseLockPublicKey(door.lockPublicKey);
  const row: DoorTable = {
    id: randomUUID(),
    site_id: siteId,
    name: door.name,
    lock_id: door.lockId ?? null,
    lock_public_key: door.lockPublicKey?.toLowerCase() ?? null,
    created_at: ctx.now(),
  };
  await ctx.db.insertInto("doors").values(row).execute();
  return row;
}

/** Renames a door or (re)binds it to a lock; answers the door as stored and the fields changed. */
export async function updateDoor(
  ctx: HubContext,
  doorId: string,
  changes: { readonly name?: string } & DoorBinding,
): Promise<{ door: DoorTable; fields: string[] }> {
  if (typeof changes.lockPublicKey === "string") parseLockPublicKey(changes.lockPublicKey);
  const columns = {
    ...(changes.name === undefined ? {} : { name: changes.name }),
    ...(changes.lockId === undefined ? {} : { lock_id: changes.lockId }),
    ...(changes.lockPublicKey === undefined
      ? {}
      : { lock_public_key: changes.lockPublicKey?.toLowerCase() ?? null }),
  };
  const fields = Object.keys(columns);
  if (fields.length > 0) await ctx.db.updateTable("doors").set(columns).where("id", "=", doorId).execute();
  const door = await getDoor(ctx, doorId);
  if (changes.lockId !== undefined || changes.lockPublicKey !== undefined)
    ctx.desiredState.siteChanged(door.site_id);
  return { door, fields };
}

/** Deletes a door without a commissioned lock, with its place in grants and its doorbell. */
export async function deleteDoor(ctx: HubContext, doorId: string): Promise<void> {
  const door = await ctx.db
    .selectFrom("doors")
    .select("site_id")
    .where("id", "=", doorId)
    .executeTakeFirstOrThrow();
  const lock = await ctx.db
    .withTables<Pick<IngestTables, "locks">>()
    .selectFrom("locks")
    .select("id")
    .where("door_id", "=", doorId)
    .executeTakeFirst();
  if (lock !== undefined)
    throw new LatchkeyError("HUB_DOOR_HAS_LOCK", "this door has a commissioned lock; remove the lock first", {
      lockId: lock.id,
    });
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("grant_doors").where("door_id", "=", doorId).execute();
    // Its doorbell token stops working with it.
    await trx.withTables<DoorbellTables>().deleteFrom("doorbells").where("door_id", "=", doorId).execute();
    await trx.deleteFrom("doors").where("id", "=", doorId).execute();
  });
  ctx.desiredState.siteChanged(door.site_id);
}
