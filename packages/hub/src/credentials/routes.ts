/**
 * Credentials of a person. A PIN is shown once, in the response that creates it; the hub keeps
 * only copies sealed to each bound lock of the site (X25519, which only that lock can open) and
 * nothing it could test a guess against: no hash of the PIN, so no answer of the hub depends on
 * another person's PIN and its disk reveals none. A duplicate PIN is caught where PINs are kept,
 * on the lock, which refuses it (the credential shows failed with LOCK_CREDENTIAL_DUPLICATE on
 * that lock); `replace-pin` then swaps in a new generated PIN. A card keeps only its last four
 * digits, in its label. Fingerprints and phone keys start as enrolment requests.
 */
import { randomUUID } from "node:crypto";
import { Type } from "@fastify/type-provider-typebox";
import { fromHex, isLatchkeyError, LatchkeyError, PIN_LENGTH_LIMITS } from "@latchkey/protocol";
import type { Kysely } from "kysely";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "../authz/route-table.js";
import { EpochMs, Id, Ok, SafeText, Strict, errorResponses } from "../server/schemas.js";
import type { CredentialTable, Database, HubDatabase, IngestTables, SyncTables } from "../db/schema.js";
import type { HubContext } from "../server/context.js";
import type { ThrottlePolicy } from "../abuse/rate-limit.js";
import { auditCall } from "../audit/routes.js";
import { assertStrongPin, defaultPinLength, generateHubPin, sitePinPolicy } from "./pin-policy.js";
import { sealForLocks, type SyncSecret } from "../sync/reconcile.js";
import { destroyGuestLinks } from "../guest-links/service.js";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422, 429);
const Label = SafeText(100); // the one name rule (server/schemas.ts)
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

/** Any length a lock may be set to accept; the site's locks' policy decides (HUB_PIN_WEAK). */
const PinLength = Type.Integer({ minimum: PIN_LENGTH_LIMITS.min, maximum: PIN_LENGTH_LIMITS.max });

const CreateBody = Type.Union([
  Strict({
    kind: Type.Literal("pin"),
    label: Type.Optional(Label),
    pin: Type.Optional(Type.String({ pattern: "^[0-9]*$", maxLength: 32 })),
    length: Type.Optional(PinLength),
  }),
  Strict({
    kind: Type.Literal("card"),
    label: Type.Optional(Label),
    cardNumber: Type.String({ pattern: "^[0-9A-Fa-f]{4,64}$" }),
  }),
  Strict({ kind: Type.Literal("fingerprint"), label: Type.Optional(Label) }),
  Strict({ kind: Type.Literal("phone_key"), label: Type.Optional(Label) }),
]);

