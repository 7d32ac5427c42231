/**
 * The hub's side of commissioning (the SPAKE2+ prover), as a pure class. Usage:
 *
 *   const hub = new CommissioningInitiator({ setupCode, hubKeys });
 *   let out: Uint8Array | null = hub.start();
 *   while (out !== null) out = hub.handle(await exchange(out));
 *   hub.result // the lock's signing and channel public keys
 *
 * Any refusal (a Result error from the lock, a wrong confirmV, a bad payload) throws a
 * LatchkeyError and ends the attempt; start a new initiator to retry.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes as nobleRandomBytes } from "@noble/hashes/utils.js";
import { equalBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  type MessageKind,
  type MessageOf,
} from "../messages/catalogue.js";
import { proverFinish, proverShare, scalarFromWideBytes } from "../spake2plus/spake2plus.js";
import {
  SEALED_TYPES,
  SEAL_COUNTER,
  SPAKE_IDS,
  decodeLockIdentity,
  directionKeys,
  encodeHubKeys,
  open,
  seal,
  spakeContext,
  type DirectionKeys,
  type HubKeys,
  type LockIdentityKeys,
} from "./sealing.js";
import { deriveSetupSecrets, normaliseSetupCode } from "./setup-code.js";
import type { Pbkdf2Sha256 } from "../spake2plus/spake2plus.js";

export interface CommissioningInitiatorOptions {
  /** The code printed on the lock (8 digits; spaces and dashes ignored). Kept only in memory. */
  readonly setupCode: string;
  readonly hubKeys: HubKeys;
  readonly randomBytes?: (n: number) => Uint8Array;
  /** PBKDF2-HMAC-SHA-256 (default: the portable @noble one; Node hubs pass node:crypto's). */
  readonly pbkdf2?: Pbkdf2Sha256;
}

type Step =
  | { readonly step: "ready" }
  | { readonly step: "hello-sent"; readonly hello: Uint8Array }
  | {
      readonly step: "pake1-sent";
      readonly shareP: Uint8Array;
      readonly x: bigint;
      readonly context: Uint8Array;
      readonly w0: bigint;
      readonly w1: bigint;
    }
  | { readonly step: "pake3-sent"; readonly keys: DirectionKeys }
  | { readonly step: "complete-sent"; readonly identity: LockIdentityKeys }
  | { readonly step: "done" }
  | { readonly step: "failed" };

export class CommissioningInitiator {
  private state: Step = { step: "ready" };
  private requestId = 0;
  private readonly setupCode: string;
  private readonly hubKeysPlain: Uint8Array;
  private readonly random: (n: number) => Uint8Array;
  private identity: LockIdentityKeys | null = null;
  private readonly pbkdf2: Pbkdf2Sha256 | undefined;

  constructor(options: CommissioningInitiatorOptions) {
    this.pbkdf2 = options.pbkdf2;
    this.setupCode = normaliseSetupCode(options.setupCode);
    this.hubKeysPlain = encodeHubKeys(options.hubKeys);
    this.random = options.randomBytes ?? nobleRandomBytes;
  }

  /** The lock's identity keys once commissioning completed, else null. */
  get result(): LockIdentityKeys | null {
    return this.identity;
  }

  get phase(): Step["step"] {
    return this.state.step;
  }

  /** The first message: CommHello. */
  start(): Uint8Array {
    if (this.state.step !== "ready") throw this.fail("COMM_UNEXPECTED_MESSAGE", "initiator already started");
    const hello = this.send({ kind: "CommHello", initiatorRandom: this.random(32) });
    this.state = { step: "hello-sent", hello };
    return hello;
  }

  /** Handles the lock's reply; returns the next message, or null when commissioning completed. */
  handle(replyBytes: Uint8Array): Uint8Array | null {
    try {
      return this.step(replyBytes);
    } catch (e) {
      this.state = { step: "failed" };
      throw e;
    }
  }

