/**
 * A minimal software WebAuthn authenticator (ES256 passkey) for tests and demos: it builds the
 * authenticatorData, clientDataJSON and DER signature a browser would hand over after
 * `navigator.credentials.get()`. It is not a security device; real passkeys live in platform
 * authenticators or security keys. Every knob a test needs to forge a bad assertion is an option.
 */
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "../encoding/bytes.js";
import { AuthenticatorFlags, base64UrlEncode, type WebAuthnAssertion } from "./assertion.js";

export interface AssertOptions {
  readonly challenge: Uint8Array;
  readonly origin: string;
  readonly rpId: string;
  readonly type?: string;
  readonly userPresent?: boolean;
  readonly userVerified?: boolean;
  readonly crossOrigin?: boolean;
  /** Overrides the counter (normally it increments on every assertion). */
  readonly signCount?: number;
}

export class SoftwareAuthenticator {
  private counter = 0;
  readonly publicKey: Uint8Array;

  constructor(
    private readonly secretKey: Uint8Array = p256.utils.randomSecretKey(),
    /** Passkeys that sync usually report 0 forever; hardware keys count up. */
    private readonly counts = true,
  ) {
    this.publicKey = p256.getPublicKey(secretKey, false);
  }

  assert(o: AssertOptions): WebAuthnAssertion {
    if (this.counts) this.counter++;
    const signCount = o.signCount ?? (this.counts ? this.counter : 0);
    const flags =
      ((o.userPresent ?? true) ? AuthenticatorFlags.UserPresent : 0) |
      ((o.userVerified ?? true) ? AuthenticatorFlags.UserVerified : 0);
    const count = new Uint8Array(4);
    new DataView(count.buffer).setUint32(0, signCount);
    const authenticatorData = concatBytes(
      sha256(new TextEncoder().encode(o.rpId)),
      Uint8Array.of(flags),
      count,
    );
    const client: Record<string, unknown> = {
      type: o.type ?? "webauthn.get",
      challenge: base64UrlEncode(o.challenge),
      origin: o.origin,
    };
    if (o.crossOrigin !== undefined) client.crossOrigin = o.crossOrigin;
    const clientDataJSON = new TextEncoder().encode(JSON.stringify(client));
    const signature = p256.sign(concatBytes(authenticatorData, sha256(clientDataJSON)), this.secretKey, {
      format: "der",
      prehash: true,
    });
    return { authenticatorData, clientDataJSON, signature };
  }
}
