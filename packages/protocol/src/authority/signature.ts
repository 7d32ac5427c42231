/**
 * Authority signatures: a person's approval of one record for one purpose at one site — a
 * WebAuthn assertion by their passkey over the authority challenge (purpose.ts), or an Ed25519
 * signature by the site's recovery key over the same 32 bytes.
 *
 * Canonical fixed layout (big-endian), v1:
 *
 *   offset   size  field
 *        0      1  tag length (= 31)
 *        1     31  "latchkey/authority-signature/v1"
 *       32      1  kind: 1 = passkey assertion, 2 = recovery-key signature
 *   kind 1 (passkey, WebAuthn L3 §7.2 inputs, as `AuthenticatorAssertionResponse` gives them):
 *       33      2  credential id length C (1–1023) ‖ C bytes credential id (`rawId`)
 *    35+C      2  authenticatorData length A (37–1024) ‖ A bytes authenticatorData
 *               2  clientDataJSON length J (1–4096) ‖ J bytes clientDataJSON
 *               1  signature length S (8–72) ‖ S bytes ES256 signature, ASN.1 DER
 *   kind 2 (recovery key):
 *       33     32  Ed25519 public key of the recovery key
 *       65     64  Ed25519 signature (RFC 8032) over the 32-byte authority challenge
 *
 * The signature names its key (credential id, or public key) so a verifier finds it in the
 * authority set; a key that is not in the set signs nothing.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { ByteReader, ByteWriter, equalBytes } from "../encoding/bytes.js";
import { nobleEd25519, type Ed25519 } from "../crypto/ed25519.js";
import { LatchkeyError } from "../errors/error.js";
import {
  parseClientData,
  verifyAssertion,
  type WebAuthnAssertion,
  type WebAuthnRefusal,
} from "../webauthn/assertion.js";
import { invalid, isBytes, isInt, malformed, readTag } from "./codec.js";
import { AuthorityKeyKind, MAX_CREDENTIAL_ID_BYTES, type AuthorityKey } from "./key.js";
import { authorityChallenge, type AuthorityPurpose } from "./purpose.js";
import type { AuthoritySetFields } from "./set.js";

export const AUTHORITY_SIGNATURE_TAG = "latchkey/authority-signature/v1";
const TAG = new TextEncoder().encode(AUTHORITY_SIGNATURE_TAG);
const WHAT = "authority signature";

export const MAX_AUTHENTICATOR_DATA_BYTES = 1024;
export const MAX_CLIENT_DATA_JSON_BYTES = 4096;

export interface PasskeyAuthoritySignature extends WebAuthnAssertion {
  readonly kind: typeof AuthorityKeyKind.Passkey;
  readonly credentialId: Uint8Array;
}

export interface RecoveryAuthoritySignature {
  readonly kind: typeof AuthorityKeyKind.Recovery;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

export type AuthoritySignature = PasskeyAuthoritySignature | RecoveryAuthoritySignature;

function signatureProblem(s: AuthoritySignature): [string, string] | null {
  if (typeof s !== "object" || s === null) return ["signature", "must be an object"];
  if (s.kind === AuthorityKeyKind.Passkey) {
    if (!isBytes(s.credentialId) || !isInt(s.credentialId.length, 1, MAX_CREDENTIAL_ID_BYTES))
      return ["credentialId", `must be 1–${MAX_CREDENTIAL_ID_BYTES} bytes`];
    if (!isBytes(s.authenticatorData) || !isInt(s.authenticatorData.length, 37, MAX_AUTHENTICATOR_DATA_BYTES))
      return ["authenticatorData", `must be 37–${MAX_AUTHENTICATOR_DATA_BYTES} bytes`];
    if (!isBytes(s.clientDataJSON) || !isInt(s.clientDataJSON.length, 1, MAX_CLIENT_DATA_JSON_BYTES))
      return ["clientDataJSON", `must be 1–${MAX_CLIENT_DATA_JSON_BYTES} bytes`];
    if (!isBytes(s.signature) || !isInt(s.signature.length, 8, 72))
      return ["signature", "must be an 8–72 byte DER signature"];
    return null;
  }
  if (s.kind === AuthorityKeyKind.Recovery) {
    if (!isBytes(s.publicKey, 32)) return ["publicKey", "must be 32 bytes"];
    if (!isBytes(s.signature, 64)) return ["signature", "must be 64 bytes"];
    return null;
  }
  return ["kind", "is unknown"];
}

/** The canonical encoding; AUTHORITY_INVALID_FIELDS on bad lengths. */
export function encodeAuthoritySignature(s: AuthoritySignature): Uint8Array {
  const problem = signatureProblem(s);
  if (problem !== null) invalid(WHAT, problem[0], problem[1]);
  const w = new ByteWriter().u8(TAG.length).bytes(TAG).u8(s.kind);
  if (s.kind === AuthorityKeyKind.Passkey) {
    w.bytesVar16(s.credentialId).bytesVar16(s.authenticatorData).bytesVar16(s.clientDataJSON);
    w.u8(s.signature.length).bytes(s.signature);
  } else w.bytes(s.publicKey).bytes(s.signature);
  return w.finish();
}

