// The secure channel under attack first, then its normal life. Every refusal is checked for its
// stable code AND for leaving the receiver unchanged (same stats, a later genuine frame accepted).
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { concatBytes, fromHex } from "../encoding/bytes.js";
import { LatchkeyError, isLatchkeyError, type ErrorCode } from "../errors/index.js";
import { HandshakeState } from "../noise/handshake-state.js";
import type { PatternName } from "../noise/patterns.js";
import type { CipherName, X25519 } from "../noise/suite.js";
import { ChannelFrame } from "./frame.js";
import { HandshakePayload } from "./handshake-payload.js";
import { MemoryHandshakeFreshness } from "./replay-guard.js";
import { ChannelSession, type ChannelPeer, type ChannelSessionOptions } from "./session.js";

// node:crypto X25519 keeps this suite fast (thousands of handshake attempts in the bit-flip tests).
// Keys are imported as JWK (much faster than DER in Node 20); private KeyObjects are cached.
const PKCS8 = fromHex("302e020100300506032b656e04220420");
const privateKeys = new Map<string, KeyObject>();
function privateKeyObject(sk: Uint8Array): KeyObject {
  const id = Buffer.from(sk).toString("hex");
  let k = privateKeys.get(id);
  if (k === undefined) {
    k = createPrivateKey({ key: Buffer.from(concatBytes(PKCS8, sk)), format: "der", type: "pkcs8" });
    privateKeys.set(id, k);
  }
  return k;
}
const x25519: X25519 = {
  publicKey: (sk) => {
    const jwk = createPublicKey(privateKeyObject(sk)).export({ format: "jwk" });
    return new Uint8Array(Buffer.from(jwk.x ?? "", "base64url"));
  },
  sharedSecret: (sk, pk) => {
    try {
      const out = diffieHellman({
        privateKey: privateKeyObject(sk),
        publicKey: createPublicKey({
          key: { kty: "OKP", crv: "X25519", x: Buffer.from(pk).toString("base64url") },
          format: "jwk",
        }),
      });
      if (out.every((b) => b === 0)) throw new Error("all-zero");
      return new Uint8Array(out);
    } catch (cause) {
      throw new LatchkeyError("NOISE_HANDSHAKE_BAD_KEY", "bad X25519 key", undefined, { cause });
    }
  },
};

/** Deterministic keys: byte i of the secret is `seed + i`. */
function secret(seed: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (seed + i) & 0xff);
}
const HUB = secret(1);
const LOCK = secret(40);
const PHONE = secret(80);
const STRANGER = secret(120);
const pub = (sk: Uint8Array): Uint8Array => x25519.publicKey(sk);

/** A counter-based "random" source so a session can be re-created byte for byte. */
function seededRandom(seed: number): (n: number) => Uint8Array {
  let calls = 0;
  return (n) => {
    calls++;
    return Uint8Array.from({ length: n }, (_, i) => (seed * 13 + i * 7 + calls * 101) & 0xff);
  };
}

const APP = "latchkey/test/v1";

function optionsFor(
  pattern: PatternName,
  role: "initiator" | "responder",
  extra: Partial<ChannelSessionOptions> = {},
): ChannelSessionOptions {
  const initiatorKey = pattern === "XX" ? PHONE : HUB;
  const base: ChannelSessionOptions = {
    pattern,
    appProtocol: APP,
    staticSecretKey: role === "initiator" ? initiatorKey : LOCK,
    x25519,
  };
  if (role === "initiator") {
    return {
      ...base,
      ...(pattern === "XX" ? { remoteStaticKey: pub(LOCK) } : { remoteStaticKey: pub(LOCK) }),
      ...extra,
    };
  }
  return {
    ...base,
    ...(pattern === "KK"
      ? { remoteStaticKey: pub(HUB) }
      : { authorizePeer: (p: ChannelPeer) => p.staticKey.length === 32 }),
    ...extra,
  };
}

interface Pair {
  init: ChannelSession;
  resp: ChannelSession;
  /** Every frame in the order sent, with its receiver. */
  frames: { to: "init" | "resp"; bytes: Uint8Array }[];
}

