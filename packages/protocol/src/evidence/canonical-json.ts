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

/**
 * Whether `text` is exactly the canonical serialisation of `value` (which JSON.parse made from
 * it). The same answer as `canonicalJson(value) === text` for every value this returns true on,
 * without building a second copy of a file that may be 100 MB: it walks the value and compares
 * each token in place. It may return false where the full comparison would succeed (keys that
 * JSON.parse reorders, escaped strings it does not re-escape), so a false answer must be settled
 * by `canonicalJson`. Throws like canonicalJson for values that have no canonical form.
 */
export function matchesCanonicalText(value: unknown, text: string): boolean {
  let at = 0;
  const token = (t: string): boolean => {
    if (!text.startsWith(t, at)) return false;
    at += t.length;
    return true;
  };
  const quoted = (s: string): boolean => {
    // A string written without escapes is canonical: it holds no quote, backslash or control
    // character (JSON.parse would have refused them) and no lone surrogate (the text is well-formed
    // UTF-16). Anything else is compared with its JSON.stringify form.
    if (
      text.charCodeAt(at) === 0x22 &&
      text.startsWith(s, at + 1) &&
      text.charCodeAt(at + 1 + s.length) === 0x22
    ) {
      at += s.length + 2;
      return true;
    }
    return token(JSON.stringify(s));
  };
  const walk = (v: unknown, path: string): boolean => {
    if (v === null) return token("null");
    switch (typeof v) {
      case "boolean":
        return token(v ? "true" : "false");
      case "number":
        return token(canonicalJson(v, path));
      case "string":
        return quoted(v);
      case "object": {
        if (Array.isArray(v)) {
          if (!token("[")) return false;
          for (let i = 0; i < v.length; i++) {
            if (i > 0 && !token(",")) return false;
            if (!walk(v[i], path)) return false;
          }
          return token("]");
        }
        if (!token("{")) return false;
        let previous: string | null = null;
        for (const key of Object.keys(v)) {
          if (previous !== null && !(previous < key && token(","))) return false;
          if (!quoted(key) || !token(":")) return false;
          if (!walk((v as Record<string, unknown>)[key], path)) return false;
          previous = key;
        }
        return token("}");
      }
      case "bigint":
      case "function":
      case "symbol":
      case "undefined":
        break;
    }
    canonicalJson(v, path); // throws EVIDENCE_MALFORMED
    return false;
  };
  return walk(value, "$") && at === text.length;
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