/** Decodes one signature (does not verify it); AUTHORITY_MALFORMED or LK_DECODE_* only. */
export function decodeAuthoritySignature(bytes: Uint8Array): AuthoritySignature {
  const r = new ByteReader(bytes, WHAT);
  readTag(r, TAG, WHAT);
  const kind = r.u8("kind");
  let s: AuthoritySignature;
  if (kind === AuthorityKeyKind.Passkey) {
    const credentialId = r.bytesVar16("credentialId", MAX_CREDENTIAL_ID_BYTES);
    const authenticatorData = r.bytesVar16("authenticatorData", MAX_AUTHENTICATOR_DATA_BYTES);
    const clientDataJSON = r.bytesVar16("clientDataJSON", MAX_CLIENT_DATA_JSON_BYTES);
    const signature = r.bytesFixed(r.u8("signature length"), "signature");
    s = { kind, credentialId, authenticatorData, clientDataJSON, signature };
  } else if (kind === AuthorityKeyKind.Recovery) {
    s = { kind, publicKey: r.bytesFixed(32, "publicKey"), signature: r.bytesFixed(64, "signature") };
  } else malformed(WHAT, "kind", "is unknown");
  r.end();
  const problem = signatureProblem(s);
  if (problem !== null) malformed(WHAT, problem[0], problem[1]);
  return s;
}

/** Wraps what `navigator.credentials.get()` returned (rawId and the assertion response). */
export function passkeyAuthoritySignature(
  credentialId: Uint8Array,
  assertion: WebAuthnAssertion,
): PasskeyAuthoritySignature {
  const s: PasskeyAuthoritySignature = {
    kind: AuthorityKeyKind.Passkey,
    credentialId: credentialId.slice(),
    authenticatorData: assertion.authenticatorData.slice(),
    clientDataJSON: assertion.clientDataJSON.slice(),
    signature: assertion.signature.slice(),
  };
  encodeAuthoritySignature(s);
  return s;
}

/** Signs `record` for `purpose` at `siteId` with the recovery key's 32-byte seed. */
export function signWithRecoveryKey(
  purpose: AuthorityPurpose,
  siteId: Uint8Array,
  record: Uint8Array,
  seed: Uint8Array,
  ed: Ed25519 = nobleEd25519,
): RecoveryAuthoritySignature {
  if (!isBytes(seed, 32)) invalid(WHAT, "seed", "must be 32 bytes");
  return {
    kind: AuthorityKeyKind.Recovery,
    publicKey: ed.publicKey(seed),
    signature: ed.sign(seed, authorityChallenge(purpose, siteId, record)),
  };
}

/**
 * Whether a browser origin may speak for `rpId` (WebAuthn L3 §5.1.2: the RP ID is the origin's
 * host or a registrable suffix of it): https with host = rpId or a subdomain of it, any port;
 * plain http only for rpId "localhost".
 */
export function originMatchesRpId(origin: string, rpId: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // An origin is scheme://host[:port] and nothing else.
  if (url.origin !== origin) return false;
  if (url.protocol !== "https:" && !(url.protocol === "http:" && rpId === "localhost")) return false;
  return url.hostname === rpId || url.hostname.endsWith("." + rpId);
}

export type AuthoritySignatureRefusal = WebAuthnRefusal | "unknown-key";