function handshake(
  pattern: PatternName,
  opts: {
    cipher?: CipherName;
    init?: Partial<ChannelSessionOptions>;
    resp?: Partial<ChannelSessionOptions>;
  } = {},
): Pair {
  const cipher = opts.cipher ?? "ChaChaPoly";
  const { session: init, firstFrame } = ChannelSession.initiate(
    optionsFor(pattern, "initiator", { cipher, ...opts.init }),
  );
  const resp = ChannelSession.respond(optionsFor(pattern, "responder", { cipher, ...opts.resp }));
  const frames: Pair["frames"] = [{ to: "resp", bytes: firstFrame }];
  let next: { to: "init" | "resp"; bytes: Uint8Array } | null = { to: "resp", bytes: firstFrame };
  while (next !== null) {
    const r = (next.to === "resp" ? resp : init).receive(next.bytes);
    if (r.kind !== "handshake") throw new Error("expected a handshake message");
    next = r.reply === null ? null : { to: next.to === "resp" ? "init" : "resp", bytes: r.reply };
    if (next !== null) frames.push(next);
  }
  expect(init.phase).toBe("open");
  expect(resp.phase).toBe("open");
  return { init, resp, frames };
}

function codeOf(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (e) {
    if (isLatchkeyError(e)) return e.code;
    throw e;
  }
  throw new Error("expected a refusal, but the frame was accepted");
}

