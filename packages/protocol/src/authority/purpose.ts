/**
 * What an authority signature is *for*. A person's passkey (or the printed recovery key) signs
 * one 32-byte value, the authority challenge, built from a purpose tag, the site id and the exact
 * record bytes:
 *
 *   message   = u8 tag length ‖ tag (ASCII) ‖ site id (16 bytes) ‖ record bytes
 *   challenge = SHA-256(message)
 *
 * A passkey signs it as the WebAuthn challenge (clientDataJSON carries base64url(challenge),
 * WebAuthn L3 §5.8.1); a recovery key signs the 32 challenge bytes with Ed25519. The purpose tag
 * keeps a signature for one kind of record from passing as another, and the site id keeps a
 * record signed for one site from being replayed to another site whose owner uses the same
 * passkey (a landlord's one passkey in every site's authority set).
 *
 * The first byte of `message` is the tag length (all tags are shorter than 0x6c bytes), whereas a
 * remote-unlock intent starts with the ASCII "l" (0x6c) of "latchkey/remote-unlock/v1": an unlock
 * approval's challenge and an authority challenge are hashes of different preimages, so one can
 * never pass as the other short of a SHA-256 collision.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";

/** The purposes an authority signs for; the number is the `purpose` byte of an authorised record. */
export const AuthorityPurpose = {
  CommissioningRecord: 1,
  DigitalKey: 2,
  RevocationList: 3,
  Delegation: 4,
  DoorRelabel: 5,
  AuthoritySet: 6,
  ClockAuthorisation: 7,
} as const;
export type AuthorityPurpose = (typeof AuthorityPurpose)[keyof typeof AuthorityPurpose];

/** The purpose tags (ASCII, unique, each shorter than 0x6c bytes). */
export const AUTHORITY_PURPOSE_TAGS: Readonly<Record<AuthorityPurpose, string>> = {
  1: "latchkey/authority/commissioning-record/v1",
  2: "latchkey/authority/digital-key/v1",
  3: "latchkey/authority/revocation-list/v1",
  4: "latchkey/authority/delegation/v1",
  5: "latchkey/authority/door-relabel/v1",
  6: "latchkey/authority/authority-set/v1",
  7: "latchkey/authority/clock-authorisation/v1",
};

export const SITE_ID_LENGTH = 16;

export function isAuthorityPurpose(p: unknown): p is AuthorityPurpose {
  return typeof p === "number" && Object.prototype.hasOwnProperty.call(AUTHORITY_PURPOSE_TAGS, p);
}

/** The message whose SHA-256 is the challenge; AUTHORITY_INVALID_FIELDS for an unknown purpose or bad site id. */
export function authorityMessage(
  purpose: AuthorityPurpose,
  siteId: Uint8Array,
  record: Uint8Array,
): Uint8Array {
  if (!isAuthorityPurpose(purpose))
    throw new LatchkeyError("AUTHORITY_INVALID_FIELDS", "authority message: unknown purpose", {
      field: "purpose",
    });
  if (!(siteId instanceof Uint8Array) || siteId.length !== SITE_ID_LENGTH)
    throw new LatchkeyError("AUTHORITY_INVALID_FIELDS", "authority message: site id must be 16 bytes", {
      field: "siteId",
    });
  const tag = new TextEncoder().encode(AUTHORITY_PURPOSE_TAGS[purpose]);
  return concatBytes(Uint8Array.of(tag.length), tag, siteId, record);
}

/**
 * The 32 bytes a person signs for `record`: pass it as `challenge` to
 * `navigator.credentials.get()`, or sign it with the recovery key.
 */
export function authorityChallenge(
  purpose: AuthorityPurpose,
  siteId: Uint8Array,
  record: Uint8Array,
): Uint8Array {
  return sha256(authorityMessage(purpose, siteId, record));
}
