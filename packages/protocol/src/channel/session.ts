/**
 * A transport-agnostic secure channel: a Noise handshake (XX, IK or KK over 25519 / ChaChaPoly
 * or AESGCM / SHA256) followed by framed, counter-carrying transport messages with a replay
 * window, automatic rekeying and an authenticated close. Pure code: feed it frames, get plaintext
 * and frames to send back. See docs/secure-channel.md.
 *
 *   const { session: hub, firstFrame } = ChannelSession.initiate({ pattern: "KK", … });
 *   const lock = ChannelSession.respond({ pattern: "KK", … });
 *   const r = lock.receive(firstFrame);            // { kind: "handshake", reply, established }
 *   hub.receive(r.reply!);                          // established on both sides
 *   const frame = hub.send(bytes);                  // → transport
 *   lock.receive(frame);                            // { kind: "message", plaintext }
 *
 * Guarantees:
 *  - Handshake payloads are fixed records (`handshake-payload.ts`): there is no way to put an
 *    application message into a handshake message, so no command ever travels in the replayable
 *    first message of IK/KK. `send` works only once the handshake is complete.
 *  - Every refusal throws a LatchkeyError with a stable NOISE_* / LK_DECODE_* code and leaves the
 *    session exactly as it was: a later genuine frame is still accepted.
 *  - Each frame carries its 64-bit counter (the AEAD nonce), so loss and reordering are tolerated
 *    within the replay window; a counter is accepted at most once.
 *  - The sender rekeys (Noise REKEY) after `rekeyAfterMessages` frames or `rekeyAfterMs`, and names
 *    the key epoch in the frame; the receiver follows without a round trip.
 *  - After a close frame is sent or received, nothing more is sent or accepted.
 */
import { equalBytes } from "../encoding/bytes.js";
import { LatchkeyError, isLatchkeyError } from "../errors/error.js";
import type { CipherState } from "../noise/cipher-state.js";
import { HandshakeState } from "../noise/handshake-state.js";
import type { PatternName } from "../noise/patterns.js";
import { hash, type CipherName, type X25519 } from "../noise/suite.js";
import {
  ChannelFrame,
  CHANNEL_MAX_FRAME_BYTES,
  TRANSPORT_OVERHEAD,
  transportHeader,
  type TransportFrame,
} from "./frame.js";
import {
  HandshakePayload,
  MAX_IDENTITY_PROOF,
  MIN_FRAME_BYTES,
  type ChannelHello,
} from "./handshake-payload.js";
import type { HandshakeFreshness } from "./replay-guard.js";
import { ReplayWindow } from "./replay-window.js";

