/**
 * Authority keys: the keys whose signatures carry a site's authority (docs/authority.md). Two
 * kinds: a person's **passkey** (WebAuthn, ES256 / P-256, bound to an rpId and a credential id)
 * and a **recovery key** (Ed25519, its seed printed once and kept offline).
 *
 * Canonical fixed layout (big-endian), v1 — one encoding per key:
 *
 *   offset      size  field
 *        0         1  tag length (= 25)
 *        1        25  "latchkey/authority-key/v1"
 *       26         1  kind: 1 = passkey (P-256), 2 = recovery key (Ed25519)
 *       27         1  label length L (1–64)
 *       28         L  label, UTF-8 ("Alice's phone", "Recovery sheet 2026-12")
 *   kind 1 (passkey):
 *     28+L        65  public key, uncompressed SEC1 (0x04 ‖ x ‖ y), a point on P-256
 *     93+L         2  credential id length C (1–1023, WebAuthn L3 §5.1 credential id limit)
 *     95+L         C  credential id (raw bytes, as `PublicKeyCredential.rawId`)
 *     95+L+C       1  rpId length R (1–253)
 *     96+L+C       R  rpId: lower-case ASCII DNS name (WebAuthn L3 §5.1.2 "RP ID")
 *   kind 2 (recovery key):
 *     28+L        32  Ed25519 public key (RFC 8032), not of small order
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ByteReader, ByteWriter, equalBytes, toHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import {
  decodeUtf8,
  invalid,
  isBytes,
  isP256Point,
  isStrongEd25519Key,
  malformed,
  readTag,
  utf8Within,
} from "./codec.js";

export const AUTHORITY_KEY_TAG = "latchkey/authority-key/v1";
const TAG = new TextEncoder().encode(AUTHORITY_KEY_TAG);
const WHAT = "authority key";

export const AuthorityKeyKind = { Passkey: 1, Recovery: 2 } as const;
export type AuthorityKeyKind = (typeof AuthorityKeyKind)[keyof typeof AuthorityKeyKind];

export const MAX_LABEL_BYTES = 64;
export const MAX_CREDENTIAL_ID_BYTES = 1023;
export const MAX_RP_ID_BYTES = 253;

export interface PasskeyAuthorityKey {
  readonly kind: typeof AuthorityKeyKind.Passkey;
  readonly label: string;
  /** Uncompressed P-256 point, 65 bytes. */
  readonly publicKey: Uint8Array;
  readonly credentialId: Uint8Array;
  readonly rpId: string;
}

