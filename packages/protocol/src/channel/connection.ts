/**
 * A ChannelSession bound to a FrameTransport: runs the handshake, then delivers application
 * messages. Refused frames are counted and dropped (the session is unchanged by them), so an
 * attacker injecting garbage cannot tear a connection down; a genuine close frame or the carrier
 * going away ends it. Pure code (timers only), usable in Node and browsers.
 */
import { LatchkeyError, isLatchkeyError } from "../errors/error.js";
import { ChannelSession, type ChannelSessionOptions } from "./session.js";
import type { FrameTransport } from "./transport.js";

export interface ConnectionOptions extends ChannelSessionOptions {
  /** The handshake must finish within this time (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Called for each refused frame (a LatchkeyError with a NOISE_* / LK_DECODE_* code). */
  readonly onRefusal?: (error: LatchkeyError) => void;
}

type Waiter = { resolve: (m: Uint8Array) => void; reject: (e: Error) => void };

export class SecureConnection {
  private readonly inbox: Uint8Array[] = [];
  private readonly waiters: Waiter[] = [];
  private messageHandler: ((m: Uint8Array) => void) | null = null;
  private readonly closeHandlers: ((reason: number | null) => void)[] = [];
  private ended = false;
  private refusedCount = 0;

  private constructor(
    readonly session: ChannelSession,
    private readonly transport: FrameTransport,
    private readonly options: ConnectionOptions,
  ) {}

  /** Runs the handshake as initiator. */
  static connect(transport: FrameTransport, options: ConnectionOptions): Promise<SecureConnection> {
    const { session, firstFrame } = ChannelSession.initiate(options);
    const conn = new SecureConnection(session, transport, options);
    const ready = conn.handshake();
    transport.send(firstFrame);
    return ready;
  }

  /** Runs the handshake as responder. */
  static accept(transport: FrameTransport, options: ConnectionOptions): Promise<SecureConnection> {
    return new SecureConnection(ChannelSession.respond(options), transport, options).handshake();
  }

  /** Frames refused so far (tampered, replayed, out of window …). */
  get refusals(): number {
    return this.refusedCount;
  }

  send(plaintext: Uint8Array): void {
    this.transport.send(this.session.send(plaintext));
  }

  /** Handles every message from now on (messages already queued are handed over first). */
  onMessage(handler: (message: Uint8Array) => void): void {
    this.messageHandler = handler;
    for (const m of this.inbox.splice(0)) handler(m);
  }

  /**
   * Adds a handler called once: with the peer's close reason, or null when the carrier went away
   * without one. Every handler added is called (a request client fails its pending requests, its
   * owner forgets it), in the order added.
   */
  onClose(handler: (reason: number | null) => void): void {
    this.closeHandlers.push(handler);
  }

  /** The next application message (for request/response use). */
  nextMessage(): Promise<Uint8Array> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(new LatchkeyError("NOISE_SESSION_CLOSED", "connection is closed"));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Sends an authenticated close frame and closes the carrier. */
  close(reason?: number): void {
    if (this.session.phase === "open") this.transport.send(this.session.close(reason));
    this.end(null);
    this.transport.close();
  }

  private handshake(): Promise<SecureConnection> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.session.abandon();
        this.end(null);
        this.transport.close();
        reject(new LatchkeyError("NOISE_WRONG_STATE", "handshake did not complete in time"));
      }, this.options.handshakeTimeoutMs ?? 10_000);
      this.transport.onClose((error) => {
        clearTimeout(timer);
        if (this.session.phase === "handshake") {
          reject(error ?? new LatchkeyError("NOISE_SESSION_CLOSED", "carrier closed during the handshake"));
        }
        this.session.abandon();
        this.end(null);
      });
      this.transport.onFrame((frame) => {
        const wasOpen = this.session.phase === "open";
        let result;
        try {
          result = this.session.receive(frame);
        } catch (e) {
          if (!isLatchkeyError(e)) throw e;
          this.refusedCount++;
          this.options.onRefusal?.(e);
          return;
        }
        switch (result.kind) {
          case "handshake":
            if (result.reply !== null) this.transport.send(result.reply);
            if (!wasOpen && result.established) {
              clearTimeout(timer);
              resolve(this);
            }
            break;
          case "message":
            this.deliver(result.plaintext);
            break;
          case "close":
            this.end(result.reason);
            this.transport.close();
            break;
        }
      });
    });
  }

  private deliver(message: Uint8Array): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.resolve(message);
    else if (this.messageHandler !== null) this.messageHandler(message);
    else this.inbox.push(message);
  }

  private end(reason: number | null): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.waiters.splice(0))
      w.reject(new LatchkeyError("NOISE_SESSION_CLOSED", "connection closed"));
    for (const handler of this.closeHandlers) handler(reason);
  }
}
