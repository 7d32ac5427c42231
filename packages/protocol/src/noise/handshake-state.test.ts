import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../errors/index.js";
import { CipherState } from "./cipher-state.js";
import { HandshakeState } from "./handshake-state.js";
import { chaChaPoly, nobleX25519 } from "./suite.js";

const I = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const R = Uint8Array.from({ length: 32 }, (_, i) => i + 2);

function code(fn: () => unknown): string {
  try {
    fn();
    return "accepted";
  } catch (e) {
    return isLatchkeyError(e) ? e.code : String(e);
  }
}

describe("HandshakeState", () => {
  it("a refused message leaves the state unchanged, so the genuine one still works", () => {
    const init = new HandshakeState({
      pattern: "IK",
      cipher: "ChaChaPoly",
      initiator: true,
      staticSecretKey: I,
      remoteStaticKey: nobleX25519.publicKey(R),
    });
    const resp = new HandshakeState({
      pattern: "IK",
      cipher: "ChaChaPoly",
      initiator: false,
      staticSecretKey: R,
    });
    const m1 = init.writeMessage(new Uint8Array(0));
    const before = resp.handshakeHash;
    const bad = m1.slice();
    bad[40] = (bad[40] ?? 0) ^ 1;
    expect(code(() => resp.readMessage(bad))).toBe("NOISE_HANDSHAKE_AUTH_FAILED");
    expect(code(() => resp.readMessage(m1.subarray(0, 10)))).toBe("LK_DECODE_TRUNCATED");
    expect(resp.handshakeHash).toEqual(before);
    expect(resp.nextMessageIndex).toBe(0);
    resp.readMessage(m1);
    expect(resp.remoteStaticKey).toEqual(nobleX25519.publicKey(I));
    init.readMessage(resp.writeMessage(new Uint8Array(0)));
    const a = init.split();
    const b = resp.split();
    expect(
      b.receive.decryptWithAd(new Uint8Array(0), a.send.encryptWithAd(new Uint8Array(0), Uint8Array.of(7))),
    ).toEqual(Uint8Array.of(7));
  });

  it("refuses misuse with stable codes", () => {
    const init = new HandshakeState({ pattern: "XX", cipher: "AESGCM", initiator: true, staticSecretKey: I });
    expect(code(() => init.readMessage(new Uint8Array(32)))).toBe("NOISE_WRONG_STATE");
    expect(code(() => init.split())).toBe("NOISE_WRONG_STATE");
    init.writeMessage(new Uint8Array(0));
    expect(code(() => init.writeMessage(new Uint8Array(0)))).toBe("NOISE_WRONG_STATE");
    expect(
      code(
        () =>
          new HandshakeState({ pattern: "KK", cipher: "ChaChaPoly", initiator: true, staticSecretKey: I }),
      ),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(code(() => new HandshakeState({ pattern: "NN", cipher: "ChaChaPoly", initiator: true }))).toBe(
      "NOISE_CONFIG_INVALID",
    );
    expect(
      code(
        () =>
          new HandshakeState({
            pattern: "XXpsk3",
            cipher: "ChaChaPoly",
            initiator: true,
            staticSecretKey: I,
          }),
      ),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(code(() => new HandshakeState({ pattern: "XX", cipher: "ChaChaPoly", initiator: true }))).toBe(
      "NOISE_CONFIG_INVALID",
    );
  });

  it("REKEY replaces the key and keeps the nonce; decryption with the old key fails", () => {
    const k = new CipherState(chaChaPoly, new Uint8Array(32));
    const k2 = k.rekeyed();
    const ct = k2.encryptWithNonce(5n, new Uint8Array(0), Uint8Array.of(1, 2));
    expect(k.decryptWithNonce(5n, new Uint8Array(0), ct)).toBeNull();
    expect(k2.decryptWithNonce(5n, new Uint8Array(0), ct)).toEqual(Uint8Array.of(1, 2));
    expect(k2.nonce).toBe(k.nonce);
    expect(code(() => k.encryptWithNonce(0xffffffffffffffffn, new Uint8Array(0), new Uint8Array(0)))).toBe(
      "NOISE_COUNTER_EXHAUSTED",
    );
  });
});
