/**
 * The plaintext inside `SetCredential.sealedData`, per credential type, after
 * `openSealedSecret(lock channel key, sealedData, credentialSealContext(...))`. The hub seals it,
 * the lock opens it; both use these functions:
 *
 * | Matter credential type | plaintext |
 * |---|---|
 * | PIN (1) | the PIN as ASCII digits |
 * | RFID (2) | uid length u8 (4, 7, 10) ‖ uid ‖ optional challenge-response key (16 or 32) |
 * | Fingerprint (3) | template slot u16 |
 * | AliroEvictableEndpointKey (7), AliroNonEvictableEndpointKey (8) | phone public key: Ed25519 (32) or P-256 SEC1 (33/65) |
 */
import { PIN_LENGTH_LIMITS } from "../credentials/pin-policy.js";
import { ByteWriter } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { CredentialType as WireCredentialType } from "../messages/enums.js";

/**
 * The kinds of credential a Latchkey lock holds. A phone key is one kind on the lock but two
 * Matter types on the wire (Aliro evictable and non-evictable endpoint keys).
 */
export type CredentialKind = "PIN" | "RFID" | "Fingerprint" | "PhoneKey";
export type PhoneKeyAlgorithm = "Ed25519" | "P-256";

/** The lock's credential kind of a wire (Matter) credential type, or null when the lock has none. */
export function lockCredentialType(wire: number): CredentialKind | null {
  switch (wire) {
    case WireCredentialType.PIN:
      return "PIN";
    case WireCredentialType.RFID:
      return "RFID";
    case WireCredentialType.Fingerprint:
      return "Fingerprint";
    case WireCredentialType.AliroEvictableEndpointKey:
    case WireCredentialType.AliroNonEvictableEndpointKey:
      return "PhoneKey";
    default:
      return null;
  }
}

export type CredentialData =
  | { readonly type: "PIN"; readonly pin: string }
  | { readonly type: "RFID"; readonly uid: Uint8Array; readonly key?: Uint8Array }
  | { readonly type: "Fingerprint"; readonly templateRef: number }
  | { readonly type: "PhoneKey"; readonly algorithm: PhoneKeyAlgorithm; readonly publicKey: Uint8Array };

function bad(message: string): never {
  throw new LatchkeyError("LOCK_CREDENTIAL_INVALID", message, { field: "sealedData" });
}

export function decodeCredentialData(type: CredentialKind, plain: Uint8Array): CredentialData {
  switch (type) {
    case "PIN": {
      // Only the format here: the lock applies its PIN policy when it stores the PIN.
      if (
        plain.length < 1 ||
        plain.length > PIN_LENGTH_LIMITS.max ||
        !plain.every((b) => b >= 0x30 && b <= 0x39)
      )
        throw new LatchkeyError(
          "LOCK_PIN_FORMAT",
          `sealed PIN must be 1–${PIN_LENGTH_LIMITS.max} ASCII digits`,
          {
            field: "sealedData",
          },
        );
      return { type, pin: new TextDecoder().decode(plain) };
    }
    case "RFID": {
      const uidLength = plain[0] ?? 0;
      if (![4, 7, 10].includes(uidLength)) bad("card data: uid length must be 4, 7 or 10");
      const uid = plain.slice(1, 1 + uidLength);
      const key = plain.slice(1 + uidLength);
      if (uid.length !== uidLength || ![0, 16, 32].includes(key.length)) bad("card data has a bad length");
      return key.length === 0 ? { type, uid } : { type, uid, key };
    }
    case "Fingerprint":
      if (plain.length !== 2) bad("fingerprint data must be a u16 template slot");
      return { type, templateRef: ((plain[0] ?? 0) << 8) | (plain[1] ?? 0) };
    case "PhoneKey":
      if (plain.length === 32) return { type, algorithm: "Ed25519", publicKey: plain.slice() };
      if (plain.length === 33 || plain.length === 65)
        return { type, algorithm: "P-256", publicKey: plain.slice() };
      return bad("phone key must be 32 (Ed25519) or 33/65 (P-256) bytes");
  }
}

export function encodeCredentialData(d: CredentialData): Uint8Array {
  switch (d.type) {
    case "PIN":
      return new TextEncoder().encode(d.pin);
    case "RFID":
      return new ByteWriter()
        .u8(d.uid.length)
        .bytes(d.uid)
        .bytes(d.key ?? new Uint8Array(0))
        .finish();
    case "Fingerprint":
      return new ByteWriter().u16(d.templateRef).finish();
    case "PhoneKey":
      return d.publicKey.slice();
  }
}
