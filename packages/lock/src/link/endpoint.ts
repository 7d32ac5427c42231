/**
 * The lock's network endpoint: give it any frame transport (TCP, WebSocket, MQTT, radio, memory)
 * and it speaks the real protocol on it.
 *
 *  - Not commissioned: only the clear commissioning exchange (SPAKE2+ over the setup code),
 *    answered by the runtime's `CommissioningResponder`.
 *  - Commissioned: only Noise sessions. A first handshake frame naming **KK** opens a hub session
 *    (the lock's channel key and the hub key installed at commissioning). Its hello carries the
 *    hub's handshake counter; the lock answers only a counter above the highest it has accepted,
 *    which it stores in its commissioning state *before* answering, so a captured first message
 *    is never answered again, even after a reboot. A first frame naming **XX** opens a
 *    phone session; the phone's digital-key certificate travels encrypted in message 3 and is
 *    checked by `authorizePeer` (owner-signed, this door, valid now, not revoked, unlock
 *    permission, binding the phone's Noise key). A commissioning message still gets its
 *    COMM_ALREADY_COMMISSIONED answer; anything else is dropped.
 *
 * While not commissioned the lock announces itself (`announcement()`: a clear CommAnnounce with
 * its lock id, for the gateway to publish on the commissioning topic). A CommAnnounce or Result
 * it receives is never answered (a reply is not a request; locks sharing a topic must not chat).
 *
 * A new session never displaces the one in use until it is confirmed: it waits beside it as a
 * candidate until the initiator's first valid transport frame arrives on it (only the holder of
 * the initiator's ephemeral secret can produce one). A replayed or abandoned handshake thus
 * leaves the live session, its requests and its pushes untouched.
 *
 * Event push: once a hub (KK) session is confirmed, every event the runtime signs is also sent on it
 * unsolicited, as an EventBatch of one record with request id 0. Phone sessions get none. Pushes
 * are best effort and change nothing about acknowledgement: the hub still pulls and acknowledges
 * with EventBatch/EventAck. A failed push is counted like any refusal.
 *
 * Requests are decoded from the catalogue and handed to `handleRequest`; each gets a typed reply
 * or a `Result` with a stable code. Bad frames and messages are dropped (or answered with a code),
 * counted by code, and never throw out of the endpoint.
 */
import {
  ChallengeBook,
  ChannelFrame,
  ChannelSession,
  DigitalKeyPermission,
  ERROR_DEFINITIONS,
  HolderKeyType,
  LatchkeyError,
  decodeMessage,
  encodeMessage,
  encodeSignedLockEvent,
  equalBytes,
  isLatchkeyError,
  resultMessage,
  verifyDigitalKey,
  type ChannelPeer,
  type ErrorCode,
  type FrameTransport,
  type SignedLockEvent,
} from "@latchkey/protocol";
import { nodeEd25519, nodeX25519 } from "@latchkey/protocol/node";
import type { LockRuntime } from "../runtime/lock-runtime.js";
import { handleRequest, type PeerRole, type WebAuthnRelyingParty } from "./handle-message.js";
import { decodePhoneIdentityProof, phoneChannelBinding } from "./identity-proof.js";

/** Application protocol names carried in the channel hello (both sides must agree). */
export const HUB_LOCK_PROTOCOL = "latchkey/hub-lock/v1";
export const PHONE_LOCK_PROTOCOL = "latchkey/phone-lock/v1";

export interface LockEndpointOptions {
  /** Who may sign remote unlocks: the hub web app's WebAuthn relying party. */
  readonly relyingParty?: WebAuthnRelyingParty;
  /** Remote-unlock challenge lifetime (default 60 s). */
  readonly challengeTtlMs?: number;
  readonly firmwareVersion?: string;
}

export const DEFAULT_RELYING_PARTY: WebAuthnRelyingParty = {
  rpId: "localhost",
  origins: ["https://localhost", "http://localhost"],
};

/** Why a phone's handshake was refused (certificate refusals plus the proof's own checks). */
export type PhonePeerRefusal = string;

