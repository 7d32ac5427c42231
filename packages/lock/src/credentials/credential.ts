/**
 * Credential records (Matter CredentialTypeEnum subset plus Latchkey's phone key). Secret parts
 * (a PIN, a card key) are never put in events or errors; a PIN is kept only as its keyed hash.
 */
import {
  LatchkeyError,
  type CredentialIndex,
  type CredentialKind,
  type PhoneKeyAlgorithm,
  type UserIndex,
} from "@latchkey/protocol";

export type { PhoneKeyAlgorithm } from "@latchkey/protocol";
/** The lock's credential kinds (protocol's `CredentialKind`; the wire uses Matter's numbers). */
export type CredentialType = CredentialKind;
export const CREDENTIAL_TYPES: readonly CredentialType[] = ["PIN", "RFID", "Fingerprint", "PhoneKey"];

interface CredentialBase {
  readonly index: CredentialIndex;
  readonly userIndex: UserIndex;
}
export interface PinCredential extends CredentialBase {
  readonly type: "PIN";
  /** HMAC-SHA256 of the PIN under the lock's PIN secret. */
  readonly hash: Uint8Array;
}
export interface CardCredential extends CredentialBase {
  readonly type: "RFID";
  /** 4, 7 or 10 bytes (ISO 14443 UID sizes). */
  readonly uid: Uint8Array;
  /** Challenge-response cards: the 16- or 32-byte key the card shares with the lock. */
  readonly key?: Uint8Array;
}
export interface FingerprintCredential extends CredentialBase {
  readonly type: "Fingerprint";
  /** Template slot in the fingerprint reader (the reader keeps the template itself). */
  readonly templateRef: number;
}
export interface PhoneKeyCredential extends CredentialBase {
  readonly type: "PhoneKey";
  readonly algorithm: PhoneKeyAlgorithm;
  /** Ed25519: 32 bytes; P-256: 65-byte uncompressed or 33-byte compressed SEC1 point. */
  readonly publicKey: Uint8Array;
}
export type Credential = PinCredential | CardCredential | FingerprintCredential | PhoneKeyCredential;

function bad(field: string, message: string): never {
  throw new LatchkeyError("LOCK_CREDENTIAL_INVALID", message, { field });
}

export function checkCardUid(uid: Uint8Array): void {
  if (!(uid instanceof Uint8Array) || ![4, 7, 10].includes(uid.length))
    bad("uid", "card UID must be 4, 7 or 10 bytes");
}
export function checkCardKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || (key.length !== 16 && key.length !== 32)) {
    bad("key", "card key must be 16 or 32 bytes");
  }
}
export function checkTemplateRef(ref: number): void {
  if (!Number.isInteger(ref) || ref < 0 || ref > 0xffff)
    bad("templateRef", "template reference must be 0–65535");
}
export function checkPhoneKey(algorithm: PhoneKeyAlgorithm, publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array)) bad("publicKey", "public key must be bytes");
  if (algorithm === "Ed25519") {
    if (publicKey.length !== 32) bad("publicKey", "Ed25519 public key must be 32 bytes");
  } else if (algorithm === "P-256") {
    const ok =
      (publicKey.length === 65 && publicKey[0] === 4) ||
      (publicKey.length === 33 && (publicKey[0] === 2 || publicKey[0] === 3));
    if (!ok) bad("publicKey", "P-256 public key must be a 65-byte uncompressed or 33-byte compressed point");
  } else {
    bad("algorithm", "phone key algorithm must be Ed25519 or P-256");
  }
}

/** The value a presented credential is looked up by (hex; a PIN's keyed hash, never the PIN). */
export function lookupKey(c: Credential): string {
  switch (c.type) {
    case "PIN":
      return "PIN:" + Buffer.from(c.hash).toString("hex");
    case "RFID":
      return "RFID:" + Buffer.from(c.uid).toString("hex");
    case "Fingerprint":
      return "Fingerprint:" + String(c.templateRef);
    case "PhoneKey":
      return "PhoneKey:" + Buffer.from(c.publicKey).toString("hex");
  }
}