/** Asserts the refusal code and that the session's visible state did not move. */
function expectRefused(
  session: ChannelSession,
  frame: Uint8Array,
  code: ErrorCode | readonly ErrorCode[],
): void {
  const before = JSON.stringify(session.stats);
  const got = codeOf(() => session.receive(frame));
  // Plain comparisons first: this runs thousands of times in the bit-flip tests.
  const allowed = typeof code === "string" ? [code] : code;
  if (!allowed.includes(got)) expect(allowed).toContain(got);
  const after = JSON.stringify(session.stats);
  if (after !== before) expect(after).toBe(before);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

function exchange(from: ChannelSession, to: ChannelSession, message: string): void {
  const r = to.receive(from.send(text(message)));
  expect(r.kind).toBe("message");
  if (r.kind === "message") expect(str(r.plaintext)).toBe(message);
}

describe("attack: replay", () => {
  it.each(["XX", "IK", "KK"] as const)(
    "%s: every captured frame replayed within the session is refused",
    (pattern) => {
      const { init, resp, frames } = handshake(pattern);
      for (let i = 0; i < 4; i++) {
        const a = init.send(text(`req ${i}`));
        frames.push({ to: "resp", bytes: a });
        resp.receive(a);
        const b = resp.send(text(`resp ${i}`));
        frames.push({ to: "init", bytes: b });
        init.receive(b);
      }
      for (const f of frames) {
        const target = f.to === "resp" ? resp : init;
        const frame = ChannelFrame.decode(f.bytes);
        expectRefused(
          target,
          f.bytes,
          frame.type === "handshake" ? "NOISE_UNEXPECTED_FRAME" : "NOISE_FRAME_REPLAYED",
        );
      }
      exchange(init, resp, "still works");
      exchange(resp, init, "both ways");
    },
  );

  it.each(["IK", "KK"] as const)(
    "%s: a new session with the same static keys refuses the old session's frames",
    (pattern) => {
      const freshness = new MemoryHandshakeFreshness();
      const old = handshake(pattern, { init: { handshakeCounter: 7 }, resp: { freshness } });
      expect(freshness.highest).toBe(7);
      const oldData = [old.init.send(text("unlock")), old.init.send(text("unlock again"))];
      const oldReplies = [old.resp.send(text("ok"))];
      const fresh = handshake(pattern, { init: { handshakeCounter: 8 }, resp: { freshness } });
      for (const f of old.frames)
        expectRefused(f.to === "resp" ? fresh.resp : fresh.init, f.bytes, "NOISE_UNEXPECTED_FRAME");
      for (const d of oldData) expectRefused(fresh.resp, d, "NOISE_SESSION_MISMATCH");
      for (const d of oldReplies) expectRefused(fresh.init, d, "NOISE_SESSION_MISMATCH");
      exchange(fresh.init, fresh.resp, "fresh session still works");

      // The old first message replayed to a brand-new responder with the same memory: refused
      // outright, and so is a new initiator whose counter is not above the highest accepted.
      const responder = ChannelSession.respond(optionsFor(pattern, "responder", { freshness }));
      const first = old.frames[0]?.bytes ?? new Uint8Array(0);
      expectRefused(responder, first, "NOISE_HANDSHAKE_REPLAYED");
      const stale = ChannelSession.initiate(optionsFor(pattern, "initiator", { handshakeCounter: 8 }));
      expectRefused(responder, stale.firstFrame, "NOISE_HANDSHAKE_REPLAYED");
      expect(responder.phase).toBe("handshake");
      expect(freshness.highest).toBe(8);
    },
  );

  it.each(["IK", "KK"] as const)(
    "%s: a responder whose memory refuses to store the counter does not answer",
    (pattern) => {
      const responder = ChannelSession.respond(
        optionsFor(pattern, "responder", {
          freshness: {
            isFresh: () => true,
            accept: () => {
              throw new LatchkeyError("LK_INTERNAL", "storage failed");
            },
          },
        }),
      );
      const { firstFrame } = ChannelSession.initiate(
        optionsFor(pattern, "initiator", { handshakeCounter: 1 }),
      );
      expect(codeOf(() => responder.receive(firstFrame))).toBe("LK_INTERNAL");
      expect(responder.stats.handshakeMessageIndex).toBe(0);
    },
  );

  it.each(["IK", "KK"] as const)(
    "%s: without a guard a replayed first message yields nothing usable",
    (pattern) => {
      const old = handshake(pattern);
      const oldData = old.init.send(text("unlock"));
      const responder = ChannelSession.respond(optionsFor(pattern, "responder"));
      const r = responder.receive(old.frames[0]?.bytes ?? new Uint8Array(0));
      // It only carried a hello: the responder answers, but no application message was delivered, and
      // the old session's frames do not belong to the new keys (which the attacker cannot compute).
      expect(r.kind).toBe("handshake");
      expectRefused(responder, oldData, "NOISE_SESSION_MISMATCH");
      const forged = ChannelFrame.decode(oldData);
      if (forged.type === "handshake") throw new Error("expected data");
      // Even with the tag rewritten to pass the cheap check, the keys do not match.
      const retagged = ChannelFrame.encode({
        ...forged,
        sessionTag: (responder as unknown as { sessionTag: number }).sessionTag,
      });
      expectRefused(responder, retagged, "NOISE_FRAME_AUTH_FAILED");
    },
  );

  it("a frame reflected back to its sender is refused", () => {
    const { init, resp } = handshake("IK");
    const a = init.send(text("to the lock"));
    expectRefused(init, a, "NOISE_FRAME_AUTH_FAILED");
    resp.receive(a);
    exchange(resp, init, "reply");
  });
});

describe("attack: message 1 of IK/KK never carries a command", () => {
  it.each(["IK", "KK"] as const)(
    "%s: a raw Noise message 1 with an application payload is refused",
    (pattern) => {
      // An attacker (or a buggy client) builds message 1 with the raw engine and puts a command in it.
      const raw = new HandshakeState({
        pattern,
        cipher: "ChaChaPoly",
        initiator: true,
        prologue: text("latchkey/channel/v1"),
        staticSecretKey: HUB,
        remoteStaticKey: pub(LOCK),
        x25519,
      });
      const message = raw.writeMessage(text("UNLOCK front-door"));
      const frame = ChannelFrame.encode({
        type: "handshake",
        pattern,
        cipher: "ChaChaPoly",
        index: 0,
        message,
      });
      const responder = ChannelSession.respond(optionsFor(pattern, "responder"));
      expectRefused(responder, frame, "NOISE_HELLO_INVALID");
      // A genuine initiator still gets through afterwards.
      const { session: init, firstFrame } = ChannelSession.initiate(optionsFor(pattern, "initiator"));
      const r = responder.receive(firstFrame);
      if (r.kind !== "handshake" || r.reply === null) throw new Error("expected a reply");
      init.receive(r.reply);
      exchange(init, responder, "now the command");
    },
  );

  it("the first frame carries exactly a hello and nothing can be sent before the handshake", () => {
    const { session, firstFrame } = ChannelSession.initiate(optionsFor("IK", "initiator"));
    expect(codeOf(() => session.send(text("unlock")))).toBe("NOISE_WRONG_STATE");
    const responder = ChannelSession.respond(optionsFor("IK", "responder"));
    responder.receive(firstFrame);
    expect(responder.peer?.hello).toEqual({
      kind: "hello",
      maxFrameBytes: 65535,
      appProtocol: APP,
      handshakeCounter: 0,
    });
  });

  it("data frames before the handshake completes are refused", () => {
    const { init } = handshake("IK");
    const data = init.send(text("x"));
    const responder = ChannelSession.respond(optionsFor("IK", "responder"));
    expectRefused(responder, data, "NOISE_UNEXPECTED_FRAME");
  });
});

/** Flips each bit of `frame` and feeds it to `receiver`, expecting a refusal every time. */
function flipEveryBit(receiver: ChannelSession, frame: Uint8Array, allowed: readonly ErrorCode[]): number {
  let n = 0;
  for (let i = 0; i < frame.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = frame.slice();
      bad[i] = (bad[i] ?? 0) ^ (1 << bit);
      expectRefused(receiver, bad, allowed);
      n++;
    }
  }
  return n;
}

