/**
 * Credentials of a person. A PIN is shown once, in the response that creates it; the hub keeps
 * only its keyed hash (for duplicate detection per door) and, per bound lock of the doors the
 * person can open, a copy sealed to that lock's X25519 key. A card number is kept as a keyed
 * hash and its last four digits; fingerprints and phone keys start as enrolment requests.
 */
import { randomUUID } from "node:crypto";
import { Type } from "@fastify/type-provider-typebox";
import { fromHex, LatchkeyError } from "@latchkey/protocol";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "../authz/route-table.js";
import { EpochMs, Id, Ok, Strict, errorResponses } from "../server/schemas.js";
import type { CredentialTable, HubDatabase, IngestTables, SyncTables } from "../db/schema.js";
import { auditCall } from "../audit/routes.js";
import { liveDoorIds, pinCollides } from "../grants/live.js";
import { assertStrongPin, generatePin, PIN_MAX, PIN_MIN } from "./pin-policy.js";
import { sealForLocks, type SyncSecret } from "../sync/reconcile.js";
import { destroyGuestLinks } from "../guest-links/service.js";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422);
const Label = Type.String({ minLength: 1, maxLength: 100 });
const Kind = Type.Union([
  Type.Literal("pin"),
  Type.Literal("card"),
  Type.Literal("fingerprint"),
  Type.Literal("phone_key"),
]);
const Status = Type.Union([
  Type.Literal("active"),
  Type.Literal("enrolment_requested"),
  Type.Literal("revoked"),
]);

const Credential = Strict({
  id: Id,
  personId: Id,
  kind: Kind,
  label: Type.String(),
  status: Status,
  createdAt: EpochMs,
  revokedAt: Type.Union([EpochMs, Type.Null()]),
  sealedForDoors: Type.Array(Id),
});
const Created = Strict({ credential: Credential, pin: Type.Union([Type.String(), Type.Null()]) });

const CreateBody = Type.Union([
  Strict({
    kind: Type.Literal("pin"),
    label: Type.Optional(Label),
    pin: Type.Optional(Type.String({ pattern: "^[0-9]*$", maxLength: 32 })),
    length: Type.Optional(Type.Integer({ minimum: PIN_MIN, maximum: PIN_MAX })),
  }),
  Strict({
    kind: Type.Literal("card"),
    label: Type.Optional(Label),
    cardNumber: Type.String({ pattern: "^[0-9A-Fa-f]{4,64}$" }),
  }),
  Strict({ kind: Type.Literal("fingerprint"), label: Type.Optional(Label) }),
  Strict({ kind: Type.Literal("phone_key"), label: Type.Optional(Label) }),
]);

async function credentialJson(call: Call<RouteSchema>, c: CredentialTable) {
  const seals = await call.ctx.db
    .withTables<Pick<SyncTables & IngestTables, "credential_sync" | "locks">>()
    .selectFrom("credential_sync")
    .innerJoin("locks", "locks.id", "credential_sync.lock_id")
    .select("locks.door_id as door_id")
    .where("credential_sync.credential_id", "=", c.id)
    .where("credential_sync.sealed", "is not", null)
    .orderBy("locks.door_id")
    .execute();
  return {
    id: c.id,
    personId: c.person_id,
    kind: c.kind as "pin",
    label: c.label,
    status: c.status as "active",
    createdAt: c.created_at,
    revokedAt: c.revoked_at,
    sealedForDoors: seals.flatMap((s) => (s.door_id === null ? [] : [s.door_id])),
  };
}