export interface EndpointStats {
  /** Frames and messages refused, by stable code. */
  readonly refusals: Readonly<Record<string, number>>;
  /** Phone handshakes refused, by reason (wrong-door, expired, revoked, bad-binding …). */
  readonly peerRefusals: Readonly<Record<string, number>>;
  readonly requests: number;
  readonly connections: number;
}

type ConnectionState =
  | { readonly mode: "idle" }
  | {
      readonly mode: "noise";
      readonly session: ChannelSession;
      readonly role: PeerRole;
      /** Hub sessions: the hub key the session was opened with (a factory reset voids it). */
      readonly hubKey: Uint8Array | null;
      /** Phone sessions: the certified holder key, set once message 3 is authorised. */
      readonly phone: { holderKey: Uint8Array | null } | null;
    };

type NoiseState = ConnectionState & { mode: "noise" };

/** Unconfirmed sessions kept per carrier (newest last); a newer one pushes out the oldest. */
const MAX_CANDIDATES = 4;

/** One carrier the endpoint serves, the session in use on it, and new ones not yet confirmed. */
interface Connection {
  readonly transport: FrameTransport;
  state: ConnectionState;
  candidates: NoiseState[];
}

export class LockEndpoint {
  readonly #runtime: () => LockRuntime;
  readonly #options: LockEndpointOptions;
  #challenges: { runtime: LockRuntime; book: ChallengeBook } | null = null;
  readonly #refusals = new Map<string, number>();
  readonly #peerRefusals = new Map<string, number>();
  readonly #refusalListeners = new Set<(code: string, error: LatchkeyError) => void>();
  readonly #live = new Set<Connection>();
  /** The runtime whose events are pushed (a virtual lock's restart brings a new one). */
  #events: { runtime: LockRuntime; unsubscribe: () => void } | null = null;
  #requests = 0;
  #connections = 0;

  /** `runtime` is a getter so the endpoint survives restarts of a virtual lock. */
  constructor(runtime: () => LockRuntime, options: LockEndpointOptions = {}) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /** Remote-unlock challenges live in RAM: a reboot (a new runtime) forgets them. */
  #challengeBook(rt: LockRuntime): ChallengeBook {
    if (this.#challenges?.runtime !== rt) {
      const book = new ChallengeBook({
        now: () => rt.commissioning.lifetimeMs,
        ...(this.#options.challengeTtlMs === undefined ? {} : { ttlMs: this.#options.challengeTtlMs }),
      });
      this.#challenges = { runtime: rt, book };
    }
    return this.#challenges.book;
  }

  /** Follows the current runtime's events (subscribes once per runtime instance). */
  #followEvents(rt: LockRuntime): void {
    if (this.#events?.runtime === rt) return;
    this.#events?.unsubscribe();
    this.#events = { runtime: rt, unsubscribe: rt.onEvent((e) => this.#push(rt, e)) };
  }

