/**
 * What a channel handshake message may carry. The payloads are fixed, typed records, so no
 * application command can travel in a handshake message — in particular not in message 1 of IK or
 * KK, which an attacker can replay to a responder (Noise section 7.7: weak replay protection).
 *
 * ChannelHello (message 1, initiator → responder):
 *   0    u8   record version (2)
 *   1    u8   kind 0x01
 *   2    u16  largest frame the sender accepts (bytes)
 *   4    u8   application protocol length n (1..64)
 *   5    n    application protocol, ASCII [a-z0-9./-], e.g. "latchkey/hub-lock/v1"
 *   5+n  u64  handshake counter: strictly increasing per initiator and responder (IK/KK, where
 *             message 1 is encrypted and authenticated); a responder that remembers the highest
 *             counter it accepted refuses every replayed first message, across restarts. 0 = none
 *             (XX, whose message 1 is in clear).
 * Responder hello (message 2, responder → initiator):
 *   0  u8   record version (2)
 *   1  u8   kind 0x02
 *   2  u16  largest frame the sender accepts
 *   4  u16  identity proof length (0..2048)
 *   6  …    identity proof, opaque to the channel (e.g. a certificate for the static key)
 * HandshakeFinish (message 3 of XX, initiator → responder):
 *   0  u8   record version (2)
 *   1  u8   kind 0x03
 *   2  u16  identity proof length (0..2048)
 *   4  …    identity proof
 */
import { ByteReader, ByteWriter } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";

/** 2: the hello carries a handshake counter (version 1 had none and is refused). */
export const HANDSHAKE_PAYLOAD_VERSION = 2;
export const MAX_IDENTITY_PROOF = 2048;
/** The smallest frame limit a session may declare: a full XX message 2 with an empty proof fits. */
export const MIN_FRAME_BYTES = 128;
export const APP_PROTOCOL_PATTERN = /^[a-z0-9./-]{1,64}$/;

export interface ChannelHello {
  readonly kind: "hello";
  readonly maxFrameBytes: number;
  readonly appProtocol: string;
  /** Strictly increasing per initiator and responder (IK/KK); 0 when the pattern cannot use it. */
  readonly handshakeCounter: number;
}
export interface ResponderHello {
  readonly kind: "responder-hello";
  readonly maxFrameBytes: number;
  readonly identityProof: Uint8Array;
}
export interface HandshakeFinish {
  readonly kind: "finish";
  readonly identityProof: Uint8Array;
}
export type HandshakePayload = ChannelHello | ResponderHello | HandshakeFinish;

const KIND_ID = { hello: 1, "responder-hello": 2, finish: 3 } as const;

function invalid(message: string, details?: Record<string, string | number>): LatchkeyError {
  return new LatchkeyError("NOISE_HELLO_INVALID", `handshake payload: ${message}`, details);
}

function checkMaxFrame(v: number): number {
  if (v < MIN_FRAME_BYTES)
    throw invalid(`frame limit ${v} is below ${MIN_FRAME_BYTES}`, { maxFrameBytes: v });
  return v;
}

export const HandshakePayload = {
  decode(bytes: Uint8Array): HandshakePayload {
    const r = new ByteReader(bytes, "handshake payload");
    const version = r.u8("version");
    if (version !== HANDSHAKE_PAYLOAD_VERSION) throw invalid(`unknown version ${version}`, { version });
    const kind = r.u8("kind");
    let out: HandshakePayload;
    switch (kind) {
      case KIND_ID.hello: {
        const maxFrameBytes = checkMaxFrame(r.u16("max frame bytes"));
        const n = r.u8("app protocol length");
        const raw = r.bytesFixed(n, "app protocol");
        const appProtocol = String.fromCharCode(...raw);
        if (!APP_PROTOCOL_PATTERN.test(appProtocol)) throw invalid("app protocol is not [a-z0-9./-]{1,64}");
        const handshakeCounter = r.u64Number("handshake counter");
        out = { kind: "hello", maxFrameBytes, appProtocol, handshakeCounter };
        break;
      }
      case KIND_ID["responder-hello"]: {
        const maxFrameBytes = checkMaxFrame(r.u16("max frame bytes"));
        out = {
          kind: "responder-hello",
          maxFrameBytes,
          identityProof: r.bytesVar16("identity proof", MAX_IDENTITY_PROOF),
        };
        break;
      }
      case KIND_ID.finish:
        out = { kind: "finish", identityProof: r.bytesVar16("identity proof", MAX_IDENTITY_PROOF) };
        break;
      default:
        throw invalid(`unknown kind ${kind}`, { kind });
    }
    r.end();
    return out;
  },

  encode(p: HandshakePayload): Uint8Array {
    const w = new ByteWriter().u8(HANDSHAKE_PAYLOAD_VERSION).u8(KIND_ID[p.kind]);
    switch (p.kind) {
      case "hello": {
        if (!APP_PROTOCOL_PATTERN.test(p.appProtocol)) {
          throw new LatchkeyError("NOISE_CONFIG_INVALID", "app protocol must match [a-z0-9./-]{1,64}");
        }
        const raw = Uint8Array.from(p.appProtocol, (c) => c.charCodeAt(0));
        if (!Number.isSafeInteger(p.handshakeCounter) || p.handshakeCounter < 0) {
          throw new LatchkeyError("NOISE_CONFIG_INVALID", "handshake counter must be a safe integer ≥ 0");
        }
        return w
          .u16(checkConfigFrame(p.maxFrameBytes))
          .u8(raw.length)
          .bytes(raw)
          .u64(p.handshakeCounter)
          .finish();
      }
      case "responder-hello":
        return w.u16(checkConfigFrame(p.maxFrameBytes)).bytesVar16(checkProof(p.identityProof)).finish();
      case "finish":
        return w.bytesVar16(checkProof(p.identityProof)).finish();
    }
  },
};

function checkConfigFrame(v: number): number {
  if (!Number.isInteger(v) || v < MIN_FRAME_BYTES || v > 0xffff) {
    throw new LatchkeyError("NOISE_CONFIG_INVALID", `frame limit must be ${MIN_FRAME_BYTES}..65535`, {
      maxFrameBytes: v,
    });
  }
  return v;
}

function checkProof(p: Uint8Array): Uint8Array {
  if (p.length > MAX_IDENTITY_PROOF) {
    throw new LatchkeyError(
      "NOISE_CONFIG_INVALID",
      `identity proof is ${p.length} bytes, at most ${MAX_IDENTITY_PROOF}`,
      {
        length: p.length,
      },
    );
  }
  return p;
}