const TAMPER_CODES: readonly ErrorCode[] = [
  "NOISE_FRAME_UNSUPPORTED",
  "NOISE_UNEXPECTED_FRAME",
  "NOISE_PROTOCOL_MISMATCH",
  "NOISE_HANDSHAKE_AUTH_FAILED",
  "NOISE_HANDSHAKE_BAD_KEY",
  "NOISE_HELLO_INVALID",
  "NOISE_APP_PROTOCOL_MISMATCH",
  "NOISE_SESSION_MISMATCH",
  "NOISE_EPOCH_OUT_OF_RANGE",
  "NOISE_FRAME_AUTH_FAILED",
  "NOISE_FRAME_TOO_OLD",
  "NOISE_FRAME_REPLAYED",
  "LK_DECODE_INVALID",
  "LK_DECODE_TRUNCATED",
];

describe("attack: every single-bit flip is refused", () => {
  it.each([
    ["IK", "ChaChaPoly"],
    ["KK", "ChaChaPoly"],
    ["IK", "AESGCM"],
    ["XX", "ChaChaPoly"],
  ] as const)("%s/%s: handshake, data and close frames", (pattern, cipher) => {
    const { session: init, firstFrame } = ChannelSession.initiate(
      optionsFor(pattern, "initiator", { cipher, identityProof: text("phone cert") }),
    );
    const resp = ChannelSession.respond(
      optionsFor(pattern, "responder", { cipher, identityProof: text("lock cert") }),
    );
    let flips = 0;
    // Message 1: in XX it is cleartext (only an ephemeral key and the hello), so tampering is caught
    // when the handshake hash no longer matches, one message later; in IK/KK it is caught at once.
    if (pattern !== "XX") flips += flipEveryBit(resp, firstFrame, TAMPER_CODES);
    let reply = resp.receive(firstFrame);
    let receiver = init;
    while (reply.kind === "handshake" && reply.reply !== null) {
      flips += flipEveryBit(receiver, reply.reply, TAMPER_CODES);
      const next: ChannelSession = receiver === init ? resp : init;
      reply = receiver.receive(reply.reply);
      receiver = next;
    }
    expect(init.phase).toBe("open");
    expect(resp.phase).toBe("open");
    for (let i = 0; i < 3; i++) {
      for (const [from, to] of [
        [init, resp],
        [resp, init],
      ] as const) {
        const f = from.send(text(`message ${i}`));
        flips += flipEveryBit(to, f, TAMPER_CODES);
        expect(to.receive(f).kind).toBe("message");
      }
    }
    const close = init.close();
    flips += flipEveryBit(resp, close, TAMPER_CODES);
    expect(resp.receive(close)).toEqual({ kind: "close", reason: 0 });
    expect(flips).toBeGreaterThan(1000);
  });

  it("XX: every bit flip of message 1 stops the handshake from completing", () => {
    const random = (): ((n: number) => Uint8Array) => seededRandom(7);
    const { firstFrame } = ChannelSession.initiate(optionsFor("XX", "initiator", { randomBytes: random() }));
    let refusedAtOnce = 0;
    let refusedLater = 0;
    for (let i = 0; i < firstFrame.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = firstFrame.slice();
        bad[i] = (bad[i] ?? 0) ^ (1 << bit);
        // The same initiator (same ephemeral key) as the one that sent the genuine frame.
        const { session: init } = ChannelSession.initiate(
          optionsFor("XX", "initiator", { randomBytes: random() }),
        );
        const resp = ChannelSession.respond(optionsFor("XX", "responder"));
        let r;
        try {
          r = resp.receive(bad);
        } catch (e) {
          expect(TAMPER_CODES).toContain((e as LatchkeyError).code);
          refusedAtOnce++;
          continue;
        }
        if (r.kind !== "handshake" || r.reply === null) throw new Error("expected a reply");
        expect(TAMPER_CODES).toContain(codeOf(() => init.receive(r.reply ?? new Uint8Array(0))));
        expect(init.phase).toBe("handshake");
        refusedLater++;
      }
    }
    expect(refusedAtOnce + refusedLater).toBe(firstFrame.length * 8);
    expect(refusedLater).toBeGreaterThan(0);
  });
});

