/** People: one person, several credentials, several doors (through grants). */
import { Type } from "typebox";
import { defineRoute, type RouteDef } from "./route-table.js";
import { EpochMs, Id, Limit, Name, Ok, Strict, StrictPatch, errorResponses } from "./schemas.js";
import type { PersonTable } from "../db/schema.js";
import { createPerson, deletePerson, getPerson, listPeople, updatePerson } from "../people/people.js";
import { auditCall } from "./audit-routes.js";

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
      const page = await listPeople(ctx, params.siteId, {
        limit: Number(query.limit ?? "50"),
        after: query.after,
      });
      return { items: page.people.map(personJson), nextAfter: page.nextAfter };
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
      const row = await createPerson(ctx, params.siteId, {
        name: body.name,
        email: body.email ?? null,
        phone: body.phone ?? null,
      });
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
      return personJson(await getPerson(ctx, params.personId));
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
      const { person: row, fields } = await updatePerson(ctx, params.personId, changes);
      await auditCall(call, {
        action: "person.update",
        siteId: row.site_id,
        targetType: "person",
        targetId: row.id,
        details: { fields: fields.join(",") },
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
      await deletePerson(ctx, params.personId);
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