export interface ChannelLimits {
  /** Largest frame this side accepts and sends (128..65535); the peer's smaller limit also binds sends. */
  readonly maxFrameBytes: number;
  /** Replay window in frames (multiple of 32). Reordering deeper than this loses frames. */
  readonly replayWindow: number;
  /** The sender rekeys after this many frames under one key. */
  readonly rekeyAfterMessages: number;
  /** … or when the current key is older than this when the next frame is sent. */
  readonly rekeyAfterMs: number;
  /** How many rekeys ahead of its current key a receiver follows (all frames of an epoch lost). */
  readonly maxEpochSkip: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = {
  maxFrameBytes: CHANNEL_MAX_FRAME_BYTES,
  replayWindow: 1024,
  rekeyAfterMessages: 65536,
  rekeyAfterMs: 10 * 60 * 1000,
  maxEpochSkip: 16,
};

/** Reasons carried in an authenticated close frame. */
export const CHANNEL_CLOSE_REASON = {
  normal: 0,
  idle: 1,
  protocolError: 2,
  shutdown: 3,
  rekeyExhausted: 4,
} as const;

/** What the handshake told us about the peer; given to `authorizePeer`. */
export interface ChannelPeer {
  /** The peer's X25519 static public key (authenticated by the handshake). */
  readonly staticKey: Uint8Array;
  /** The peer's identity proof (e.g. a certificate for `staticKey`); empty when none was sent. */
  readonly identityProof: Uint8Array;
  /** The initiator's hello, as seen by a responder; null on the initiator side. */
  readonly hello: ChannelHello | null;
}

export interface ChannelSessionOptions {
  readonly pattern: PatternName;
  readonly cipher?: CipherName;
  /** Names the application protocol, e.g. "latchkey/hub-lock/v1"; both sides must agree. */
  readonly appProtocol: string;
  /** Our X25519 static secret key. */
  readonly staticSecretKey: Uint8Array;
  /**
   * The peer's static public key when we know it in advance: required for the IK initiator and
   * for KK; for XX and the IK responder it pins the key the peer must present.
   */
  readonly remoteStaticKey?: Uint8Array;
  /**
   * Decides whether a peer may talk to us, once its static key (and identity proof) is known and
   * authenticated. Required when `remoteStaticKey` is not given. Returning false refuses the
   * handshake with NOISE_PEER_NOT_ALLOWED.
   */
  readonly authorizePeer?: (peer: ChannelPeer) => boolean;
  /** Opaque proof of our static key for the peer (≤ 2048 bytes); sent encrypted, never in message 1. */
  readonly identityProof?: Uint8Array;
  readonly limits?: Partial<ChannelLimits>;
  /**
   * Initiator of IK/KK: the counter put into the (encrypted, authenticated) hello; it must be
   * higher than any this initiator sent to this responder before. Default 0 (XX: unused).
   */
  readonly handshakeCounter?: number;
  /**
   * Responder of IK/KK: refuses a first message whose counter is not fresh (a replay) and
   * remembers the accepted one before answering. Use one durable store per initiator key.
   */
  readonly freshness?: HandshakeFreshness;
  /** Milliseconds clock for time-based rekeying (default Date.now). */
  readonly now?: () => number;
  readonly randomBytes?: (n: number) => Uint8Array;
  /** X25519 implementation (default @noble; Node processes may pass a node:crypto one). */
  readonly x25519?: X25519;
}

export type ChannelSessionPhase = "handshake" | "open" | "closed";

export type ChannelReceived =
  /** A handshake message was accepted; send `reply` if not null. */
  | { readonly kind: "handshake"; readonly reply: Uint8Array | null; readonly established: boolean }
  /** An application message. */
  | { readonly kind: "message"; readonly plaintext: Uint8Array; readonly counter: number }
  /** The peer closed the session (authenticated); the session is now closed. */
  | { readonly kind: "close"; readonly reason: number };

/** Non-secret counters, for logs, metrics and tests. */
export interface ChannelSessionStats {
  readonly phase: ChannelSessionPhase;
  readonly handshakeMessageIndex: number;
  readonly sent: number;
  readonly received: number;
  readonly sendEpoch: number;
  readonly receiveEpoch: number;
  readonly highestReceivedCounter: number;
}

const PROLOGUE = new TextEncoder().encode("latchkey/channel/v1");
const SESSION_TAG_LABEL = new TextEncoder().encode("latchkey/channel/v1 session-tag");
const MAX_EPOCH = 0xffffffff;

interface SendState {
  key: CipherState;
  epoch: number;
  counter: number;
  sentInEpoch: number;
  epochStartedAt: number;
}

interface ReceiveState {
  key: CipherState;
  epoch: number;
  /** The key of epoch-1, kept while frames of that epoch can still be inside the window. */
  previous: CipherState | null;
  /** Every frame of the previous epoch has a counter below this. */
  previousBelow: number;
  window: ReplayWindow;
  received: number;
}

function resolveLimits(partial: Partial<ChannelLimits> | undefined): ChannelLimits {
  const l = { ...DEFAULT_CHANNEL_LIMITS, ...partial };
  const bad = (field: string): never => {
    throw new LatchkeyError("NOISE_CONFIG_INVALID", `channel limit ${field} is out of range`, { field });
  };
  if (
    !Number.isInteger(l.maxFrameBytes) ||
    l.maxFrameBytes < MIN_FRAME_BYTES ||
    l.maxFrameBytes > CHANNEL_MAX_FRAME_BYTES
  )
    bad("maxFrameBytes");
  if (!Number.isInteger(l.rekeyAfterMessages) || l.rekeyAfterMessages < 1) bad("rekeyAfterMessages");
  if (!(l.rekeyAfterMs > 0)) bad("rekeyAfterMs");
  if (!Number.isInteger(l.maxEpochSkip) || l.maxEpochSkip < 1 || l.maxEpochSkip > 1024) bad("maxEpochSkip");
  new ReplayWindow(l.replayWindow); // validates the size
  return l;
}

export class ChannelSession {
  readonly role: "initiator" | "responder";
  readonly pattern: PatternName;
  readonly cipher: CipherName;
  readonly limits: ChannelLimits;
  private readonly options: ChannelSessionOptions;
  private readonly now: () => number;
  private hs: HandshakeState | null;
  private phaseValue: ChannelSessionPhase = "handshake";
  private peerValue: ChannelPeer | null = null;
  private peerHello: ChannelHello | null = null;
  private peerMaxFrame: number = MIN_FRAME_BYTES;
  private hashValue: Uint8Array | null = null;
  private sessionTag = 0;
  private tx: SendState | null = null;
  private rx: ReceiveState | null = null;
  private finalStats: ChannelSessionStats | null = null;

