import { randomBytes } from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { toHex } from "../encoding/bytes.js";
import { LatchkeyError, isLatchkeyError } from "../errors/error.js";
import { decodeMessage, encodeMessage } from "../messages/catalogue.js";
import { CommissioningInitiator } from "./initiator.js";
import { CommissioningResponder, lockoutDuration, type CommissioningResponderState } from "./responder.js";
import { keyHash, type HubKeys, type LockIdentityKeys } from "./sealing.js";
import { createCommissioningVerifier, generateSetupCode, normaliseSetupCode } from "./setup-code.js";

/** The code of the LatchkeyError `f` throws ("no error" if none). */
function thrownCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof LatchkeyError) return e.code;
    throw e;
  }
  return "no error";
}

const SETUP_CODE = "2020-2021";
const WRONG_CODE = "20202022";
const salt = new Uint8Array(16).fill(7);
// 1000 iterations (Matter's minimum) keeps the suite fast; the default is 20 000.
const verifier = createCommissioningVerifier(SETUP_CODE, salt, 1000);

const hubKeys: HubKeys = {
  ownerSigningPublicKey: nobleEd25519.publicKey(new Uint8Array(32).fill(1)),
  hubStaticPublicKey: x25519.getPublicKey(new Uint8Array(32).fill(2)),
};
const lockIdentity: LockIdentityKeys = {
  signingPublicKey: nobleEd25519.publicKey(new Uint8Array(32).fill(3)),
  channelPublicKey: x25519.getPublicKey(new Uint8Array(32).fill(4)),
};

function setup(state?: CommissioningResponderState) {
  const clock = { t: 1_700_000_000_000 };
  const lock = new CommissioningResponder({
    verifier,
    identity: lockIdentity,
    now: () => clock.t,
    ...(state ? { state } : {}),
  });
  return { clock, lock };
}

/** Runs an initiator against the responder over an in-memory exchange; returns every frame sent. */
function exchange(hub: CommissioningInitiator, lock: CommissioningResponder) {
  const sent: Uint8Array[] = [];
  const steps = [];
  let out: Uint8Array | null = hub.start();
  let error: unknown = null;
  while (out !== null) {
    sent.push(out);
    const step = lock.handle(out);
    steps.push(step);
    try {
      out = hub.handle(step.reply);
    } catch (e) {
      error = e;
      break;
    }
  }
  return { sent, steps, error };
}

function newHub(code = SETUP_CODE) {
  return new CommissioningInitiator({ setupCode: code, hubKeys });
}

function errorCode(e: unknown): string {
  if (isLatchkeyError(e))
    return e.code === "COMM_REFUSED" ? `COMM_REFUSED:${String(e.details?.code)}` : e.code;
  throw e;
}