  private step(replyBytes: Uint8Array): Uint8Array | null {
    const env = decodeMessage(replyBytes);
    if (env.requestId !== this.requestId) {
      throw new LatchkeyError("COMM_UNEXPECTED_MESSAGE", "reply does not answer the last request", {
        expected: this.requestId,
        got: env.requestId,
      });
    }
    const s = this.state;
    switch (s.step) {
      case "hello-sent": {
        const params = expectKind(env.message, "CommParams");
        // Range-checked by the decoder (1000–100000 iterations), so a hostile lock cannot make us spin.
        const { w0, w1 } = deriveSetupSecrets(this.setupCode, params.salt, params.iterations, this.pbkdf2);
        const context = spakeContext(s.hello, replyBytes);
        const x = scalarFromWideBytes(this.random(40));
        const shareP = proverShare(w0, x);
        const out = this.send({ kind: "CommPake1", shareP });
        this.state = {
          step: "pake1-sent",
          shareP,
          x,
          context,
          w0,
          w1,
        };
        return out;
      }
      case "pake1-sent": {
        const pake2 = expectKind(env.message, "CommPake2");
        const result = proverFinish(
          { context: s.context, ...SPAKE_IDS },
          { w0: s.w0, w1: s.w1 },
          s.x,
          s.shareP,
          pake2.shareV,
        );
        if (!equalBytes(result.confirmV, pake2.confirmV)) {
          throw new LatchkeyError(
            "COMM_CONFIRMATION_FAILED",
            "confirmV does not match: wrong setup code or not the expected lock",
          );
        }
        const keys = directionKeys(result.K_shared);
        const out = this.send({
          kind: "CommPake3",
          confirmP: result.confirmP,
          sealedKeys: seal(keys.hubToLock, SEAL_COUNTER.pake3, SEALED_TYPES.pake3, this.hubKeysPlain),
        });
        this.state = { step: "pake3-sent", keys };
        return out;
      }
      case "pake3-sent": {
        const m = expectKind(env.message, "CommLockIdentity");
        const plain = open(
          s.keys.lockToHub,
          SEAL_COUNTER.lockIdentity,
          SEALED_TYPES.lockIdentity,
          m.sealedIdentity,
        );
        const identity = decodeLockIdentity(plain);
        const out = this.send({
          kind: "CommComplete",
          sealedConfirmation: seal(
            s.keys.hubToLock,
            SEAL_COUNTER.complete,
            SEALED_TYPES.complete,
            sha256(plain),
          ),
        });
        this.state = { step: "complete-sent", identity };
        return out;
      }
      case "complete-sent": {
        const m = expectKind(env.message, "Result");
        if (m.code !== "OK") throw refusedBy(m);
        this.identity = s.identity;
        this.state = { step: "done" };
        return null;
      }
      case "ready":
      case "done":
      case "failed":
        throw new LatchkeyError("COMM_UNEXPECTED_MESSAGE", `no reply expected in phase ${s.step}`);
    }
  }

  private send(message: Message): Uint8Array {
    this.requestId++;
    return encodeMessage(this.requestId, message);
  }

  private fail(code: "COMM_UNEXPECTED_MESSAGE", message: string): LatchkeyError {
    return new LatchkeyError(code, message);
  }
}

function refusedBy(m: MessageOf<"Result">): LatchkeyError {
  return new LatchkeyError("COMM_REFUSED", `lock refused commissioning: ${m.code}`, {
    code: m.code,
    retryAfterMs: m.retryAfterMs,
  });
}

function expectKind<K extends MessageKind>(m: Message, kind: K): MessageOf<K> {
  if (m.kind === "Result" && kind !== "Result") throw refusedBy(m);
  if (m.kind !== kind) {
    throw new LatchkeyError("COMM_UNEXPECTED_MESSAGE", `expected ${kind}, got ${m.kind}`, {
      expected: kind,
      got: m.kind,
    });
  }
  return m as MessageOf<K>;
}