  private constructor(role: "initiator" | "responder", options: ChannelSessionOptions) {
    this.role = role;
    this.options = options;
    this.pattern = options.pattern;
    this.cipher = options.cipher ?? "ChaChaPoly";
    this.limits = resolveLimits(options.limits);
    this.now = options.now ?? Date.now;
    const initiator = role === "initiator";
    const preShared = this.pattern === "KK" || (this.pattern === "IK" && initiator);
    if (preShared && options.remoteStaticKey === undefined) {
      throw new LatchkeyError("NOISE_CONFIG_INVALID", `${this.pattern} ${role} needs remoteStaticKey`);
    }
    if (!preShared && options.remoteStaticKey === undefined && options.authorizePeer === undefined) {
      throw new LatchkeyError(
        "NOISE_CONFIG_INVALID",
        `${this.pattern} ${role} learns the peer's key: give remoteStaticKey or authorizePeer`,
      );
    }
    if ((options.identityProof?.length ?? 0) > MAX_IDENTITY_PROOF) {
      throw new LatchkeyError(
        "NOISE_CONFIG_INVALID",
        `identity proof is longer than ${MAX_IDENTITY_PROOF} bytes`,
        {
          length: options.identityProof?.length ?? 0,
        },
      );
    }
    this.hs = new HandshakeState({
      pattern: this.pattern,
      cipher: this.cipher,
      initiator,
      prologue: PROLOGUE,
      staticSecretKey: options.staticSecretKey,
      remoteStaticKey: preShared ? options.remoteStaticKey : undefined,
      randomBytes: options.randomBytes,
      x25519: options.x25519,
    });
  }

  /** Starts a session as initiator; send `firstFrame` (it carries only a hello, never a command). */
  static initiate(options: ChannelSessionOptions): { session: ChannelSession; firstFrame: Uint8Array } {
    const session = new ChannelSession("initiator", options);
    const hello: ChannelHello = {
      kind: "hello",
      maxFrameBytes: session.limits.maxFrameBytes,
      appProtocol: options.appProtocol,
      handshakeCounter: options.handshakeCounter ?? 0,
    };
    return { session, firstFrame: session.writeHandshake(HandshakePayload.encode(hello)) };
  }

  /** Prepares a responder session; feed it the initiator's first frame with `receive`. */
  static respond(options: ChannelSessionOptions): ChannelSession {
    HandshakePayload.encode({
      kind: "hello",
      maxFrameBytes: MIN_FRAME_BYTES,
      appProtocol: options.appProtocol,
      handshakeCounter: 0,
    });
    return new ChannelSession("responder", options);
  }

  get phase(): ChannelSessionPhase {
    return this.phaseValue;
  }

  /** The authenticated peer, once the handshake has established who it is. */
  get peer(): ChannelPeer | null {
    return this.peerValue;
  }

  /** The Noise handshake hash (channel binding: sign it to bind a signature to this session). */
  get handshakeHash(): Uint8Array | null {
    return this.hashValue?.slice() ?? null;
  }

  /** Largest application message `send` accepts now (both sides' frame limits applied). */
  get maxPayloadBytes(): number {
    return Math.min(this.limits.maxFrameBytes, this.peerMaxFrame) - TRANSPORT_OVERHEAD;
  }

  get stats(): ChannelSessionStats {
    if (this.finalStats !== null) return this.finalStats;
    return {
      phase: this.phaseValue,
      handshakeMessageIndex: this.hs?.nextMessageIndex ?? -1,
      sent: this.tx?.counter ?? 0,
      received: this.rx?.received ?? 0,
      sendEpoch: this.tx?.epoch ?? 0,
      receiveEpoch: this.rx?.epoch ?? 0,
      highestReceivedCounter: this.rx?.window.highestAccepted ?? -1,
    };
  }