describe("attack: truncated, oversized and malformed frames", () => {
  it("every truncation of handshake and data frames is refused", () => {
    const { session: init, firstFrame } = ChannelSession.initiate(optionsFor("IK", "initiator"));
    const resp = ChannelSession.respond(optionsFor("IK", "responder"));
    for (let n = 0; n < firstFrame.length; n++)
      expectRefused(resp, firstFrame.subarray(0, n), ["LK_DECODE_TRUNCATED", "NOISE_HANDSHAKE_AUTH_FAILED"]);
    const r = resp.receive(firstFrame);
    if (r.kind !== "handshake" || r.reply === null) throw new Error("expected a reply");
    init.receive(r.reply);
    const data = init.send(text("unlock front door"));
    for (let n = 0; n < data.length; n++)
      expectRefused(resp, data.subarray(0, n), ["LK_DECODE_TRUNCATED", "NOISE_FRAME_AUTH_FAILED"]);
    expectRefused(resp, concatBytes(data, Uint8Array.of(0)), "NOISE_FRAME_AUTH_FAILED");
    expect(resp.receive(data).kind).toBe("message");
  });

  it("frames above the frame limit are refused before decoding", () => {
    const { init, resp } = handshake("KK", { resp: { limits: { maxFrameBytes: 256 } } });
    expect(init.maxPayloadBytes).toBe(256 - 34);
    expect(codeOf(() => init.send(new Uint8Array(223)))).toBe("NOISE_PAYLOAD_TOO_LARGE");
    const ok = init.send(new Uint8Array(222));
    expect(ok.length).toBe(256);
    expectRefused(resp, new Uint8Array(257), "NOISE_FRAME_TOO_LARGE");
    expectRefused(resp, new Uint8Array(70_000), "NOISE_FRAME_TOO_LARGE");
    expect(resp.receive(ok).kind).toBe("message");
  });

  it("unknown versions and types are refused with NOISE_FRAME_UNSUPPORTED", () => {
    const { init, resp } = handshake("KK");
    const f = init.send(text("x"));
    for (const [i, v] of [
      [0, 2],
      [1, 9],
    ] as const) {
      const bad = f.slice();
      bad[i] = v;
      expectRefused(resp, bad, "NOISE_FRAME_UNSUPPORTED");
    }
    expect(resp.receive(f).kind).toBe("message");
  });
});

describe("attack: frames from elsewhere and after close", () => {
  it("a frame from a previous session is refused", () => {
    const old = handshake("KK");
    const stale = old.init.send(text("unlock"));
    old.init.close();
    const { init, resp } = handshake("KK");
    expectRefused(resp, stale, "NOISE_SESSION_MISMATCH");
    exchange(init, resp, "current");
  });

  it("nothing is accepted or sent after close, on either side", () => {
    const { init, resp } = handshake("IK");
    const inFlight = resp.send(text("late reply"));
    const early = init.send(text("first"));
    const close = init.close(3);
    expect(init.phase).toBe("closed");
    expectRefused(init, inFlight, "NOISE_FRAME_AFTER_CLOSE");
    expect(codeOf(() => init.send(text("x")))).toBe("NOISE_SESSION_CLOSED");
    // A forged close (tampered) does not close the responder.
    const forged = close.slice();
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 1;
    expectRefused(resp, forged, "NOISE_FRAME_AUTH_FAILED");
    expect(resp.phase).toBe("open");
    expect(resp.receive(close)).toEqual({ kind: "close", reason: 3 });
    expect(resp.phase).toBe("closed");
    expectRefused(resp, early, "NOISE_FRAME_AFTER_CLOSE");
    expectRefused(resp, close, "NOISE_FRAME_AFTER_CLOSE");
    expect(codeOf(() => resp.send(text("x")))).toBe("NOISE_SESSION_CLOSED");
    expect(resp.stats.received).toBe(1);
  });
});