export const CREDENTIAL_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/people/:personId/credentials",
    summary: "A person's credentials (never their secrets)",
    tags: ["credentials"],
    access: { kind: "site", permission: "site.read", site: { param: "personId", table: "people" } },
    schema: {
      params: Strict({ personId: Id }),
      response: { 200: Strict({ items: Type.Array(Credential) }), ...errors },
    },
    async handler(call) {
      const rows = await call.ctx.db
        .selectFrom("credentials")
        .selectAll()
        .where("person_id", "=", call.params.personId)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      const items = [];
      for (const r of rows) items.push(await credentialJson(call, r));
      return { items };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/people/:personId/credentials",
    summary:
      "Add a credential. A PIN (chosen, or generated when `pin` is absent) is returned once, here only",
    tags: ["credentials"],
    access: { kind: "site", permission: "site.manage", site: { param: "personId", table: "people" } },
    status: 201,
    schema: { params: Strict({ personId: Id }), body: CreateBody, response: { 201: Created, ...errors } },
    async handler(call) {
      const { ctx, params, body } = call;
      const person = await ctx.db
        .selectFrom("people")
        .selectAll()
        .where("id", "=", params.personId)
        .executeTakeFirstOrThrow();
      const id = randomUUID();
      const now = ctx.now();
      let pin: string | null = null;
      let secretHmac: string | null = null;
      let status = "active";
      let label = body.label ?? "";
      let syncSecret: SyncSecret | null = null;
      switch (body.kind) {
        case "pin": {
          const doors = (await liveDoorIds(ctx, [person.id])).get(person.id) ?? new Set<string>();
          if (body.pin !== undefined) {
            assertStrongPin(body.pin, person.phone);
            pin = body.pin;
            if (await pinCollides(ctx, ctx.secret.keyedHash("pin", pin), doors, person.id)) {
              throw new LatchkeyError(
                "HUB_PIN_DUPLICATE",
                "this PIN is already in use on one of this person's doors; choose another",
                { field: "pin" },
              );
            }
          } else {
            // Collision checks are async; draw candidates until a free one is found.
            const length = body.length ?? 6;
            for (let attempt = 0; pin === null && attempt < 50; attempt++) {
              const candidate = generatePin(length, person.phone);
              if (!(await pinCollides(ctx, ctx.secret.keyedHash("pin", candidate), doors, person.id)))
                pin = candidate;
            }
            if (pin === null)
              throw new LatchkeyError(
                "HUB_PIN_DUPLICATE",
                "could not generate a free PIN; ask for a longer one",
                { length },
              );
          }
          secretHmac = ctx.secret.keyedHash("pin", pin);
          label ||= "PIN";
          syncSecret = { kind: "pin", pin };
          break;
        }
        case "card": {
          secretHmac = ctx.secret.keyedHash("card", body.cardNumber.toLowerCase());
          const dup = await ctx.db
            .selectFrom("credentials")
            .select("id")
            .where("secret_hmac", "=", secretHmac)
            .where("status", "=", "active")
            .where("site_id", "=", person.site_id)
            .executeTakeFirst();
          if (dup !== undefined)
            throw new LatchkeyError("HUB_CONFLICT", "this card is already enrolled at this site", {
              field: "cardNumber",
            });
          label ||= `Card …${body.cardNumber.slice(-4)}`;
          // Locks read 4-, 7- and 10-byte UIDs; other numbers are kept for the record only.
          if ([8, 14, 20].includes(body.cardNumber.length))
            syncSecret = { kind: "card", uid: fromHex(body.cardNumber.toLowerCase()) };
          break;
        }
        case "fingerprint":
          status = "enrolment_requested";
          label ||= "Fingerprint";
          break;
        case "phone_key":
          status = "enrolment_requested";
          label ||= "Phone key";
          break;
      }
      const row: CredentialTable = {
        id,
        person_id: person.id,
        site_id: person.site_id,
        kind: body.kind,
        label,
        secret_hmac: secretHmac,
        status,
        created_at: now,
        revoked_at: null,
      };
      await ctx.db.transaction().execute(async (trx) => {
        await trx.insertInto("credentials").values(row).execute();
        // Sealed now, while the hub holds the secret: one copy per lock of the site, for the
        // person's slot there. Grants decide (sync/reconcile.ts) which copies go to which lock.
        if (syncSecret !== null)
          await sealForLocks(trx.withTables<Pick<HubDatabase, keyof HubDatabase>>(), {
            credentialId: id,
            personId: person.id,
            siteId: person.site_id,
            secret: syncSecret,
            now,
          });
      });
      await auditCall(call, {
        action: "credential.create",
        siteId: person.site_id,
        targetType: "credential",
        targetId: id,
        details: { kind: body.kind, personId: person.id },
      });
      return { credential: await credentialJson(call, row), pin };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/credentials/:credentialId/revoke",
    summary: "Revoke a credential: it is removed from every lock, then its sealed copies are destroyed",
    tags: ["credentials"],
    access: {
      kind: "site",
      permission: "site.manage",
      site: { param: "credentialId", table: "credentials" },
    },
    schema: { params: Strict({ credentialId: Id }), response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      await ctx.db.transaction().execute(async (trx) => {
        await trx
          .updateTable("credentials")
          .set({ status: "revoked", revoked_at: ctx.now() })
          .where("id", "=", params.credentialId)
          .where("status", "!=", "revoked")
          .execute();
        // An unopened guest link's sealed PIN goes too.
        await destroyGuestLinks(trx, params.credentialId);
      });
      await auditCall(call, {
        action: "credential.revoke",
        siteId: call.caller.siteId,
        targetType: "credential",
        targetId: params.credentialId,
      });
      return { ok: true as const };
    },
  }),
];