  /**
   * Processes one frame from the peer. Throws a LatchkeyError (NOISE_*, LK_DECODE_*) when the
   * frame is refused; the session is then unchanged.
   */
  receive(bytes: Uint8Array): ChannelReceived {
    if (this.phaseValue === "closed") {
      throw new LatchkeyError("NOISE_FRAME_AFTER_CLOSE", "session is closed; frame refused", {
        length: bytes.length,
      });
    }
    if (bytes.length > this.limits.maxFrameBytes) {
      throw new LatchkeyError("NOISE_FRAME_TOO_LARGE", `frame is ${bytes.length} bytes`, {
        length: bytes.length,
        max: this.limits.maxFrameBytes,
      });
    }
    const frame = ChannelFrame.decode(bytes);
    if (frame.type === "handshake") return this.receiveHandshake(frame);
    return this.receiveTransport(frame);
  }

  /** Encrypts one application message into a frame. Only once the handshake is complete. */
  send(plaintext: Uint8Array): Uint8Array {
    return this.seal("data", plaintext);
  }

  /** Ends the session with an authenticated close frame (send it); nothing is accepted afterwards. */
  close(reason: number = CHANNEL_CLOSE_REASON.normal): Uint8Array {
    if (!Number.isInteger(reason) || reason < 0 || reason > 255) {
      throw new LatchkeyError("NOISE_CONFIG_INVALID", "close reason must be 0..255", { reason });
    }
    const frame = this.seal("close", Uint8Array.of(reason));
    this.shutdown();
    return frame;
  }

  /** Drops the session without telling the peer (transport gone); erases keys. */
  abandon(): void {
    this.shutdown();
  }

  // ---- handshake -------------------------------------------------------------------------------

  private writeHandshake(payload: Uint8Array): Uint8Array {
    const hs = this.requireHandshake();
    const index = hs.nextMessageIndex;
    const message = hs.writeMessage(payload);
    return ChannelFrame.encode({
      type: "handshake",
      pattern: this.pattern,
      cipher: this.cipher,
      index,
      message,
    });
  }

  private requireHandshake(): HandshakeState {
    if (this.hs === null) throw new LatchkeyError("NOISE_WRONG_STATE", "handshake is over");
    return this.hs;
  }