describe("attack: counters outside the window", () => {
  it("a counter behind the window is refused as too old; a forged far-ahead counter as unauthentic", () => {
    const { init, resp } = handshake("KK", {
      init: { limits: { replayWindow: 64 } },
      resp: { limits: { replayWindow: 64 } },
    });
    const frames = Array.from({ length: 200 }, (_, i) => init.send(text(`m${i}`)));
    expect(resp.receive(frames[199] ?? new Uint8Array(0)).kind).toBe("message");
    expectRefused(resp, frames[0] ?? new Uint8Array(0), "NOISE_FRAME_TOO_OLD");
    expectRefused(resp, frames[135] ?? new Uint8Array(0), "NOISE_FRAME_TOO_OLD");
    expect(resp.receive(frames[136] ?? new Uint8Array(0)).kind).toBe("message");

    const decoded = ChannelFrame.decode(frames[150] ?? new Uint8Array(0));
    if (decoded.type === "handshake") throw new Error("expected data");
    for (const counter of [10_000, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      expectRefused(resp, ChannelFrame.encode({ ...decoded, counter }), "NOISE_FRAME_AUTH_FAILED");
    }
    // Counters beyond 2^53-1 cannot even be represented by a sender: refused when decoding.
    const huge = (frames[150] ?? new Uint8Array(0)).slice();
    huge.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0], 10);
    expectRefused(resp, huge, "LK_DECODE_INVALID");
    expect(resp.stats.highestReceivedCounter).toBe(199);
    expect(resp.receive(frames[150] ?? new Uint8Array(0)).kind).toBe("message");
  });
});