/** Chosen PINs per account: 10 an hour freely, then each waits twice as long (up to 5 minutes). */
export const CHOSEN_PIN_POLICY: ThrottlePolicy = {
  freeFailures: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

function chosenPinKey(accountId: string): string {
  return `chosen-pin:${accountId}`;
}

async function checkChosenPinBudget(ctx: HubContext, accountId: string): Promise<void> {
  try {
    await ctx.throttle.check([chosenPinKey(accountId)]);
  } catch (e) {
    if (!isLatchkeyError(e, "AUTH_RATE_LIMITED")) throw e;
    const retryAfterSeconds = Number(e.details?.retryAfterSeconds ?? 1);
    throw new LatchkeyError(
      "HUB_PIN_RATE_LIMITED",
      `too many chosen PINs from this account; retry in ${retryAfterSeconds} s, or let the hub generate the PIN`,
      { retryAfterSeconds },
    );
  }
}

/**
 * Inserts a credential and, while the hub holds its secret, seals it to every bound lock of the
 * site for the person's slot there; grants decide (sync/reconcile.ts) which copies go where.
 */
async function insertCredential(
  trx: Kysely<Database>,
  row: CredentialTable,
  secret: SyncSecret | null,
): Promise<void> {
  await trx.insertInto("credentials").values(row).execute();
  if (secret !== null)
    await sealForLocks(trx.withTables<Pick<HubDatabase, keyof HubDatabase>>(), {
      credentialId: row.id,
      personId: row.person_id,
      siteId: row.site_id,
      secret,
      now: row.created_at,
    });
}

/** Revokes a credential (inside the caller's transaction); the engine then removes it from locks. */
async function revokeCredential(trx: Kysely<Database>, credentialId: string, now: number): Promise<void> {
  await trx
    .updateTable("credentials")
    .set({ status: "revoked", revoked_at: now })
    .where("id", "=", credentialId)
    .where("status", "!=", "revoked")
    .execute();
  // An unopened guest link's sealed PIN goes too.
  await destroyGuestLinks(trx, credentialId);
}

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
    stepUp: true,
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
      let status = "active";
      let label = body.label ?? "";
      let syncSecret: SyncSecret | null = null;
      switch (body.kind) {
        case "pin": {
          // The strictest policy among the site's locks: the PIN is sealed to every one of them.
          const policy = await sitePinPolicy(ctx.db, person.site_id);
          if (body.pin !== undefined) {
            // A chosen PIN could be a guess at someone else's (the lock refuses duplicates):
            // the same answer whatever the PIN, and few of them per account and hour.
            await checkChosenPinBudget(ctx, call.principal().accountId);
            assertStrongPin(body.pin, person.phone, policy);
            await ctx.throttle.fail(chosenPinKey(call.principal().accountId), CHOSEN_PIN_POLICY);
            pin = body.pin;
          } else {
            pin = generateHubPin(body.length ?? defaultPinLength(policy), person.phone, policy);
          }
          label ||= "PIN";
          syncSecret = { kind: "pin", pin };
          break;
        }
        case "card": {
          // Only the last four digits stay on the hub, in the label; the lock refuses a card
          // already enrolled there.
          label ||= `Card …${body.cardNumber.slice(-4)}`;
          // Locks read 4-, 7- and 10-byte UIDs; other numbers are kept by no one.
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
        status,
        created_at: now,
        revoked_at: null,
      };
      await ctx.db.transaction().execute((trx) => insertCredential(trx, row, syncSecret));
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
    url: "/api/v1/credentials/:credentialId/replace-pin",
    summary:
      "Replace an active PIN with a new generated one (e.g. after a lock refused it as a duplicate): the new PIN is returned once, here only; the old one is revoked and removed from every lock",
    tags: ["credentials"],
    access: {
      kind: "site",
      permission: "site.manage",
      site: { param: "credentialId", table: "credentials" },
    },
    stepUp: true,
    status: 201,
    schema: {
      params: Strict({ credentialId: Id }),
      body: Strict({ length: Type.Optional(PinLength) }),
      response: { 201: Strict({ credential: Credential, pin: Type.String(), replaced: Id }), ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const old = await ctx.db
        .selectFrom("credentials")
        .selectAll()
        .where("id", "=", params.credentialId)
        .executeTakeFirstOrThrow();
      if (old.kind !== "pin" || old.status !== "active")
        throw new LatchkeyError("HUB_CONFLICT", "only an active PIN can be replaced", {
          field: "credentialId",
        });
      const person = await ctx.db
        .selectFrom("people")
        .selectAll()
        .where("id", "=", old.person_id)
        .executeTakeFirstOrThrow();
      const policy = await sitePinPolicy(ctx.db, person.site_id);
      const pin = generateHubPin(body.length ?? defaultPinLength(policy), person.phone, policy);
      const now = ctx.now();
      const row: CredentialTable = {
        id: randomUUID(),
        person_id: person.id,
        site_id: person.site_id,
        kind: "pin",
        label: old.label,
        status: "active",
        created_at: now,
        revoked_at: null,
      };
      await ctx.db.transaction().execute(async (trx) => {
        // Revoked first, in the same transaction: the person never holds both PINs as active.
        const revoked = await trx
          .updateTable("credentials")
          .set({ status: "revoked", revoked_at: now })
          .where("id", "=", old.id)
          .where("status", "=", "active")
          .executeTakeFirst();
        if (revoked.numUpdatedRows === 0n)
          throw new LatchkeyError("HUB_CONFLICT", "only an active PIN can be replaced", {
            field: "credentialId",
          });
        await destroyGuestLinks(trx, old.id);
        await insertCredential(trx, row, { kind: "pin", pin });
      });
      await auditCall(call, {
        action: "credential.replace-pin",
        siteId: person.site_id,
        targetType: "credential",
        targetId: row.id,
        details: { replaced: old.id, personId: person.id },
      });
      return { credential: await credentialJson(call, row), pin, replaced: old.id };
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
      await ctx.db.transaction().execute((trx) => revokeCredential(trx, params.credentialId, ctx.now()));
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