  /** Sends a signed event to every open hub session (request id 0). Never throws into the runtime. */
  #push(rt: LockRuntime, event: SignedLockEvent): void {
    let bytes: Uint8Array | null = null;
    for (const conn of this.#live) {
      const state = conn.state;
      if (state.mode !== "noise" || state.role !== "hub" || state.session.phase !== "open") continue;
      try {
        const hub = rt.commissioning.hubStaticPublicKey;
        // A session opened with a hub key the lock no longer trusts (factory reset) gets nothing.
        if (hub === null || state.hubKey === null || !equalBytes(hub, state.hubKey)) continue;
        bytes ??= encodeMessage(0, { kind: "EventBatch", records: [encodeSignedLockEvent(event)] });
        conn.transport.send(state.session.send(bytes));
      } catch (e) {
        this.#refused(
          isLatchkeyError(e)
            ? e
            : new LatchkeyError("LK_INTERNAL", "lock failed to push an event", undefined, { cause: e }),
        );
      }
    }
  }

  /**
   * What a lock waiting to be commissioned publishes on the commissioning topic: a clear
   * CommAnnounce (request id 0) with its lock id. Null once commissioned.
   */
  announcement(): Uint8Array | null {
    const rt = this.#runtime();
    if (rt.commissioning.isCommissioned) return null;
    return encodeMessage(0, { kind: "CommAnnounce", lockId: rt.lockIdBytes });
  }

  get stats(): EndpointStats {
    return {
      refusals: Object.fromEntries(this.#refusals),
      peerRefusals: Object.fromEntries(this.#peerRefusals),
      requests: this.#requests,
      connections: this.#connections,
    };
  }

  /** Called with the code of every refused frame or message (tests, metrics). */
  onRefusal(fn: (code: string, error: LatchkeyError) => void): () => void {
    this.#refusalListeners.add(fn);
    return () => this.#refusalListeners.delete(fn);
  }

  /** Serves one connection until the carrier closes. */
  accept(transport: FrameTransport): void {
    this.#connections++;
    const conn: Connection = { transport, state: { mode: "idle" }, candidates: [] };
    this.#live.add(conn);
    this.#followEvents(this.#runtime());
    transport.onClose(() => {
      this.#live.delete(conn);
      this.#drop(conn);
    });
    transport.onFrame((frame) => {
      try {
        this.#followEvents(this.#runtime());
        this.#onFrame(conn, frame);
      } catch (e) {
        const error = isLatchkeyError(e)
          ? e
          : new LatchkeyError("LK_INTERNAL", "lock endpoint failed on a frame", undefined, { cause: e });
        this.#refused(error);
        // An authenticated but unauthorised peer: nothing more to say to it. Its session is gone
        // already; a session in use on the same carrier (a hub's, over MQTT) is not its to end.
        if (
          error.code === "NOISE_PEER_NOT_ALLOWED" &&
          conn.state.mode === "idle" &&
          conn.candidates.length === 0
        )
          transport.close();
      }
    });
  }

  /** A refusal the lock answered with a Result code. */
  #refusedCode(code: string): void {
    const known = Object.hasOwn(ERROR_DEFINITIONS, code) ? (code as ErrorCode) : "LK_INTERNAL";
    this.#refused(new LatchkeyError(known, "request refused", { code }));
  }

  #refused(error: LatchkeyError): void {
    this.#refusals.set(error.code, (this.#refusals.get(error.code) ?? 0) + 1);
    for (const fn of this.#refusalListeners) fn(error.code, error);
  }

  /** Abandons the session in use and every candidate. */
  #drop(conn: Connection): void {
    if (conn.state.mode === "noise") conn.state.session.abandon();
    for (const c of conn.candidates) c.session.abandon();
    conn.state = { mode: "idle" };
    conn.candidates = [];
  }

  #onFrame(conn: Connection, frame: Uint8Array): void {
    const { transport } = conn;
    const rt = this.#runtime();
    const c = rt.commissioning;
    if (!c.isCommissioned) {
      this.#drop(conn);
      const kind = tryDecode(frame)?.message.kind;
      if (kind === "CommAnnounce" || kind === "Result") {
        this.#refused(new LatchkeyError("COMM_UNEXPECTED_MESSAGE", `a ${kind} is not a request`, { kind }));
        return;
      }
      const reply = rt.handleCommissioningMessage(frame);
      const answer = decodeMessage(reply).message;
      if (answer.kind === "Result" && answer.code !== "OK") this.#refusedCode(answer.code);
      transport.send(reply);
      return;
    }
    // A session opened with a hub key the lock no longer trusts (reset, perhaps recommissioned).
    const stale = (s: ConnectionState | null): boolean =>
      s !== null &&
      s.mode === "noise" &&
      s.role === "hub" &&
      (c.hubStaticPublicKey === null || s.hubKey === null || !equalBytes(c.hubStaticPublicKey, s.hubKey));
    if (stale(conn.state)) {
      if (conn.state.mode === "noise") conn.state.session.abandon();
      conn.state = { mode: "idle" };
    }
    conn.candidates = conn.candidates.filter((s) => {
      if (!stale(s)) return true;
      s.session.abandon();
      return false;
    });
    // A first handshake message starts a candidate session even while one is in use (a hub that
    // crashed never closed its session); the one in use stays until a candidate is confirmed.
    if (isFirstHandshake(frame) || (conn.state.mode === "idle" && conn.candidates.length === 0)) {
      const next = this.#startSession(transport, frame);
      if (next !== null) {
        conn.candidates.push(next);
        if (conn.candidates.length > MAX_CANDIDATES) conn.candidates.shift()?.session.abandon();
      }
      return;
    }
    let refusal: Error | null = null;
    for (const candidate of [...conn.candidates].reverse()) {
      let r: ReturnType<ChannelSession["receive"]>;
      try {
        r = candidate.session.receive(frame);
      } catch (e) {
        if (isLatchkeyError(e) && e.code === "NOISE_PEER_NOT_ALLOWED") {
          // A handshake that authenticated someone not allowed in: that candidate ends here.
          candidate.session.abandon();
          conn.candidates = conn.candidates.filter((c) => c !== candidate);
          throw e;
        }
        // Not this candidate's frame (another session's tag, or forged): try the others.
        refusal ??= e instanceof Error ? e : new Error(String(e));
        continue;
      }
      if (r.kind === "handshake") {
        if (r.reply !== null) transport.send(r.reply);
        return;
      }
      // Confirmed: only the initiator of this handshake could produce a valid transport frame.
      if (conn.state.mode === "noise") conn.state.session.abandon();
      for (const c of conn.candidates) if (c !== candidate) c.session.abandon();
      conn.state = candidate;
      conn.candidates = [];
      this.#answer(conn, candidate, r);
      return;
    }
    if (refusal !== null && conn.state.mode === "idle") throw refusal;
    const state = conn.state;
    if (state.mode !== "noise") throw new LatchkeyError("NOISE_UNEXPECTED_FRAME", "frame without a session");
    this.#answer(conn, state, state.session.receive(frame));
  }

  #answer(conn: Connection, state: NoiseState, result: ReturnType<ChannelSession["receive"]>): void {
    switch (result.kind) {
      case "handshake":
        if (result.reply !== null) conn.transport.send(result.reply);
        return;
      case "close":
        if (conn.state === state) conn.state = { mode: "idle" };
        conn.transport.close();
        return;
      case "message": {
        const reply = this.#request(state, result.plaintext);
        conn.transport.send(state.session.send(reply));
        return;
      }
    }
  }

  /** A new session from a first frame (null when the frame was a commissioning message, answered). */
  #startSession(transport: FrameTransport, frame: Uint8Array): NoiseState | null {
    const rt = this.#runtime();
    const c = rt.commissioning;
    let decoded: ChannelFrame;
    try {
      decoded = ChannelFrame.decode(frame);
    } catch (e) {
      // Not a channel frame: a commissioning message still deserves its answer.
      const env = tryDecode(frame);
      if (env !== null && env.message.kind.startsWith("Comm") && env.message.kind !== "CommAnnounce") {
        transport.send(rt.handleCommissioningMessage(frame));
        return null;
      }
      throw e;
    }
    if (decoded.type !== "handshake" || decoded.index !== 0) {
      throw new LatchkeyError("NOISE_UNEXPECTED_FRAME", `${decoded.type} frame without a session`);
    }
    const base = { cipher: decoded.cipher, staticSecretKey: c.channelSecretKey, x25519: nodeX25519 };
    let next: NoiseState;
    if (decoded.pattern === "KK") {
      const hubKey = c.hubStaticPublicKey;
      if (hubKey === null) throw new LatchkeyError("LOCK_NOT_COMMISSIONED", "no hub key installed");
      next = {
        mode: "noise",
        role: "hub",
        hubKey,
        phone: null,
        session: ChannelSession.respond({
          ...base,
          pattern: "KK",
          appProtocol: HUB_LOCK_PROTOCOL,
          remoteStaticKey: hubKey,
          // Stored before the reply leaves; a refused store (full disk) refuses the handshake.
          freshness: {
            isFresh: (counter) => counter > c.hubHandshakeCounter,
            accept: (counter) => {
              if (!c.acceptHubHandshake(counter))
                throw new LatchkeyError("NOISE_HANDSHAKE_REPLAYED", "handshake counter is not fresh");
            },
          },
        }),
      };
    } else if (decoded.pattern === "XX") {
      // The certificate arrives in message 3, after this state exists: authorizePeer fills it in.
      const phone: { holderKey: Uint8Array | null } = { holderKey: null };
      const session = ChannelSession.respond({
        ...base,
        pattern: "XX",
        appProtocol: PHONE_LOCK_PROTOCOL,
        authorizePeer: (peer) => {
          phone.holderKey = this.#authorizePhone(peer);
          return phone.holderKey !== null;
        },
      });
      next = { mode: "noise", role: "phone", hubKey: null, phone, session };
    } else {
      throw new LatchkeyError("NOISE_PROTOCOL_MISMATCH", `the lock does not answer ${decoded.pattern}`, {
        pattern: decoded.pattern,
      });
    }
    const r = next.session.receive(frame);
    if (r.kind === "handshake" && r.reply !== null) transport.send(r.reply);
    return next;
  }

  /** The phone's certificate and key binding; returns the certified holder key, or null (refused). */
  #authorizePhone(peer: ChannelPeer): Uint8Array | null {
    const refuse = (reason: string): null => {
      this.#peerRefusals.set(reason, (this.#peerRefusals.get(reason) ?? 0) + 1);
      return null;
    };
    const rt = this.#runtime();
    const c = rt.commissioning;
    const owner = c.ownerPublicKey;
    if (owner === null) return refuse("not-commissioned");
    let proof;
    try {
      proof = decodePhoneIdentityProof(peer.identityProof);
    } catch {
      return refuse("malformed");
    }
    const now = rt.wallMs;
    if (now === null) return refuse("time-unknown");
    const verdict = verifyDigitalKey(proof.certificate, {
      ownerPublicKey: owner,
      doorId: rt.lockIdBytes,
      now,
      revocationList: c.revocation?.list ?? null,
      permission: DigitalKeyPermission.Unlock,
      utcOffsetMinutes: c.utcOffsetMinutes,
      ed25519: nodeEd25519,
    });
    if (!verdict.ok) return refuse(verdict.reason);
    if (verdict.key.holderKeyType !== HolderKeyType.Ed25519) return refuse("wrong-key-type");
    if (
      !nodeEd25519.verify(verdict.key.holderKey, phoneChannelBinding(peer.staticKey), proof.bindingSignature)
    )
      return refuse("bad-binding");
    return verdict.key.holderKey;
  }

  #request(state: NoiseState, plaintext: Uint8Array): Uint8Array {
    this.#requests++;
    // Echo the request id even when the body does not decode (version u8, type u16, id u32).
    const requestId =
      plaintext.length >= 7
        ? new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).getUint32(3)
        : 0;
    try {
      const env = decodeMessage(plaintext);
      const reply = handleRequest(
        {
          runtime: this.#runtime,
          challenges: this.#challengeBook(this.#runtime()),
          relyingParty: this.#options.relyingParty ?? DEFAULT_RELYING_PARTY,
          firmwareVersion: this.#options.firmwareVersion ?? "latchkey-virtual/0.1",
        },
        { role: state.role, phoneHolderKey: state.phone?.holderKey ?? null },
        env.message,
      );
      if (reply.kind === "Result" && reply.code !== "OK") this.#refusedCode(reply.code);
      return encodeMessage(env.requestId, reply);
    } catch (e) {
      const error = isLatchkeyError(e)
        ? e
        : new LatchkeyError("LK_INTERNAL", "lock failed on a request", undefined, { cause: e });
      this.#refused(error);
      return encodeMessage(requestId, resultMessage(error.code));
    }
  }
}

function isFirstHandshake(frame: Uint8Array): boolean {
  return frame.length > 5 && frame[0] === 1 && frame[1] === 0x01 && frame[4] === 0;
}

function tryDecode(frame: Uint8Array): ReturnType<typeof decodeMessage> | null {
  try {
    return decodeMessage(frame);
  } catch {
    return null;
  }
}
