/** Schema pieces shared by routes. Every object schema rejects unknown fields. */
import { Type, type TProperties } from "typebox";

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
/**
 * Text a person types as a name or label (sites, doors, people, credentials, notes…). It ends up
 * in screens, the audit trail and the ledger, so it may not carry characters that hide or reorder
 * what a reader sees: C0/C1 controls (NUL, newlines, escapes), bidirectional overrides, isolates and
 * marks, line/paragraph separators, and unpaired surrogates. One rule for every such field: the
 * pattern below (validated with the `u` flag, so a lone surrogate is a code point of category Cs),
 * and the error handler turns its failure into HUB_NAME_INVALID naming the field and the character.
 */
export const SAFE_TEXT_PATTERN =
  "^[^\\p{Cc}\\p{Cs}\\u061C\\u200E\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$";
const SAFE_TEXT = new RegExp(SAFE_TEXT_PATTERN, "u");
const UNSAFE_CHAR = /[\p{Cc}\p{Cs}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** A human name or label of `maxLength` code points at most (never empty). */
export const SafeText = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: SAFE_TEXT_PATTERN });

/** Why `value` breaks the name rule (for the error message), or null when it is fine. */
export function unsafeTextReason(value: string): string | null {
  if (SAFE_TEXT.test(value)) return null;
  const bad = UNSAFE_CHAR.exec(value)?.[0] ?? "";
  const cp = bad.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return `contains an unpaired surrogate (${hex})`;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `contains a control character (${hex})`;
  if (cp === 0x2028 || cp === 0x2029) return `contains a line or paragraph separator (${hex})`;
  return `contains a bidirectional control character (${hex})`;
}

export const Name = SafeText(200);
/** Credential labels and other short labels. */
export const Label = SafeText(100);
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
