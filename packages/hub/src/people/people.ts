/**
 * People of a site: one person, several credentials, several doors (through grants). Forgetting a
 * person must never leave their codes on a lock with nobody tracking them, so a person whose
 * codes are still on (or on their way to) a lock cannot be deleted.
 */
import { randomUUID } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { PersonTable, SyncTables } from "../db/schema.js";
import type { GuestLinkTables } from "../credentials/guest-link-table.js";
import type { HubContext } from "../runtime/context.js";

export interface PersonDetails {
  readonly name: string;
  readonly email: string | null;
  readonly phone: string | null;
}

type PersonSyncTables = Pick<SyncTables & GuestLinkTables, "credential_sync" | "lock_users" | "guest_links">;

/**
 * A page of a site's people in id order, at most `limit` of them after the id `after`; `nextAfter`
 * is the id to continue from, or null when this page was the last.
 */
export async function listPeople(
  ctx: HubContext,
  siteId: string,
  page: { readonly limit: number; readonly after?: string },
): Promise<{ people: PersonTable[]; nextAfter: string | null }> {
  let q = ctx.db
    .selectFrom("people")
    .selectAll()
    .where("site_id", "=", siteId)
    .orderBy("id")
    .limit(page.limit);
  if (page.after !== undefined) q = q.where("id", ">", page.after);
  const people = await q.execute();
  return { people, nextAfter: people.length === page.limit ? (people[people.length - 1]?.id ?? null) : null };
}

export async function getPerson(ctx: HubContext, personId: string): Promise<PersonTable> {
  return ctx.db.selectFrom("people").selectAll().where("id", "=", personId).executeTakeFirstOrThrow();
}

export async function createPerson(
  ctx: HubContext,
  siteId: string,
  details: PersonDetails,
): Promise<PersonTable> {
  const row: PersonTable = { id: randomUUID(), site_id: siteId, ...details, created_at: ctx.now() };
  await ctx.db.insertInto("people").values(row).execute();
  return row;
}

/**
 * Changes the given fields; answers the person as stored and the names of the fields changed.
 * Nothing a lock holds depends on them, so the locks are not told.
 */
export async function updatePerson(
  ctx: HubContext,
  personId: string,
  changes: Partial<PersonDetails>,
): Promise<{ person: PersonTable; fields: string[] }> {
  const fields = Object.keys(changes);
  if (fields.length > 0) await ctx.db.updateTable("people").set(changes).where("id", "=", personId).execute();
  return { person: await getPerson(ctx, personId), fields };
}

/** Deletes a person with their credentials and grants, once none of their codes is on a lock. */
export async function deletePerson(ctx: HubContext, personId: string): Promise<void> {
  const person = await ctx.db
    .selectFrom("people")
    .select("site_id")
    .where("id", "=", personId)
    .executeTakeFirstOrThrow();
  const sync = ctx.db.withTables<PersonSyncTables>();
  const onLocks = await sync
    .selectFrom("credential_sync")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("person_id", "=", personId)
    .where((eb) =>
      eb.or([
        eb("state", "in", ["set", "sending", "removing"]),
        eb.and([eb("state", "in", ["pending", "failed"]), eb("attempts", ">", 0)]),
      ]),
    )
    .executeTakeFirst();
  const slots = await sync
    .selectFrom("lock_users")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("person_id", "=", personId)
    .where("applied_json", "is not", null)
    .executeTakeFirst();
  if (Number(onLocks?.n ?? 0) + Number(slots?.n ?? 0) > 0)
    throw new LatchkeyError(
      "HUB_PERSON_ON_LOCKS",
      "this person's codes are still on locks: revoke their credentials first, and delete once every lock shows them removed",
      { credentials: Number(onLocks?.n ?? 0), userSlots: Number(slots?.n ?? 0) },
    );
  await ctx.db.transaction().execute(async (trx) => {
    const t = trx.withTables<PersonSyncTables>();
    const credentials = trx.selectFrom("credentials").select("id").where("person_id", "=", personId);
    await t.deleteFrom("credential_sync").where("person_id", "=", personId).execute();
    await t.deleteFrom("lock_users").where("person_id", "=", personId).execute();
    await t.deleteFrom("guest_links").where("credential_id", "in", credentials).execute();
    const grants = trx.selectFrom("grants").select("id").where("person_id", "=", personId);
    await trx.deleteFrom("grant_doors").where("grant_id", "in", grants).execute();
    await trx.deleteFrom("grants").where("person_id", "=", personId).execute();
    await trx.deleteFrom("credentials").where("person_id", "=", personId).execute();
    await trx.deleteFrom("people").where("id", "=", personId).execute();
  });
  ctx.desiredState.siteChanged(person.site_id);
}
