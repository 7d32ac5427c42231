/**
 * Credentials of a person. A PIN is shown once, in the response that creates it; the hub keeps
 * only copies sealed to each bound lock of the site (X25519, which only that lock can open) and
 * nothing it could test a guess against: no hash of the PIN, so no answer of the hub depends on
 * another person's PIN and its disk reveals none. A duplicate PIN is caught where PINs are kept,
 * on the lock, which refuses it (the credential shows failed with LOCK_CREDENTIAL_DUPLICATE on
 * that lock); `replace-pin` then swaps in a new generated PIN. A card keeps only its last four
 * digits, in its label. Fingerprints and phone keys start as enrolment requests.
 */
import { Type } from "typebox";
import { PIN_LENGTH_LIMITS } from "@latchkey/protocol";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import { EpochMs, Id, Ok, SafeText, Strict, errorResponses } from "./schemas.js";
import type { CredentialTable } from "../db/schema.js";
import { auditCall } from "./audit-routes.js";
import {
  addCredential,
  doorsSealedFor,
  listCredentials,
  replacePin,
  revokeCredential,
} from "../credentials/credentials.js";

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

async function credentialJson(call: Call<RouteSchema>, c: CredentialTable) {
  return {
    id: c.id,
    personId: c.person_id,
    kind: c.kind as "pin",
    label: c.label,
    status: c.status as "active",
    createdAt: c.created_at,
    revokedAt: c.revoked_at,
    sealedForDoors: await doorsSealedFor(call.ctx, c.id),
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
      const rows = await listCredentials(call.ctx, call.params.personId);
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
      const { credential, pin } = await addCredential(ctx, params.personId, call.principal().accountId, body);
      await auditCall(call, {
        action: "credential.create",
        siteId: credential.site_id,
        targetType: "credential",
        targetId: credential.id,
        details: { kind: body.kind, personId: credential.person_id },
      });
      return { credential: await credentialJson(call, credential), pin };
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
      const { credential, pin, replaced } = await replacePin(ctx, params.credentialId, body.length);
      await auditCall(call, {
        action: "credential.replace-pin",
        siteId: credential.site_id,
        targetType: "credential",
        targetId: credential.id,
        details: { replaced: replaced.id, personId: credential.person_id },
      });
      return { credential: await credentialJson(call, credential), pin, replaced: replaced.id };
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
      await revokeCredential(ctx, params.credentialId);
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
