/** People: one person, several credentials, several doors (through grants). */
import { randomUUID } from "node:crypto";
import { Type } from "@fastify/type-provider-typebox";
import { defineRoute, type RouteDef } from "../authz/route-table.js";
import { EpochMs, Id, Limit, Name, Ok, Strict, StrictPatch, errorResponses } from "../server/schemas.js";
import type { PersonTable, SyncTables } from "../db/schema.js";
import type { GuestLinkTables } from "../guest-links/table.js";
import { LatchkeyError } from "@latchkey/protocol";
import { auditCall } from "../audit/routes.js";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422);
const Email = Type.String({ maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" });
const Phone = Type.String({ maxLength: 32, pattern: "^[0-9+() .-]{3,32}$" });
const Person = Strict({
  id: Id,
  siteId: Id,
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  createdAt: EpochMs,
});
const PersonParams = Strict({ personId: Id });
const personSite = { param: "personId", table: "people" } as const;

export const personJson = (p: PersonTable) => ({
  id: p.id,
  siteId: p.site_id,
  name: p.name,
  email: p.email,
  phone: p.phone,
  createdAt: p.created_at,
});

export const PEOPLE_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/people",
    summary: "People of a site, by name, a page at a time (`after` = the last id of the previous page)",
    tags: ["people"],
    access: { kind: "site", permission: "site.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      querystring: Strict({ limit: Type.Optional(Limit), after: Type.Optional(Id) }),
      response: {
        200: Strict({ items: Type.Array(Person), nextAfter: Type.Union([Id, Type.Null()]) }),
        ...errors,
      },
    },
    async handler({ ctx, params, query }) {
      const limit = Number(query.limit ?? "50");
      let q = ctx.db
        .selectFrom("people")
        .selectAll()
        .where("site_id", "=", params.siteId)
        .orderBy("id")
        .limit(limit);
      if (query.after !== undefined) q = q.where("id", ">", query.after);
      const rows = await q.execute();
      return {
        items: rows.map(personJson),
        nextAfter: rows.length === limit ? (rows[rows.length - 1]?.id ?? null) : null,
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/people",
    summary: "Add a person",
    tags: ["people"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    status: 201,
    schema: {
      params: Strict({ siteId: Id }),
      body: Strict({ name: Name, email: Type.Optional(Email), phone: Type.Optional(Phone) }),
      response: { 201: Person, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const row: PersonTable = {
        id: randomUUID(),
        site_id: params.siteId,
        name: body.name,
        email: body.email ?? null,
        phone: body.phone ?? null,
        created_at: ctx.now(),
      };
      await ctx.db.insertInto("people").values(row).execute();
      await auditCall(call, {
        action: "person.create",
        siteId: params.siteId,
        targetType: "person",
        targetId: row.id,
      });
      return personJson(row);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/people/:personId",
    summary: "A person",
    tags: ["people"],
    access: { kind: "site", permission: "site.read", site: personSite },
    schema: { params: PersonParams, response: { 200: Person, ...errors } },
    async handler({ ctx, params }) {
      return personJson(
        await ctx.db
          .selectFrom("people")
          .selectAll()
          .where("id", "=", params.personId)
          .executeTakeFirstOrThrow(),
      );
    },
  }),
  defineRoute({
    method: "PATCH",
    url: "/api/v1/people/:personId",
    summary: "Change a person's name or contact details",
    tags: ["people"],
    access: { kind: "site", permission: "site.manage", site: personSite },
    schema: {
      params: PersonParams,
      body: StrictPatch({
        name: Type.Optional(Name),
        email: Type.Optional(Type.Union([Email, Type.Null()])),
        phone: Type.Optional(Type.Union([Phone, Type.Null()])),
      }),
      response: { 200: Person, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const changes = {
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.email === undefined ? {} : { email: body.email }),
        ...(body.phone === undefined ? {} : { phone: body.phone }),
      };
      if (Object.keys(changes).length > 0)
        await ctx.db.updateTable("people").set(changes).where("id", "=", params.personId).execute();
      const row = await ctx.db
        .selectFrom("people")
        .selectAll()
        .where("id", "=", params.personId)
        .executeTakeFirstOrThrow();
      await auditCall(call, {
        action: "person.update",
        siteId: row.site_id,
        targetType: "person",
        targetId: row.id,
        details: { fields: Object.keys(changes).join(",") },
      });
      return personJson(row);
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/people/:personId",
    summary: "Delete a person with their credentials and grants (step-up)",
    tags: ["people"],
    access: { kind: "site", permission: "site.manage", site: personSite },
    stepUp: true,
    schema: { params: PersonParams, response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      // Forgetting a person must never leave their codes on a lock with nobody tracking them.
      const sync =
        ctx.db.withTables<
          Pick<SyncTables & GuestLinkTables, "credential_sync" | "lock_users" | "guest_links">
        >();
      const onLocks = await sync
        .selectFrom("credential_sync")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("person_id", "=", params.personId)
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
        .where("person_id", "=", params.personId)
        .where("applied_json", "is not", null)
        .executeTakeFirst();
      if (Number(onLocks?.n ?? 0) + Number(slots?.n ?? 0) > 0)
        throw new LatchkeyError(
          "HUB_PERSON_ON_LOCKS",
          "this person's codes are still on locks: revoke their credentials first, and delete once every lock shows them removed",
          { credentials: Number(onLocks?.n ?? 0), userSlots: Number(slots?.n ?? 0) },
        );
      await ctx.db.transaction().execute(async (trx) => {
        const t =
          trx.withTables<
            Pick<SyncTables & GuestLinkTables, "credential_sync" | "lock_users" | "guest_links">
          >();
        const creds0 = trx.selectFrom("credentials").select("id").where("person_id", "=", params.personId);
        await t.deleteFrom("credential_sync").where("person_id", "=", params.personId).execute();
        await t.deleteFrom("lock_users").where("person_id", "=", params.personId).execute();
        await t.deleteFrom("guest_links").where("credential_id", "in", creds0).execute();
        const grants = trx.selectFrom("grants").select("id").where("person_id", "=", params.personId);
        await trx.deleteFrom("grant_doors").where("grant_id", "in", grants).execute();
        await trx.deleteFrom("grants").where("person_id", "=", params.personId).execute();
        await trx.deleteFrom("credentials").where("person_id", "=", params.personId).execute();
        await trx.deleteFrom("people").where("id", "=", params.personId).execute();
      });
      await auditCall(call, {
        action: "person.delete",
        siteId: call.caller.siteId,
        targetType: "person",
        targetId: params.personId,
      });
      return { ok: true as const };
    },
  }),
];