  private receiveHandshake(frame: ChannelFrame & { type: "handshake" }): ChannelReceived {
    const hs = this.hs;
    if (this.phaseValue !== "handshake" || hs === null) {
      throw new LatchkeyError("NOISE_UNEXPECTED_FRAME", "handshake frame on an established session", {
        index: frame.index,
      });
    }
    if (frame.pattern !== this.pattern || frame.cipher !== this.cipher) {
      throw new LatchkeyError("NOISE_PROTOCOL_MISMATCH", `peer speaks ${frame.pattern}/${frame.cipher}`, {
        pattern: frame.pattern,
        cipher: frame.cipher,
      });
    }
    if (hs.isMyTurn || frame.index !== hs.nextMessageIndex) {
      throw new LatchkeyError("NOISE_UNEXPECTED_FRAME", `handshake message ${frame.index} out of turn`, {
        index: frame.index,
        expected: hs.nextMessageIndex,
      });
    }
    // Work on a copy; adopt it only when every check below has passed.
    const next = hs.fork();
    const payload = HandshakePayload.decode(next.readMessage(frame.message));
    const expectedKind = frame.index === 0 ? "hello" : frame.index === 1 ? "responder-hello" : "finish";
    if (payload.kind !== expectedKind) {
      throw new LatchkeyError(
        "NOISE_HELLO_INVALID",
        `handshake message ${frame.index} must carry a ${expectedKind}`,
        {
          index: frame.index,
        },
      );
    }
    let peerHello = this.peerHello;
    let peerMaxFrame = this.peerMaxFrame;
    let proof: Uint8Array = new Uint8Array(0);
    if (payload.kind === "hello") {
      if (payload.appProtocol !== this.options.appProtocol) {
        throw new LatchkeyError("NOISE_APP_PROTOCOL_MISMATCH", "peer speaks another application protocol");
      }
      peerHello = payload;
      peerMaxFrame = payload.maxFrameBytes;
    } else if (payload.kind === "responder-hello") {
      peerMaxFrame = payload.maxFrameBytes;
      proof = payload.identityProof;
    } else {
      proof = payload.identityProof;
    }

    // IK/KK message 1 is authenticated by the static keys, so its counter is the initiator's word.
    const firstOfIkKk = frame.index === 0 && this.pattern !== "XX";
    const counter = payload.kind === "hello" ? payload.handshakeCounter : 0;
    const freshness = firstOfIkKk ? this.options.freshness : undefined;
    if (freshness !== undefined && !freshness.isFresh(counter)) {
      throw new LatchkeyError(
        "NOISE_HANDSHAKE_REPLAYED",
        "first handshake message is not newer than the last one accepted",
      );
    }

    // The peer's identity is settled once its static key is known and its proof (if the pattern
    // carries one to us) has arrived: XX after messages 2/3, IK/KK after the peer's first message.
    const remoteStatic = next.remoteStaticKey;
    const identitySettled =
      this.pattern === "XX" ? (this.role === "initiator" ? frame.index === 1 : frame.index === 2) : true;
    let peer = this.peerValue;
    if (identitySettled && peer === null && remoteStatic !== null) {
      peer = { staticKey: remoteStatic, identityProof: proof, hello: peerHello };
      const pinned = this.options.remoteStaticKey;
      if (pinned !== undefined && !equalBytes(pinned, remoteStatic)) {
        throw new LatchkeyError(
          "NOISE_PEER_NOT_ALLOWED",
          "peer presented a different static key than expected",
        );
      }
      if (this.options.authorizePeer !== undefined && !this.options.authorizePeer(peer)) {
        throw new LatchkeyError("NOISE_PEER_NOT_ALLOWED", "peer refused by the authorisation policy");
      }
    }

    // Our reply (if it is our turn) is computed on the copy too, so a failure leaves us unchanged.
    let reply: Uint8Array | null = null;
    if (next.isMyTurn) {
      const ourPayload: HandshakePayload =
        next.nextMessageIndex === 1
          ? {
              kind: "responder-hello",
              maxFrameBytes: this.limits.maxFrameBytes,
              identityProof: this.options.identityProof ?? new Uint8Array(0),
            }
          : { kind: "finish", identityProof: this.options.identityProof ?? new Uint8Array(0) };
      const index = next.nextMessageIndex;
      const message = next.writeMessage(HandshakePayload.encode(ourPayload));
      reply = ChannelFrame.encode({
        type: "handshake",
        pattern: this.pattern,
        cipher: this.cipher,
        index,
        message,
      });
    }

    // Commit: the counter is stored (durably, for a lock) before the reply can leave.
    freshness?.accept(counter);
    this.hs = next;
    this.peerHello = peerHello;
    this.peerMaxFrame = peerMaxFrame;
    this.peerValue = peer;
    const established = next.isComplete;
    if (established) this.establish(next);
    return { kind: "handshake", reply, established };
  }

  private establish(hs: HandshakeState): void {
    const keys = hs.split();
    this.hashValue = keys.handshakeHash;
    const tag = hash(SESSION_TAG_LABEL, keys.handshakeHash);
    this.sessionTag = new DataView(tag.buffer, tag.byteOffset, 4).getUint32(0);
    this.tx = { key: keys.send, epoch: 0, counter: 0, sentInEpoch: 0, epochStartedAt: this.now() };
    this.rx = {
      key: keys.receive,
      epoch: 0,
      previous: null,
      previousBelow: 0,
      window: new ReplayWindow(this.limits.replayWindow),
      received: 0,
    };
    this.hs = null;
    this.phaseValue = "open";
  }

  // ---- transport -------------------------------------------------------------------------------

  private seal(type: "data" | "close", plaintext: Uint8Array): Uint8Array {
    if (this.phaseValue === "closed") throw new LatchkeyError("NOISE_SESSION_CLOSED", "session is closed");
    const tx = this.tx;
    if (this.phaseValue !== "open" || tx === null) {
      throw new LatchkeyError("NOISE_WRONG_STATE", "handshake not complete; nothing can be sent yet");
    }
    if (plaintext.length > this.maxPayloadBytes) {
      throw new LatchkeyError("NOISE_PAYLOAD_TOO_LARGE", `message is ${plaintext.length} bytes`, {
        length: plaintext.length,
        max: this.maxPayloadBytes,
      });
    }
    if (tx.counter > Number.MAX_SAFE_INTEGER) {
      throw new LatchkeyError("NOISE_COUNTER_EXHAUSTED", "frame counter space used up");
    }
    const now = this.now();
    if (
      tx.sentInEpoch >= this.limits.rekeyAfterMessages ||
      now - tx.epochStartedAt >= this.limits.rekeyAfterMs
    ) {
      if (tx.epoch >= MAX_EPOCH) throw new LatchkeyError("NOISE_COUNTER_EXHAUSTED", "key epochs used up");
      const old = tx.key;
      tx.key = old.rekeyed();
      old.destroy();
      tx.epoch++;
      tx.sentInEpoch = 0;
      tx.epochStartedAt = now;
    }
    const header = { type, sessionTag: this.sessionTag, epoch: tx.epoch, counter: tx.counter } as const;
    const ad = transportHeader(header);
    const ciphertext = tx.key.encryptWithNonce(BigInt(tx.counter), ad, plaintext);
    tx.counter++;
    tx.sentInEpoch++;
    return ChannelFrame.encode({ ...header, ciphertext });
  }