describe("commissioning attacks", () => {
  it("wrong setup code: the hub sees confirmV fail, the lock installs nothing and counts one failure", () => {
    const { lock } = setup();
    lock.openWindow();
    const before = lock.state;
    const { error } = exchange(newHub(WRONG_CODE), lock);
    expect(errorCode(error)).toBe("COMM_CONFIRMATION_FAILED");
    expect(lock.isCommissioned).toBe(false);
    expect(lock.installedKeys).toBeNull();
    expect(lock.state).toEqual({ ...before, consecutiveFailures: 1, lastFailureAt: expect.any(Number) });
  });

  it("a prover with a wrong code that sends its own confirmP is refused with COMM_CONFIRMATION_FAILED", () => {
    const { lock } = setup();
    lock.openWindow();
    const attacker = newHub(WRONG_CODE);
    const params = lock.handle(attacker.start()).reply;
    const pake1 = attacker.handle(params)!;
    expect(lock.handle(pake1).refused).toBeNull();
    const forged = encodeMessage(2, {
      kind: "CommPake3",
      confirmP: randomBytes(32),
      sealedKeys: randomBytes(80),
    });
    const step = lock.handle(forged);
    expect(step.refused?.code).toBe("COMM_CONFIRMATION_FAILED");
    expect(decodeMessage(step.reply).message).toEqual({
      kind: "Result",
      code: "COMM_CONFIRMATION_FAILED",
      retryAfterMs: 0,
    });
    expect(step.report).toMatchObject({ kind: "attempt-failed", consecutiveFailures: 1, lockedUntil: null });
    expect(lock.isCommissioned).toBe(false);
    expect(lock.phase).toBe("idle");
  });

  it("wrong codes until lockout: 5 failures lock out for 1 min, the next for 2 min; a valid code then works", () => {
    const { lock, clock } = setup();
    lock.openWindow();
    for (let i = 1; i <= 5; i++) {
      expect(errorCode(exchange(newHub(WRONG_CODE), lock).error)).toBe("COMM_CONFIRMATION_FAILED");
      expect(lock.state.consecutiveFailures).toBe(i);
    }
    expect(lock.lockedUntil).toBe(clock.t + 60_000);
    const stateAtLockout = lock.state;

    // Even the right code is refused during the lockout, and the refusal changes nothing.
    const refused = exchange(newHub(SETUP_CODE), lock);
    expect(errorCode(refused.error)).toBe("COMM_REFUSED:COMM_LOCKED_OUT");
    expect((refused.error as LatchkeyError).details?.retryAfterMs).toBe(60_000);
    expect(lock.state).toEqual(stateAtLockout);
    expect(lock.isCommissioned).toBe(false);

    clock.t += 60_000;
    expect(lock.lockedUntil).toBeNull();
    expect(errorCode(exchange(newHub(WRONG_CODE), lock).error)).toBe("COMM_CONFIRMATION_FAILED");
    expect(lock.lockedUntil).toBe(clock.t + 120_000);
    clock.t += 60_000;
    expect(errorCode(exchange(newHub(SETUP_CODE), lock).error)).toBe("COMM_REFUSED:COMM_LOCKED_OUT");
    clock.t += 60_000;
    // The window (15 min) is still open after 2 min.
    const ok = exchange(newHub(SETUP_CODE), lock);
    expect(ok.error).toBeNull();
    expect(lock.isCommissioned).toBe(true);
    expect(lock.state.consecutiveFailures).toBe(0);
  });

  it("documents the escalation: 1 min after 5 failures, doubling, capped at a day", () => {
    expect([4, 5, 6, 7, 8].map((f) => lockoutDuration(f))).toEqual([0, 60_000, 120_000, 240_000, 480_000]);
    expect(lockoutDuration(1000)).toBe(24 * 3600_000);
  });

  it("a prover that walks away after CommPake2 still spends an attempt", () => {
    const { lock } = setup();
    lock.openWindow();
    const hub = newHub(WRONG_CODE);
    const pake1 = hub.handle(lock.handle(hub.start()).reply)!;
    lock.handle(pake1); // the attacker can now test its guess against confirmV offline — once
    expect(lock.state.consecutiveFailures).toBe(1);
  });

  it("refuses everything when the window was never opened or has expired, changing nothing", () => {
    const { lock, clock } = setup();
    const notOpened = lock.state;
    expect(errorCode(exchange(newHub(), lock).error)).toBe("COMM_REFUSED:COMM_WINDOW_CLOSED");
    expect(lock.state).toEqual(notOpened);

    lock.openWindow();
    clock.t += 15 * 60_000;
    const expired = lock.state;
    expect(errorCode(exchange(newHub(), lock).error)).toBe("COMM_REFUSED:COMM_WINDOW_CLOSED");
    expect(lock.state).toEqual(expired);
    expect(lock.isCommissioned).toBe(false);
  });

  it("refuses a session whose window expires half-way", () => {
    const { lock, clock } = setup();
    lock.openWindow();
    const hub = newHub();
    const pake1 = hub.handle(lock.handle(hub.start()).reply)!;
    const pake3 = hub.handle(lock.handle(pake1).reply)!;
    clock.t += 15 * 60_000;
    expect(lock.handle(pake3).refused?.code).toBe("COMM_WINDOW_CLOSED");
    expect(lock.isCommissioned).toBe(false);
  });

  it("replayed PAKE messages are refused: out of order, after commissioning, and in a new attempt", () => {
    const { lock } = setup();
    lock.openWindow();
    const first = exchange(newHub(), lock);
    expect(first.error).toBeNull();
    const [hello, pake1, pake3, complete] = first.sent as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const commissioned = lock.state;

    // After commissioning: the setup code is spent.
    for (const m of [hello, pake1, pake3, complete]) {
      expect(lock.handle(m).refused?.code).toBe("COMM_ALREADY_COMMISSIONED");
    }
    expect(lock.state).toEqual(commissioned);

    // After a factory reset and a new window, the captured frames still cannot commission it.
    lock.factoryReset();
    lock.openWindow();
    const fresh = lock.state;
    expect(lock.handle(pake1).refused?.code).toBe("COMM_UNEXPECTED_MESSAGE");
    expect(lock.handle(pake3).refused?.code).toBe("COMM_UNEXPECTED_MESSAGE");
    expect(lock.state).toEqual(fresh);
    expect(lock.handle(hello).refused).toBeNull(); // new responder random → new context
    expect(lock.handle(pake1).refused).toBeNull(); // a valid point; the lock cannot tell yet
    const step = lock.handle(pake3);
    expect(step.refused?.code).toBe("COMM_CONFIRMATION_FAILED");
    expect(lock.handle(complete).refused?.code).toBe("COMM_UNEXPECTED_MESSAGE");
    expect(lock.isCommissioned).toBe(false);
    expect(lock.installedKeys).toBeNull();
  });

  it("a tampered sealed payload is refused with COMM_DECRYPT_FAILED and installs nothing", () => {
    const { lock } = setup();
    lock.openWindow();
    const hub = newHub();
    const pake1 = hub.handle(lock.handle(hub.start()).reply)!;
    const pake3 = hub.handle(lock.handle(pake1).reply)!;
    const tampered = pake3.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(lock.handle(tampered).refused?.code).toBe("COMM_DECRYPT_FAILED");
    expect(lock.isCommissioned).toBe(false);
  });

  it("never throws on random or mutated input, and answers with a Result", () => {
    const { lock } = setup();
    lock.openWindow();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const step = lock.handle(b);
        expect(step.refused).toBeInstanceOf(LatchkeyError);
        expect(decodeMessage(step.reply).message.kind).toBe("Result");
      }),
      { numRuns: 300 },
    );
    expect(lock.isCommissioned).toBe(false);
  });

  it("mutated CommPake1/CommPake3 never commission the lock and never throw", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.nat(7), (mutatePake1, at, bit) => {
        const { lock } = setup();
        lock.openWindow();
        const hub = newHub();
        let pake1 = hub.handle(lock.handle(hub.start()).reply)!;
        const flip = (m: Uint8Array): Uint8Array => {
          const out = m.slice();
          out[at % out.length]! ^= 1 << bit;
          return out;
        };
        if (mutatePake1) pake1 = flip(pake1);
        const pake2 = lock.handle(pake1);
        if (pake2.refused !== null) return; // refused before any PAKE work
        let pake3: Uint8Array | null;
        try {
          pake3 = hub.handle(pake2.reply);
        } catch (e) {
          expect(e).toBeInstanceOf(LatchkeyError); // the hub noticed (confirmV)
          return;
        }
        const step = lock.handle(mutatePake1 ? pake3! : flip(pake3!));
        const headerOnly = !mutatePake1 && at % pake3!.length >= 3 && at % pake3!.length < 7; // request id
        if (!headerOnly) expect(step.refused).toBeInstanceOf(LatchkeyError);
        expect(lock.isCommissioned).toBe(false);
      }),
      { numRuns: 25 },
    );
  });

  it("mutated lock replies make the hub fail with a LatchkeyError, never anything else", () => {
    fc.assert(
      fc.property(fc.nat(3), fc.nat(), fc.nat(7), (which, at, bit) => {
        const { lock } = setup();
        lock.openWindow();
        const hub = newHub();
        let out: Uint8Array | null = hub.start();
        for (let i = 0; out !== null; i++) {
          const reply = lock.handle(out).reply.slice();
          if (i === which) reply[at % reply.length]! ^= 1 << bit;
          try {
            out = hub.handle(reply);
          } catch (e) {
            expect(e).toBeInstanceOf(LatchkeyError);
            return;
          }
        }
        // The only flips the hub may accept are in the final Result's retryAfterMs (bytes 10–13
        // of "OK"), which means nothing on success.
        expect(which).toBe(3);
        expect(at % 14).toBeGreaterThanOrEqual(10);
      }),
      { numRuns: 25 },
    );
  });

  it("keeps a lockout across a restart", () => {
    const { lock, clock } = setup();
    lock.openWindow();
    for (let i = 0; i < 5; i++) exchange(newHub(WRONG_CODE), lock);
    const saved = JSON.parse(JSON.stringify(lock.state)) as CommissioningResponderState;
    const restarted = new CommissioningResponder({
      verifier,
      identity: lockIdentity,
      now: () => clock.t,
      state: saved,
    });
    expect(restarted.lockedUntil).toBe(clock.t + 60_000);
    expect(errorCode(exchange(newHub(), restarted).error)).toBe("COMM_REFUSED:COMM_LOCKED_OUT");
  });

  it("refuses a malformed saved state with COMM_INVALID_STATE", () => {
    const broken = { ...setup().lock.state, consecutiveFailures: -1 };
    expect(thrownCode(() => setup(broken))).toBe("COMM_INVALID_STATE");
  });

  it("refuses trivial or malformed setup codes without echoing them", () => {
    for (const code of ["12345678", "11111111", "1234567", "abcdefgh", "123456789"]) {
      let caught: unknown;
      try {
        normaliseSetupCode(code);
      } catch (e) {
        caught = e;
      }
      expect(isLatchkeyError(caught, "COMM_INVALID_SETUP_CODE")).toBe(true);
      expect((caught as Error).message).not.toContain(code);
    }
  });
});

