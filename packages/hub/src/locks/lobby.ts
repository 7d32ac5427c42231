/**
 * Locks waiting to be commissioned. A new lock connects to the gateway under a random session id
 * and repeats a clear `CommAnnounce` (its lock id: public, printed on its label) every few
 * seconds. The lobby remembers who announced recently so the owner can pick one; a session that
 * has been quiet for `ttlMs` is forgotten. Announcements are only hints: the PAKE over the
 * setup code decides, and the identity the lock proves there is the one the hub records.
 */
import { decodeMessage, toHex, type FrameTransport } from "@latchkey/protocol";
import type { DeviceGateway } from "../gateway/device-gateway.js";
import type { MqttFrameTransport } from "../gateway/mqtt-transport.js";

export interface WaitingLock {
  readonly sessionId: string;
  readonly lockId: string;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

interface Entry {
  sessionId: string;
  lockId: string;
  firstSeenAt: number;
  lastSeenAt: number;
  transport: MqttFrameTransport;
  busy: boolean;
}

export const WAITING_TTL_MS = 60_000;

function announcedLockId(frame: Uint8Array): string | null {
  try {
    const m = decodeMessage(frame).message;
    return m.kind === "CommAnnounce" ? toHex(m.lockId) : null;
  } catch {
    return null;
  }
}

export class CommissioningLobby {
  readonly #entries = new Map<string, Entry>();
  readonly #off: () => void;

  constructor(
    gateway: DeviceGateway,
    private readonly ttlMs = WAITING_TTL_MS,
  ) {
    const onSession = (sessionId: string, transport: MqttFrameTransport): void =>
      this.#track(sessionId, transport);
    gateway.on("commissioning", onSession);
    this.#off = () => gateway.off("commissioning", onSession);
  }

  close(): void {
    this.#off();
    for (const e of this.#entries.values()) e.transport.end();
    this.#entries.clear();
  }

  #track(sessionId: string, transport: MqttFrameTransport): void {
    transport.onClose(() => {
      if (this.#entries.get(sessionId)?.transport === transport) this.#entries.delete(sessionId);
    });
    transport.onFrame((frame) => {
      const lockId = announcedLockId(frame);
      if (lockId === null) return;
      const now = Date.now();
      const e = this.#entries.get(sessionId);
      if (e !== undefined && e.transport === transport) {
        e.lastSeenAt = now;
        e.lockId = lockId;
      } else {
        this.#entries.set(sessionId, {
          sessionId,
          lockId,
          firstSeenAt: now,
          lastSeenAt: now,
          transport,
          busy: false,
        });
      }
    });
  }

  /** The waiting session of one lock (by its announced id), or null. */
  waitingLock(lockId: string): WaitingLock | null {
    const cutoff = Date.now() - this.ttlMs;
    for (const e of this.#entries.values())
      if (e.lockId === lockId && !e.busy && e.lastSeenAt >= cutoff)
        return {
          sessionId: e.sessionId,
          lockId: e.lockId,
          firstSeenAt: e.firstSeenAt,
          lastSeenAt: e.lastSeenAt,
        };
    return null;
  }

  /** Locks that announced themselves within the last `ttlMs`, oldest first. */
  waiting(): WaitingLock[] {
    const cutoff = Date.now() - this.ttlMs;
    const out: WaitingLock[] = [];
    for (const e of this.#entries.values()) {
      if (e.lastSeenAt < cutoff) {
        this.#entries.delete(e.sessionId);
        e.transport.end();
        continue;
      }
      if (!e.busy)
        out.push({
          sessionId: e.sessionId,
          lockId: e.lockId,
          firstSeenAt: e.firstSeenAt,
          lastSeenAt: e.lastSeenAt,
        });
    }
    return out.sort((a, b) => a.firstSeenAt - b.firstSeenAt || a.lockId.localeCompare(b.lockId));
  }

  /**
   * Takes a waiting lock for one commissioning attempt: a transport on which its announcements
   * are filtered out (they would confuse the PAKE exchange), and a release function.
   */
  claim(sessionId: string): { transport: FrameTransport; release: () => void } | null {
    const e = this.#entries.get(sessionId);
    if (e === undefined || e.busy) return null;
    e.busy = true;
    const inner = e.transport;
    const transport: FrameTransport = {
      send: (frame) => inner.send(frame),
      onFrame: (handler) =>
        inner.onFrame((frame) => {
          if (announcedLockId(frame) === null) handler(frame);
        }),
      onClose: (handler) => inner.onClose(handler),
      close: () => inner.close(),
    };
    return {
      transport,
      release: () => {
        // A finished lock reconnects under its own id; a failed one announces again on a new session.
        this.#entries.delete(sessionId);
        inner.end();
      },
    };
  }
}
