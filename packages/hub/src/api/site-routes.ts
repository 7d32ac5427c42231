/** Sites, their doors, and who holds which role on them. */
import { Type } from "typebox";
import { LatchkeyError } from "@latchkey/protocol";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import { sitesWithPermission, SITE_ROLES } from "../authz/permissions.js";
import { hasFreshSecondFactor } from "../sessions/sessions.js";
import { EpochMs, Id, Name, Ok, SafeText, Strict, StrictPatch, Username, errorResponses } from "./schemas.js";
import type { DoorTable, SiteTable } from "../db/schema.js";
import {
  createDoor,
  createSite,
  deleteDoor,
  deleteSite,
  getDoor,
  getSite,
  listDoors,
  listSites,
  updateDoor,
  updateSite,
} from "../sites/sites.js";
import { addMember, listMembers, removeMember } from "../sites/members.js";
import { normaliseUsername } from "../accounts/sign-in.js";
import { auditCall } from "./audit-routes.js";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422);
const TimeZone = Type.String({ minLength: 1, maxLength: 64 });
const LockKey = Type.String({ pattern: "^[0-9a-fA-F]{64}$" });

const Site = Strict({ id: Id, name: Type.String(), timezone: Type.String(), createdAt: EpochMs });
const Door = Strict({
  id: Id,
  siteId: Id,
  name: Type.String(),
  lockId: Type.Union([Type.String(), Type.Null()]),
  lockPublicKey: Type.Union([Type.String(), Type.Null()]),
  createdAt: EpochMs,
});
const Member = Strict({ accountId: Id, username: Type.String(), role: Type.String(), since: EpochMs });
const Role = Type.Union(SITE_ROLES.map((r) => Type.Literal(r)));

export const siteJson = (s: SiteTable) => ({
  id: s.id,
  name: s.name,
  timezone: s.timezone,
  createdAt: s.created_at,
});
export const doorJson = (d: DoorTable) => ({
  id: d.id,
  siteId: d.site_id,
  name: d.name,
  lockId: d.lock_id,
  lockPublicKey: d.lock_public_key,
  createdAt: d.created_at,
});

const SiteParams = Strict({ siteId: Id });
const DoorParams = Strict({ doorId: Id });
const siteOf = { param: "siteId", table: "sites" } as const;
const doorSite = { param: "doorId", table: "doors" } as const;

function requireStepUp(call: Call<RouteSchema>): void {
  const s = call.caller.session;
  if (s === null || !hasFreshSecondFactor(call.ctx, s)) {
    throw new LatchkeyError(
      "AUTH_STEP_UP_REQUIRED",
      "confirm your second factor again (step-up) for this action",
    );
  }
}

