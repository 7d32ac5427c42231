/** Schema pieces shared by routes. Every object schema rejects unknown fields. */
import { Type, type TProperties } from "@fastify/type-provider-typebox";

export const Strict = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

/** A PATCH body: unknown fields refused, and at least one field to change. */
export const StrictPatch = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: false, minProperties: 1 });

/** Object ids are UUIDs. */
export const Id = Type.String({
  pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
  maxLength: 36,
});
export const Name = Type.String({ minLength: 1, maxLength: 200 });
export const Username = Type.String({ pattern: "^[A-Za-z0-9._@+-]{1,64}$", maxLength: 64 });
/** Lengths are checked again by the policy, in code points; this only bounds the input. */
export const PasswordInput = Type.String({ minLength: 1, maxLength: 512 });
export const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
export const Limit = Type.String({ pattern: "^(?:[1-9][0-9]?|100)$" });

export const ErrorBody = Strict({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  ),
});

export const Ok = Strict({ ok: Type.Literal(true) });

/** The error responses a route may give, each with the one error body (for OpenAPI). */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as Record<S, typeof ErrorBody>;
}

export const SessionInfo = Strict({
  stage: Type.Union([Type.Literal("enrol"), Type.Literal("mfa"), Type.Literal("full")]),
  csrfToken: Type.String(),
  account: Strict({ id: Type.String(), username: Type.String(), isOwner: Type.Boolean() }),
  stepUpUntil: Type.Union([EpochMs, Type.Null()]),
});