describe("attack: wrong static keys", () => {
  it("IK to the wrong responder fails authentication", () => {
    const { firstFrame } = ChannelSession.initiate(
      optionsFor("IK", "initiator", { remoteStaticKey: pub(STRANGER) }),
    );
    const resp = ChannelSession.respond(optionsFor("IK", "responder"));
    expectRefused(resp, firstFrame, "NOISE_HANDSHAKE_AUTH_FAILED");
  });

  it("KK with the wrong responder or an unknown initiator fails authentication", () => {
    const toWrong = ChannelSession.initiate(
      optionsFor("KK", "initiator", { remoteStaticKey: pub(STRANGER) }),
    );
    expectRefused(
      ChannelSession.respond(optionsFor("KK", "responder")),
      toWrong.firstFrame,
      "NOISE_HANDSHAKE_AUTH_FAILED",
    );
    const fromStranger = ChannelSession.initiate(
      optionsFor("KK", "initiator", { staticSecretKey: STRANGER }),
    );
    expectRefused(
      ChannelSession.respond(optionsFor("KK", "responder")),
      fromStranger.firstFrame,
      "NOISE_HANDSHAKE_AUTH_FAILED",
    );
  });

  it("KK: the initiator refuses a responder that does not hold the expected key", () => {
    // The impostor knows the hub's public key but not the lock's secret.
    const { session: init, firstFrame } = ChannelSession.initiate(optionsFor("KK", "initiator"));
    const impostor = ChannelSession.respond(optionsFor("KK", "responder", { staticSecretKey: STRANGER }));
    expect(codeOf(() => impostor.receive(firstFrame))).toBe("NOISE_HANDSHAKE_AUTH_FAILED");
    expect(init.phase).toBe("handshake");
  });

  it("IK/XX: the authorisation policy and pinned keys are enforced", () => {
    const { firstFrame } = ChannelSession.initiate(
      optionsFor("IK", "initiator", { staticSecretKey: STRANGER }),
    );
    const lock = ChannelSession.respond(
      optionsFor("IK", "responder", { authorizePeer: (p) => p.staticKey.every((b, i) => b === pub(HUB)[i]) }),
    );
    expectRefused(lock, firstFrame, "NOISE_PEER_NOT_ALLOWED");
    // XX: the phone pins the lock's key; an impostor lock is refused by the phone.
    const { session: phone, firstFrame: xx1 } = ChannelSession.initiate(optionsFor("XX", "initiator"));
    const impostor = ChannelSession.respond(optionsFor("XX", "responder", { staticSecretKey: STRANGER }));
    const r = impostor.receive(xx1);
    if (r.kind !== "handshake" || r.reply === null) throw new Error("expected a reply");
    expectRefused(phone, r.reply, "NOISE_PEER_NOT_ALLOWED");
    // XX: the lock refuses a phone whose proof its policy rejects.
    const pickyLock = ChannelSession.respond(
      optionsFor("XX", "responder", { authorizePeer: (p) => str(p.identityProof) === "valid cert" }),
    );
    const { session: phone2, firstFrame: f1 } = ChannelSession.initiate(
      optionsFor("XX", "initiator", { identityProof: text("forged cert") }),
    );
    const r2 = pickyLock.receive(f1);
    if (r2.kind !== "handshake" || r2.reply === null) throw new Error("expected a reply");
    const r3 = phone2.receive(r2.reply);
    if (r3.kind !== "handshake" || r3.reply === null) throw new Error("expected message 3");
    expectRefused(pickyLock, r3.reply, "NOISE_PEER_NOT_ALLOWED");
    expect(pickyLock.phase).toBe("handshake");
  });

  it("refuses other patterns, ciphers and application protocols", () => {
    const ik = ChannelSession.initiate(optionsFor("IK", "initiator"));
    expectRefused(
      ChannelSession.respond(optionsFor("XX", "responder")),
      ik.firstFrame,
      "NOISE_PROTOCOL_MISMATCH",
    );
    expectRefused(
      ChannelSession.respond(optionsFor("IK", "responder", { cipher: "AESGCM" })),
      ik.firstFrame,
      "NOISE_PROTOCOL_MISMATCH",
    );
    const other = ChannelSession.initiate(
      optionsFor("IK", "initiator", { appProtocol: "latchkey/other/v1" }),
    );
    expectRefused(
      ChannelSession.respond(optionsFor("IK", "responder")),
      other.firstFrame,
      "NOISE_APP_PROTOCOL_MISMATCH",
    );
  });

  it("refuses a low-order ephemeral key", () => {
    const { firstFrame } = ChannelSession.initiate(optionsFor("IK", "initiator"));
    const bad = firstFrame.slice();
    bad.set(new Uint8Array(32), 5); // the all-zero point
    expectRefused(ChannelSession.respond(optionsFor("IK", "responder")), bad, "NOISE_HANDSHAKE_BAD_KEY");
  });
});

