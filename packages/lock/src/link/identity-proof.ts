/**
 * What a phone shows a lock in message 3 of the XX handshake: its digital-key certificate and a
 * signature, by the certificate's Ed25519 holder key, binding the phone's X25519 Noise static key
 * to that certificate (the Noise key itself is not the certified key).
 *
 * Layout (big-endian): version u8 (=1) ‖ certificate var16 (1–1900) ‖ binding signature 64
 * (Ed25519 over "latchkey/phone-channel/v1" ‖ X25519 static public key 32).
 */
import { ByteReader, ByteWriter, LatchkeyError, concatBytes, type Ed25519 } from "@latchkey/protocol";

export const PHONE_PROOF_VERSION = 1;
export const PHONE_CHANNEL_BINDING_TAG = "latchkey/phone-channel/v1";
export const MAX_PROOF_CERTIFICATE = 1900;

export interface PhoneIdentityProof {
  readonly certificate: Uint8Array;
  readonly bindingSignature: Uint8Array;
}

export function phoneChannelBinding(x25519StaticPublicKey: Uint8Array): Uint8Array {
  return concatBytes(new TextEncoder().encode(PHONE_CHANNEL_BINDING_TAG), x25519StaticPublicKey);
}

export function encodePhoneIdentityProof(p: PhoneIdentityProof): Uint8Array {
  if (p.certificate.length < 1 || p.certificate.length > MAX_PROOF_CERTIFICATE)
    throw new LatchkeyError(
      "MSG_INVALID_FIELD",
      `phone proof: certificate must be 1..${MAX_PROOF_CERTIFICATE} bytes`,
      {
        field: "certificate",
      },
    );
  if (p.bindingSignature.length !== 64)
    throw new LatchkeyError("MSG_INVALID_FIELD", "phone proof: binding signature must be 64 bytes", {
      field: "bindingSignature",
    });
  return new ByteWriter()
    .u8(PHONE_PROOF_VERSION)
    .bytesVar16(p.certificate)
    .bytes(p.bindingSignature)
    .finish();
}

/** Throws only LatchkeyError (MSG_UNSUPPORTED_VERSION, MSG_INVALID_FIELD, LK_DECODE_*). */
export function decodePhoneIdentityProof(bytes: Uint8Array): PhoneIdentityProof {
  const r = new ByteReader(bytes, "phone identity proof");
  const version = r.u8("version");
  if (version !== PHONE_PROOF_VERSION)
    throw new LatchkeyError("MSG_UNSUPPORTED_VERSION", `phone proof: version ${version} is not supported`, {
      version,
    });
  const certificate = r.bytesVar16("certificate", MAX_PROOF_CERTIFICATE);
  if (certificate.length === 0)
    throw new LatchkeyError("MSG_INVALID_FIELD", "phone proof: certificate is empty", {
      field: "certificate",
    });
  const bindingSignature = r.bytesFixed(64, "bindingSignature");
  r.end();
  return { certificate, bindingSignature };
}

/** The phone's side: a proof for `certificate` binding its Noise key, signed with the holder seed. */
export function makePhoneIdentityProof(
  certificate: Uint8Array,
  holderSeed: Uint8Array,
  x25519StaticPublicKey: Uint8Array,
  ed25519: Ed25519,
): Uint8Array {
  return encodePhoneIdentityProof({
    certificate,
    bindingSignature: ed25519.sign(holderSeed, phoneChannelBinding(x25519StaticPublicKey)),
  });
}