  private receiveTransport(frame: TransportFrame): ChannelReceived {
    const rx = this.rx;
    if (this.phaseValue !== "open" || rx === null) {
      throw new LatchkeyError("NOISE_UNEXPECTED_FRAME", `${frame.type} frame before the handshake completed`);
    }
    if (frame.sessionTag !== this.sessionTag) {
      throw new LatchkeyError("NOISE_SESSION_MISMATCH", "frame belongs to another session", {
        sessionTag: frame.sessionTag,
      });
    }
    rx.window.assertFresh(frame.counter);

    // Pick the key named by the frame's epoch; a newer epoch is derived as a candidate only.
    let key: CipherState;
    let chain: CipherState[] = [];
    if (frame.epoch === rx.epoch) key = rx.key;
    else if (frame.epoch === rx.epoch - 1 && rx.previous !== null) key = rx.previous;
    else if (frame.epoch > rx.epoch && frame.epoch - rx.epoch <= this.limits.maxEpochSkip) {
      chain = [rx.key];
      for (let e = rx.epoch; e < frame.epoch; e++) chain.push((chain[chain.length - 1] ?? rx.key).rekeyed());
      key = chain[chain.length - 1] ?? rx.key;
    } else {
      throw new LatchkeyError(
        "NOISE_EPOCH_OUT_OF_RANGE",
        `frame key epoch ${frame.epoch}, current ${rx.epoch}`,
        {
          epoch: frame.epoch,
          current: rx.epoch,
        },
      );
    }

    const plaintext = key.decryptWithNonce(BigInt(frame.counter), transportHeader(frame), frame.ciphertext);
    if (plaintext === null) {
      for (const c of chain.slice(1)) c.destroy();
      throw new LatchkeyError(
        "NOISE_FRAME_AUTH_FAILED",
        `${frame.type} frame ${frame.counter} failed authentication`,
        {
          counter: frame.counter,
          length: frame.ciphertext.length,
        },
      );
    }
    if (frame.type === "close" && plaintext.length !== 1) {
      for (const c of chain.slice(1)) c.destroy();
      throw new LatchkeyError(
        "LK_DECODE_INVALID",
        `close frame payload is ${plaintext.length} bytes, 1 expected`,
        {
          field: "close reason",
        },
      );
    }

    // Commit.
    rx.window.accept(frame.counter);
    rx.received++;
    if (chain.length > 0) {
      const previous = chain[chain.length - 2] ?? null;
      for (const c of chain.slice(0, -2)) c.destroy();
      rx.previous?.destroy();
      rx.previous = previous;
      rx.previousBelow = frame.counter;
      rx.key = key;
      rx.epoch = frame.epoch;
    }
    if (rx.previous !== null && rx.window.lowestAcceptable >= rx.previousBelow) {
      // No frame of the previous epoch can pass the window any more: forget its key.
      rx.previous.destroy();
      rx.previous = null;
    }
    if (frame.type === "close") {
      const reason = plaintext[0] ?? 0;
      this.shutdown();
      return { kind: "close", reason };
    }
    return { kind: "message", plaintext, counter: frame.counter };
  }

  private shutdown(): void {
    if (this.phaseValue === "closed") return;
    this.finalStats = { ...this.stats, phase: "closed" };
    this.phaseValue = "closed";
    this.tx?.key.destroy();
    this.rx?.key.destroy();
    this.rx?.previous?.destroy();
    this.tx = null;
    this.rx = null;
    this.hs = null;
  }
}

/** True for refusals caused by the peer's bytes (count them; keep the session). */
export function isFrameRefusal(e: unknown): boolean {
  return isLatchkeyError(e) && e.blame === "input";
}