export interface RecoveryAuthorityKey {
  readonly kind: typeof AuthorityKeyKind.Recovery;
  readonly label: string;
  /** Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
}

export type AuthorityKey = PasskeyAuthorityKey | RecoveryAuthorityKey;

const RP_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export function isValidRpId(rpId: unknown): rpId is string {
  return typeof rpId === "string" && rpId.length <= MAX_RP_ID_BYTES && RP_ID.test(rpId);
}

function keyProblem(k: AuthorityKey): [string, string] | null {
  if (typeof k !== "object" || k === null) return ["key", "must be an object"];
  if (utf8Within(k.label, MAX_LABEL_BYTES) === null)
    return ["label", `must be 1–${MAX_LABEL_BYTES} bytes of UTF-8`];
  if (k.kind === AuthorityKeyKind.Passkey) {
    if (!isBytes(k.publicKey) || !isP256Point(k.publicKey))
      return ["publicKey", "must be an uncompressed P-256 point (65 bytes)"];
    if (
      !isBytes(k.credentialId) ||
      k.credentialId.length < 1 ||
      k.credentialId.length > MAX_CREDENTIAL_ID_BYTES
    )
      return ["credentialId", `must be 1–${MAX_CREDENTIAL_ID_BYTES} bytes`];
    if (!isValidRpId(k.rpId)) return ["rpId", "must be a lower-case DNS name of 1–253 characters"];
    return null;
  }
  if (k.kind === AuthorityKeyKind.Recovery) {
    if (!isBytes(k.publicKey) || !isStrongEd25519Key(k.publicKey))
      return ["publicKey", "must be a 32-byte Ed25519 key not of small order"];
    return null;
  }
  return ["kind", "is unknown"];
}

/** Writes the key's encoding into `w` (fields already checked). */
function writeKey(w: ByteWriter, k: AuthorityKey): ByteWriter {
  w.u8(TAG.length).bytes(TAG).u8(k.kind);
  const label = new TextEncoder().encode(k.label);
  w.u8(label.length).bytes(label).bytes(k.publicKey);
  if (k.kind === AuthorityKeyKind.Passkey) {
    const rp = new TextEncoder().encode(k.rpId);
    w.u16(k.credentialId.length).bytes(k.credentialId).u8(rp.length).bytes(rp);
  }
  return w;
}

/** The canonical encoding; AUTHORITY_INVALID_FIELDS on a bad key. */
export function encodeAuthorityKey(k: AuthorityKey): Uint8Array {
  const problem = keyProblem(k);
  if (problem !== null) invalid(WHAT, problem[0], problem[1]);
  return writeKey(new ByteWriter(), k).finish();
}

/** Decodes one key; throws AUTHORITY_MALFORMED or LK_DECODE_* only. */
export function decodeAuthorityKey(bytes: Uint8Array): AuthorityKey {
  const r = new ByteReader(bytes, WHAT);
  readTag(r, TAG, WHAT);
  const kind = r.u8("kind");
  if (kind !== AuthorityKeyKind.Passkey && kind !== AuthorityKeyKind.Recovery)
    malformed(WHAT, "kind", "is unknown");
  const labelLength = r.u8("label length");
  if (labelLength < 1 || labelLength > MAX_LABEL_BYTES)
    malformed(WHAT, "label", `must be 1–${MAX_LABEL_BYTES} bytes`);
  const label = decodeUtf8(r.bytesFixed(labelLength, "label"), WHAT, "label");
  let key: AuthorityKey;
  if (kind === AuthorityKeyKind.Passkey) {
    const publicKey = r.bytesFixed(65, "publicKey");
    const credentialLength = r.u16("credential id length");
    if (credentialLength < 1 || credentialLength > MAX_CREDENTIAL_ID_BYTES)
      malformed(WHAT, "credentialId", `must be 1–${MAX_CREDENTIAL_ID_BYTES} bytes`);
    const credentialId = r.bytesFixed(credentialLength, "credentialId");
    const rpLength = r.u8("rpId length");
    const rpId = decodeUtf8(r.bytesFixed(rpLength, "rpId"), WHAT, "rpId");
    key = { kind, label, publicKey, credentialId, rpId };
  } else {
    key = { kind, label, publicKey: r.bytesFixed(32, "publicKey") };
  }
  r.end();
  const problem = keyProblem(key);
  if (problem !== null) malformed(WHAT, problem[0], problem[1]);
  return key;
}

/**
 * Whether two keys would verify the same signatures: the same public key, or (passkeys) the same
 * credential id. A set may not hold two such keys.
 */
export function sameAuthorityKey(a: AuthorityKey, b: AuthorityKey): boolean {
  if (equalBytes(a.publicKey, b.publicKey)) return true;
  return (
    a.kind === AuthorityKeyKind.Passkey &&
    b.kind === AuthorityKeyKind.Passkey &&
    equalBytes(a.credentialId, b.credentialId)
  );
}

/**
 * A short fingerprint to show beside a key (so an owner can tell which key signed what):
 * SHA-256 of the kind and public key, first 8 bytes, hex in groups of four.
 */
export function authorityKeyFingerprint(k: AuthorityKey): string {
  const hex = toHex(sha256(Uint8Array.of(k.kind, ...k.publicKey)).subarray(0, 8));
  return hex.match(/.{4}/g)?.join(" ") ?? hex;
}

/** A recovery authority key from its 32-byte seed (the secret printed once). */
export function recoveryAuthorityKey(seed: Uint8Array, label: string): RecoveryAuthorityKey {
  if (!isBytes(seed, 32)) invalid(WHAT, "seed", "must be 32 bytes");
  const key: RecoveryAuthorityKey = {
    kind: AuthorityKeyKind.Recovery,
    label,
    publicKey: ed25519.getPublicKey(seed),
  };
  encodeAuthorityKey(key);
  return key;
}

/**
 * A passkey authority key from what registration gave the browser: the public key either raw
 * (65-byte uncompressed point) or as the COSE_Key of the attested credential data.
 */
export function passkeyAuthorityKey(o: {
  readonly publicKey: Uint8Array;
  readonly credentialId: Uint8Array;
  readonly rpId: string;
  readonly label: string;
}): PasskeyAuthorityKey {
  const raw =
    isBytes(o.publicKey, 65) && o.publicKey[0] === 0x04 ? o.publicKey : p256PublicKeyFromCose(o.publicKey);
  const key: PasskeyAuthorityKey = {
    kind: AuthorityKeyKind.Passkey,
    label: o.label,
    publicKey: raw.slice(),
    credentialId: o.credentialId.slice(),
    rpId: o.rpId,
  };
  encodeAuthorityKey(key);
  return key;
}

function unsupported(why: string): never {
  throw new LatchkeyError("AUTHORITY_COSE_KEY_UNSUPPORTED", `COSE key: ${why}`);
}

/**
 * COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1) → uncompressed P-256 point. Accepts exactly the EC2 key
 * an ES256 authenticator produces: a CBOR map of the five entries kty (1) = 2 (EC2), alg (3) = -7
 * (ES256), crv (-1) = 1 (P-256), x (-2) and y (-3) as 32-byte strings, in any order, each once,
 * nothing after it. Throws AUTHORITY_COSE_KEY_UNSUPPORTED otherwise.
 */
export function p256PublicKeyFromCose(cose: Uint8Array): Uint8Array {
  if (!isBytes(cose)) unsupported("not bytes");
  let at = 0;
  const byte = (): number => {
    const b = cose[at++];
    if (b === undefined) unsupported("truncated");
    return b;
  };
  // Head of a CBOR item: major type and argument (only the sizes a COSE key needs).
  const head = (): [major: number, arg: number] => {
    const b = byte();
    const info = b & 0x1f;
    if (info < 24) return [b >> 5, info];
    if (info === 24) return [b >> 5, byte()];
    if (info === 25) return [b >> 5, byte() * 256 + byte()];
    return unsupported("unsupported CBOR length");
  };
  const int = (): number => {
    const [major, arg] = head();
    if (major === 0) return arg;
    if (major === 1) return -1 - arg;
    return unsupported("expected an integer");
  };
  const [major, entries] = head();
  if (major !== 5 || entries !== 5) unsupported("must be a map of five entries");
  const seen = new Map<number, number | Uint8Array>();
  for (let i = 0; i < entries; i++) {
    const label = int();
    if (seen.has(label)) unsupported("repeats a label");
    if (label === -2 || label === -3) {
      const [m, n] = head();
      if (m !== 2 || n !== 32) unsupported("coordinates must be 32-byte strings");
      if (at + 32 > cose.length) unsupported("truncated");
      seen.set(label, cose.slice(at, at + 32));
      at += 32;
    } else if (label === 1 || label === 3 || label === -1) {
      seen.set(label, int());
    } else unsupported(`unexpected label ${label}`);
  }
  if (at !== cose.length) unsupported("has bytes after the key");
  if (seen.get(1) !== 2) unsupported("kty must be EC2 (2)");
  if (seen.get(3) !== -7) unsupported("alg must be ES256 (-7)");
  if (seen.get(-1) !== 1) unsupported("crv must be P-256 (1)");
  const point = Uint8Array.of(0x04, ...(seen.get(-2) as Uint8Array), ...(seen.get(-3) as Uint8Array));
  if (!isP256Point(point)) unsupported("is not a point on P-256");
  return point;
}
