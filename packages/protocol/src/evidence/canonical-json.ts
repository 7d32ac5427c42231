/**
 * Canonical JSON for evidence bundles: RFC 8785 (JCS) restricted to what bundles use — objects,
 * arrays, strings, booleans, null and safe integers. Keys are sorted by UTF-16 code units, no
 * whitespace, strings escaped exactly as ECMAScript's JSON.stringify does (which is what JCS
 * specifies). A bundle file must be byte-for-byte the canonical serialisation of what it parses
 * to, so no byte can change without either breaking the JSON, changing a value, or being caught
 * by the re-serialisation check.
 */
import { LatchkeyError } from "../errors/error.js";

export type CanonicalValue =
  null | boolean | number | string | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue };

/** Serialises a value canonically; throws EVIDENCE_MALFORMED for non-integers and other types. */
export function canonicalJson(value: unknown, path = "$"): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
        throw new LatchkeyError("EVIDENCE_MALFORMED", `${path}: numbers must be safe integers`, {
          element: path,
        });
      }
      return String(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return "[" + value.map((v: unknown, i) => canonicalJson(v, `${path}[${i}]`)).join(",") + "]";
      }
      const entries = Object.keys(value)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .map(
          (k) =>
            JSON.stringify(k) + ":" + canonicalJson((value as Record<string, unknown>)[k], `${path}.${k}`),
        );
      return "{" + entries.join(",") + "}";
    }
    case "bigint":
    case "function":
    case "symbol":
    case "undefined":
      break;
  }
  throw new LatchkeyError("EVIDENCE_MALFORMED", `${path}: unsupported JSON value`, { element: path });
}

/** UTF-8 bytes of the canonical serialisation. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/** Index of the first byte where `a` and `b` differ (the shorter length if one is a prefix). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
