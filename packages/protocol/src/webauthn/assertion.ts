/**
 * WebAuthn assertion verification (W3C WebAuthn Level 3, §7.2 "Verifying an Authentication
 * Assertion"), reduced to what a lock needs: an ES256 (P-256) passkey whose public key comes from
 * the person's digital-key certificate, not from a stored credential record.
 *
 * Checked, in order: clientDataJSON parses; type is "webauthn.get"; its challenge (base64url) is
 * the expected one; origin is one of the expected origins; not cross-origin; authenticatorData's
 * rpIdHash is SHA-256(rpId); user present (UP) and, by default, user verified (UV); the DER ECDSA
 * signature over authenticatorData ‖ SHA-256(clientDataJSON); the signature counter (if either
 * the stored or the new count is nonzero, the new one must be larger — else a cloned key).
 */
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, equalBytes } from "../encoding/bytes.js";

export interface WebAuthnAssertion {
  readonly authenticatorData: Uint8Array;
  readonly clientDataJSON: Uint8Array;
  /** ES256 signature, ASN.1 DER. */
  readonly signature: Uint8Array;
}

export type WebAuthnRefusal =
  | "malformed"
  | "wrong-type"
  | "challenge-mismatch"
  | "wrong-origin"
  | "cross-origin"
  | "wrong-rp"
  | "user-not-present"
  | "user-not-verified"
  | "bad-signature"
  | "counter-regressed";

export interface AssertionExpectations {
  readonly challenge: Uint8Array;
  /** Accepted origins, e.g. ["https://hub.example"]. */
  readonly origins: readonly string[];
  readonly rpId: string;
  /** Stored signature counter for this key (0 if never seen). */
  readonly previousSignCount: number;
  /** Default true: a remote unlock must come from the person (biometric or device PIN). */
  readonly requireUserVerification?: boolean;
}

export type AssertionVerdict =
  | { readonly ok: true; readonly signCount: number; readonly flags: number }
  | { readonly ok: false; readonly reason: WebAuthnRefusal };

export const AuthenticatorFlags = {
  UserPresent: 0x01,
  UserVerified: 0x04,
  BackupEligible: 0x08,
  BackupState: 0x10,
  AttestedCredentialData: 0x40,
  ExtensionData: 0x80,
} as const;

export interface ParsedClientData {
  readonly type: string;
  readonly challenge: Uint8Array;
  readonly origin: string;
  readonly crossOrigin: boolean;
}

/** Strict base64url (no padding, URL alphabet) → bytes; null when not base64url. */
export function base64UrlDecode(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const ch of s) {
    value = (value << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  // Unused trailing bits must be zero, so each byte string has exactly one encoding.
  if ((value & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

export function base64UrlEncode(b: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let out = "";
  let bits = 0;
  let value = 0;
  for (const x of b) {
    value = ((value << 8) | x) & 0xffffff;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(value >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(value << (6 - bits)) & 63];
  return out;
}

/** Parses clientDataJSON; null when it is not the expected JSON shape. */
export function parseClientData(json: Uint8Array): ParsedClientData | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  const o = parsed as Record<string, unknown>;
  if (typeof o.type !== "string" || typeof o.challenge !== "string" || typeof o.origin !== "string")
    return null;
  if (o.crossOrigin !== undefined && typeof o.crossOrigin !== "boolean") return null;
  const challenge = base64UrlDecode(o.challenge);
  if (challenge === null) return null;
  return { type: o.type, challenge, origin: o.origin, crossOrigin: o.crossOrigin === true };
}

export interface ParsedAuthenticatorData {
  readonly rpIdHash: Uint8Array;
  readonly flags: number;
  readonly signCount: number;
}

export function parseAuthenticatorData(b: Uint8Array): ParsedAuthenticatorData | null {
  if (b.length < 37) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { rpIdHash: b.slice(0, 32), flags: b[32] ?? 0, signCount: view.getUint32(33) };
}

export function verifyAssertion(
  assertion: WebAuthnAssertion,
  publicKey: Uint8Array,
  expected: AssertionExpectations,
): AssertionVerdict {
  const refuse = (reason: WebAuthnRefusal): AssertionVerdict => ({ ok: false, reason });
  const client = parseClientData(assertion.clientDataJSON);
  const auth = parseAuthenticatorData(assertion.authenticatorData);
  if (client === null || auth === null) return refuse("malformed");
  let signature;
  try {
    signature = p256.Signature.fromBytes(assertion.signature, "der");
  } catch {
    return refuse("malformed");
  }
  if (client.type !== "webauthn.get") return refuse("wrong-type");
  if (!equalBytes(client.challenge, expected.challenge)) return refuse("challenge-mismatch");
  if (!expected.origins.includes(client.origin)) return refuse("wrong-origin");
  if (client.crossOrigin) return refuse("cross-origin");
  if (!equalBytes(auth.rpIdHash, sha256(new TextEncoder().encode(expected.rpId)))) return refuse("wrong-rp");
  if ((auth.flags & AuthenticatorFlags.UserPresent) === 0) return refuse("user-not-present");
  if ((expected.requireUserVerification ?? true) && (auth.flags & AuthenticatorFlags.UserVerified) === 0)
    return refuse("user-not-verified");
  const signed = concatBytes(assertion.authenticatorData, sha256(assertion.clientDataJSON));
  let valid = false;
  try {
    // Authenticators do not normalise s, so high-S signatures are valid WebAuthn signatures.
    valid = p256.verify(signature.toBytes("compact"), signed, publicKey, { lowS: false, prehash: true });
  } catch {
    valid = false;
  }
  if (!valid) return refuse("bad-signature");
  if (
    (auth.signCount !== 0 || expected.previousSignCount !== 0) &&
    auth.signCount <= expected.previousSignCount
  )
    return refuse("counter-regressed");
  return { ok: true, signCount: auth.signCount, flags: auth.flags };
}