describe("commissioning", () => {
  it("installs the owner and hub keys on the lock and returns the lock's identity to the hub", () => {
    const { lock, clock } = setup();
    lock.openWindow();
    const hub = newHub();
    const { error, steps } = exchange(hub, lock);
    expect(error).toBeNull();
    expect(hub.phase).toBe("done");
    expect(hub.result).toEqual(lockIdentity);
    expect(lock.installedKeys).toEqual(hubKeys);
    expect(lock.windowClosesAt).toBeNull();
    expect(steps.at(-1)?.report).toEqual({
      kind: "commissioned",
      at: clock.t,
      ownerKeyHash: keyHash(hubKeys.ownerSigningPublicKey),
      hubKeyHash: keyHash(hubKeys.hubStaticPublicKey),
    });
    // No secret reaches the wire in clear: the owner key only travels sealed.
    for (const step of steps) expect(toHex(step.reply)).not.toContain(toHex(lockIdentity.channelPublicKey));
  });

  it("persists its state as JSON and keeps refusing after a restart", () => {
    const { lock } = setup();
    lock.openWindow();
    exchange(newHub(), lock);
    const saved = JSON.parse(JSON.stringify(lock.state)) as CommissioningResponderState;
    const { lock: restarted } = setup(saved);
    expect(restarted.installedKeys).toEqual(hubKeys);
    expect(errorCode(exchange(newHub(), restarted).error)).toBe("COMM_REFUSED:COMM_ALREADY_COMMISSIONED");
    expect(thrownCode(() => restarted.openWindow())).toBe("COMM_ALREADY_COMMISSIONED");
  });

  it("factory reset reports what it erased and makes the setup code usable again", () => {
    const { lock, clock } = setup();
    lock.openWindow();
    exchange(newHub(), lock);
    const report = lock.factoryReset();
    expect(report).toEqual({
      kind: "factory-reset",
      at: clock.t,
      wasCommissioned: true,
      previousOwnerKeyHash: keyHash(hubKeys.ownerSigningPublicKey),
    });
    expect(lock.isCommissioned).toBe(false);
    lock.openWindow();
    expect(exchange(newHub(), lock).error).toBeNull();
    expect(lock.isCommissioned).toBe(true);
  });

  it("generates uniform, non-trivial setup codes", () => {
    for (let i = 0; i < 50; i++)
      expect(normaliseSetupCode(generateSetupCode((n) => randomBytes(n)))).toMatch(/^\d{8}$/);
  });
});