export type AuthoritySignatureVerdict =
  | {
      readonly ok: true;
      /** The set's key that made the signature, and its position in `set.keys`. */
      readonly key: AuthorityKey;
      readonly keyIndex: number;
      /** The passkey's signature counter (0 for recovery keys and passkeys that do not count). */
      readonly signCount: number;
    }
  | { readonly ok: false; readonly reason: AuthoritySignatureRefusal };

export interface AuthoritySignatureOptions {
  /**
   * Accepted origins of the web app that asked the passkey (e.g. ["https://hub.example"]). When
   * absent, any https origin on the passkey's rpId or a subdomain of it (`originMatchesRpId`).
   */
  readonly origins?: readonly string[];
  /** Default true: the person proved themselves to the authenticator (biometric or device PIN). */
  readonly requireUserVerification?: boolean;
  /** The stored signature counter for a passkey (0 if never seen, the default). */
  readonly previousSignCount?: (key: AuthorityKey) => number;
  readonly ed25519?: Ed25519;
}

function decodeOrNull(bytes: Uint8Array): AuthoritySignature | null {
  try {
    return decodeAuthoritySignature(bytes);
  } catch (e) {
    if (e instanceof LatchkeyError) return null;
    throw e;
  }
}

/**
 * Verifies one authority signature over `record` for `purpose` against the keys of `set` (its
 * site id goes into the challenge). Never throws for bad input: a refusal names its reason. For
 * a passkey, after finding the key by credential id, the checks are `verifyAssertion`'s (type,
 * challenge, origin, not cross-origin, rpIdHash = SHA-256 of the key's rpId, UP, UV by default,
 * the ES256 signature, the counter); a signature for another purpose, site or record fails as
 * `challenge-mismatch`. For a recovery key: Ed25519 over the challenge (`bad-signature`).
 */
export function verifyAuthoritySignature(
  purpose: AuthorityPurpose,
  record: Uint8Array,
  signature: AuthoritySignature | Uint8Array,
  set: AuthoritySetFields,
  opts: AuthoritySignatureOptions = {},
): AuthoritySignatureVerdict {
  const refuse = (reason: AuthoritySignatureRefusal): AuthoritySignatureVerdict => ({ ok: false, reason });
  const sig = signature instanceof Uint8Array ? decodeOrNull(signature) : signature;
  if (sig === null || signatureProblem(sig) !== null || !isBytes(record)) return refuse("malformed");
  const challenge = authorityChallenge(purpose, set.siteId, record);
  if (sig.kind === AuthorityKeyKind.Recovery) {
    const keyIndex = set.keys.findIndex(
      (k) => k.kind === AuthorityKeyKind.Recovery && equalBytes(k.publicKey, sig.publicKey),
    );
    const key = set.keys[keyIndex];
    if (key === undefined) return refuse("unknown-key");
    // Strict RFC 8032 verification (no ZIP-215 leniency): one signature per message and key.
    const ed = opts.ed25519;
    const valid =
      ed === undefined
        ? strictEd25519Verify(key.publicKey, challenge, sig.signature)
        : ed.verify(key.publicKey, challenge, sig.signature);
    return valid ? { ok: true, key, keyIndex, signCount: 0 } : refuse("bad-signature");
  }
  const keyIndex = set.keys.findIndex(
    (k) => k.kind === AuthorityKeyKind.Passkey && equalBytes(k.credentialId, sig.credentialId),
  );
  const key = set.keys[keyIndex];
  if (key === undefined || key.kind !== AuthorityKeyKind.Passkey) return refuse("unknown-key");
  let origins = opts.origins;
  if (origins === undefined) {
    const client = parseClientData(sig.clientDataJSON);
    if (client === null) return refuse("malformed");
    origins = originMatchesRpId(client.origin, key.rpId) ? [client.origin] : [];
  }
  const verdict = verifyAssertion(sig, key.publicKey, {
    challenge,
    origins,
    rpId: key.rpId,
    previousSignCount: opts.previousSignCount?.(key) ?? 0,
    requireUserVerification: opts.requireUserVerification ?? true,
  });
  if (!verdict.ok) return refuse(verdict.reason);
  return { ok: true, key, keyIndex, signCount: verdict.signCount };
}

function strictEd25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