export const SITE_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/sites",
    summary: "Sites the caller may see",
    tags: ["sites"],
    access: { kind: "signed-in" },
    schema: { response: { 200: Strict({ items: Type.Array(Site) }), ...errors } },
    async handler(call) {
      const ids = await sitesWithPermission(call.ctx, call.principal(), "site.read");
      return { items: (await listSites(call.ctx, ids)).map(siteJson) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites",
    summary: "Create a site (owner)",
    tags: ["sites"],
    access: { kind: "owner" },
    status: 201,
    schema: { body: Strict({ name: Name, timezone: TimeZone }), response: { 201: Site, ...errors } },
    async handler(call) {
      const row = await createSite(call.ctx, call.body);
      await auditCall(call, {
        action: "site.create",
        siteId: row.id,
        targetType: "site",
        targetId: row.id,
        details: { name: row.name },
      });
      return siteJson(row);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId",
    summary: "A site",
    tags: ["sites"],
    access: { kind: "site", permission: "site.read", site: siteOf },
    schema: { params: SiteParams, response: { 200: Site, ...errors } },
    async handler({ ctx, params }) {
      return siteJson(await getSite(ctx, params.siteId));
    },
  }),
  defineRoute({
    method: "PATCH",
    url: "/api/v1/sites/:siteId",
    summary: "Rename a site or change its time zone",
    tags: ["sites"],
    access: { kind: "site", permission: "site.manage", site: siteOf },
    schema: {
      params: SiteParams,
      body: StrictPatch({ name: Type.Optional(Name), timezone: Type.Optional(TimeZone) }),
      response: { 200: Site, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const { site, fields } = await updateSite(ctx, params.siteId, body);
      await auditCall(call, {
        action: "site.update",
        siteId: params.siteId,
        targetType: "site",
        targetId: params.siteId,
        details: { fields: fields.join(",") },
      });
      return siteJson(site);
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/sites/:siteId",
    summary: "Delete an empty site (owner, step-up)",
    tags: ["sites"],
    access: { kind: "site", permission: "site.delete", site: siteOf },
    stepUp: true,
    schema: { params: SiteParams, response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      await deleteSite(ctx, params.siteId);
      await auditCall(call, {
        action: "site.delete",
        siteId: params.siteId,
        targetType: "site",
        targetId: params.siteId,
      });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/doors",
    summary: "Doors of a site",
    tags: ["doors"],
    access: { kind: "site", permission: "site.read", site: siteOf },
    schema: { params: SiteParams, response: { 200: Strict({ items: Type.Array(Door) }), ...errors } },
    async handler({ ctx, params }) {
      return { items: (await listDoors(ctx, params.siteId)).map(doorJson) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/doors",
    summary:
      "Add a door (optionally bound to a lock's X25519 key, to which new PINs are sealed: binding needs step-up)",
    tags: ["doors"],
    access: { kind: "site", permission: "site.manage", site: siteOf },
    status: 201,
    schema: {
      params: SiteParams,
      body: Strict({
        name: Name,
        lockId: Type.Optional(SafeText(64)),
        lockPublicKey: Type.Optional(LockKey),
      }),
      response: { 201: Door, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      // A door born bound to a lock decides which lock receives sealed PINs, as rebinding does.
      if (body.lockPublicKey !== undefined || body.lockId !== undefined) requireStepUp(call);
      const row = await createDoor(ctx, params.siteId, body);
      await auditCall(call, {
        action: "door.create",
        siteId: params.siteId,
        targetType: "door",
        targetId: row.id,
        details: { name: row.name },
      });
      return doorJson(row);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/doors/:doorId",
    summary: "A door",
    tags: ["doors"],
    access: { kind: "site", permission: "site.read", site: doorSite },
    schema: { params: DoorParams, response: { 200: Door, ...errors } },
    async handler({ ctx, params }) {
      return doorJson(await getDoor(ctx, params.doorId));
    },
  }),
  defineRoute({
    method: "PATCH",
    url: "/api/v1/doors/:doorId",
    summary: "Rename a door or bind it to a lock (changing the binding needs step-up)",
    tags: ["doors"],
    access: { kind: "site", permission: "site.manage", site: doorSite },
    schema: {
      params: DoorParams,
      body: StrictPatch({
        name: Type.Optional(Name),
        lockId: Type.Optional(Type.Union([SafeText(64), Type.Null()])),
        lockPublicKey: Type.Optional(Type.Union([LockKey, Type.Null()])),
      }),
      response: { 200: Door, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      // Rebinding a door decides which lock receives sealed PINs: a security setting.
      if (body.lockPublicKey !== undefined || body.lockId !== undefined) requireStepUp(call);
      const { door: row, fields } = await updateDoor(ctx, params.doorId, body);
      await auditCall(call, {
        action: "door.update",
        siteId: row.site_id,
        targetType: "door",
        targetId: row.id,
        details: { fields: fields.join(",") },
      });
      return doorJson(row);
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/doors/:doorId",
    summary: "Delete a door and its place in grants (step-up)",
    tags: ["doors"],
    access: { kind: "site", permission: "site.manage", site: doorSite },
    stepUp: true,
    schema: { params: DoorParams, response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      await deleteDoor(ctx, params.doorId);
      await auditCall(call, {
        action: "door.delete",
        siteId: call.caller.siteId,
        targetType: "door",
        targetId: params.doorId,
      });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/members",
    summary: "Accounts holding a role on the site",
    tags: ["members"],
    access: { kind: "site", permission: "site.members", site: siteOf },
    schema: { params: SiteParams, response: { 200: Strict({ items: Type.Array(Member) }), ...errors } },
    async handler({ ctx, params }) {
      return { items: await listMembers(ctx, params.siteId) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/members",
    summary:
      "Change a member's role, or invite anyone else by user name (step-up; the link is shown once). The answer is the same whether or not an account has that name. Managers: owner only",
    tags: ["members"],
    access: { kind: "site", permission: "site.members", site: siteOf },
    stepUp: true,
    status: 201,
    schema: {
      params: SiteParams,
      body: Strict({ username: Username, role: Role }),
      response: {
        201: Strict({
          username: Type.String(),
          role: Type.String(),
          inviteLink: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const username = normaliseUsername(body.username);
      const added = await addMember(
        ctx,
        params.siteId,
        { username, role: body.role },
        call.principal().isOwner,
      );
      const details = { username, role: body.role };
      if (added.kind === "role-set") {
        await auditCall(call, {
          action: "member.role.set",
          siteId: params.siteId,
          targetType: "account",
          targetId: added.accountId,
          details,
        });
        return { username, role: body.role, inviteLink: null };
      }
      await auditCall(call, {
        action: "member.invite",
        siteId: params.siteId,
        targetType: "invitation",
        targetId: username,
        details,
      });
      return { username, role: body.role, inviteLink: added.inviteLink };
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/sites/:siteId/members/:accountId",
    summary: "Remove an account's role on this site only (step-up; managers: owner only)",
    tags: ["members"],
    access: { kind: "site", permission: "site.members", site: siteOf },
    stepUp: true,
    schema: { params: Strict({ siteId: Id, accountId: Id }), response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      const role = await removeMember(ctx, params.siteId, params.accountId, call.principal().isOwner);
      await auditCall(call, {
        action: "member.remove",
        siteId: params.siteId,
        targetType: "account",
        targetId: params.accountId,
        details: { role },
      });
      return { ok: true as const };
    },
  }),
];