describe("sessions", () => {
  it.each([
    ["XX", "ChaChaPoly"],
    ["XX", "AESGCM"],
    ["IK", "ChaChaPoly"],
    ["IK", "AESGCM"],
    ["KK", "ChaChaPoly"],
    ["KK", "AESGCM"],
  ] as const)("%s/%s: handshake, messages both ways, identities", (pattern, cipher) => {
    const { init, resp } = handshake(pattern, {
      cipher,
      init: { identityProof: text("init proof") },
      resp: { identityProof: text("resp proof") },
    });
    expect(init.handshakeHash).toEqual(resp.handshakeHash);
    expect(init.peer?.staticKey).toEqual(pub(LOCK));
    expect(resp.peer?.staticKey).toEqual(pub(pattern === "XX" ? PHONE : HUB));
    expect(str(init.peer?.identityProof ?? new Uint8Array(0))).toBe("resp proof");
    // Only XX carries the initiator's proof (in message 3); IK/KK never put one in message 1.
    expect(str(resp.peer?.identityProof ?? new Uint8Array(0))).toBe(pattern === "XX" ? "init proof" : "");
    for (let i = 0; i < 5; i++) {
      exchange(init, resp, `unlock ${i}`);
      exchange(resp, init, `ack ${i}`);
    }
    exchange(init, resp, "");
  });

  it("rekeys by message count; the receiver follows across reordering and lost epochs", () => {
    const limits = { rekeyAfterMessages: 3, replayWindow: 64, maxEpochSkip: 4 };
    const { init, resp } = handshake("KK", { init: { limits }, resp: { limits } });
    const frames = Array.from({ length: 30 }, (_, i) => init.send(text(`m${i}`)));
    expect(init.stats.sendEpoch).toBe(9);
    // Epochs hold 3 frames (0-2 → 0, 3-5 → 1, …). Deliver newest first across each epoch boundary,
    // then lose epochs 4 and 5 entirely and most of 6.
    const order = [4, 3, 2, 1, 0, 8, 7, 6, 5, 11, 10, 9, 21, 22, 20];
    for (const i of order) {
      const r = resp.receive(frames[i] ?? new Uint8Array(0));
      expect(r.kind === "message" && str(r.plaintext)).toBe(`m${i}`);
    }
    expect(resp.stats.receiveEpoch).toBe(7);
    // Epoch 5 is two behind: its key is gone.
    expectRefused(resp, frames[16] ?? new Uint8Array(0), "NOISE_EPOCH_OUT_OF_RANGE");
    // Epoch 6 (the previous one) is still readable.
    expect(resp.receive(frames[19] ?? new Uint8Array(0)).kind).toBe("message");
    // Jumping more than maxEpochSkip epochs ahead is refused.
    const far = ChannelFrame.decode(frames[29] ?? new Uint8Array(0));
    if (far.type === "handshake") throw new Error("expected data");
    expect(far.epoch).toBe(9);
    expect(resp.receive(frames[29] ?? new Uint8Array(0)).kind).toBe("message");
    const more = Array.from({ length: 20 }, (_, i) => init.send(text(`n${i}`)));
    expectRefused(resp, more[19] ?? new Uint8Array(0), "NOISE_EPOCH_OUT_OF_RANGE");
    expect(resp.receive(more[0] ?? new Uint8Array(0)).kind).toBe("message");
  });

  it("rekeys by time", () => {
    let now = 1_000_000;
    const opts = { now: () => now, limits: { rekeyAfterMs: 60_000 } };
    const { init, resp } = handshake("IK", { init: opts, resp: opts });
    exchange(init, resp, "a");
    now += 59_999;
    exchange(init, resp, "b");
    expect(init.stats.sendEpoch).toBe(0);
    now += 1;
    exchange(init, resp, "c");
    expect(init.stats.sendEpoch).toBe(1);
    expect(resp.stats.receiveEpoch).toBe(1);
    exchange(resp, init, "responder side keeps its own schedule");
    expect(resp.stats.sendEpoch).toBe(1);
  });

  it("checks its configuration", () => {
    expect(
      codeOf(() =>
        ChannelSession.initiate({ pattern: "IK", appProtocol: APP, staticSecretKey: HUB, x25519 }),
      ),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(
      codeOf(() =>
        ChannelSession.respond({ pattern: "XX", appProtocol: APP, staticSecretKey: LOCK, x25519 }),
      ),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(
      codeOf(() => ChannelSession.respond(optionsFor("KK", "responder", { appProtocol: "Bad Name" }))),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(
      codeOf(() => ChannelSession.respond(optionsFor("KK", "responder", { limits: { replayWindow: 33 } }))),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(
      codeOf(() =>
        ChannelSession.respond(optionsFor("KK", "responder", { staticSecretKey: new Uint8Array(31) })),
      ),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(
      codeOf(() =>
        ChannelSession.respond(optionsFor("KK", "responder", { identityProof: new Uint8Array(2049) })),
      ),
    ).toBe("NOISE_CONFIG_INVALID");
    expect(
      HandshakePayload.decode(HandshakePayload.encode({ kind: "finish", identityProof: text("p") })),
    ).toEqual({
      kind: "finish",
      identityProof: text("p"),
    });
  });

  it("works with the default @noble X25519", () => {
    const { session: init, firstFrame } = ChannelSession.initiate({
      pattern: "IK",
      appProtocol: APP,
      staticSecretKey: HUB,
      remoteStaticKey: pub(LOCK),
    });
    const resp = ChannelSession.respond({
      pattern: "IK",
      appProtocol: APP,
      staticSecretKey: LOCK,
      remoteStaticKey: pub(HUB),
    });
    const r = resp.receive(firstFrame);
    if (r.kind !== "handshake" || r.reply === null) throw new Error("expected a reply");
    init.receive(r.reply);
    exchange(init, resp, "noble");
  });
});
