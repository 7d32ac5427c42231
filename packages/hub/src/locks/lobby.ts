/**
 * Locks waiting to be commissioned. A new lock connects to the gateway under a random session id
 * and repeats a clear `CommAnnounce` (its lock id: public, printed on its label) every few
 * seconds. The lobby remembers who announced recently so the owner can pick one; a session that
 * has been quiet for `ttlMs` is forgotten. Announcements are only hints: the PAKE over the
 * setup code decides, and the identity the lock proves there is the one the hub records.
 *
 * Anyone who can reach the broker can announce, so the lobby holds up under abuse:
 *  - a session keeps the lock id it announced first; a later announcement naming another id is
 *    ignored, so a replayed or bit-flipped announcement cannot re-label a waiting lock;
 *  - it holds at most `maxPerSource` sessions per source (the network address the embedded broker
 *    saw; with an external broker every session is its own source) and `maxWaiting` in all. A
 *    source over its share replaces its own least recently heard session; when the lobby is full,
 *    a newcomer may only replace a session of a source holding more than its own share, so no
 *    source can push out the sessions of sources with fewer;
 *  - several sessions may announce one lock id (a real lock and a replay): `waiting()` lists the
 *    id once with how many sessions announced it, and `claimAll` hands all of them to the
 *    commissioning attempt, where only the real lock can complete the PAKE.
 * Whether a listed lock is already commissioned is for the caller to check (it has the database).
 */
import { decodeMessage, toHex, type FrameTransport } from "@latchkey/protocol";
import type { DeviceGateway } from "../gateway/device-gateway.js";
import type { MqttFrameTransport } from "@latchkey/lock/mqtt";

export interface WaitingLock {
  readonly lockId: string;
  /** When the first of its sessions announced it. */
  readonly firstSeenAt: number;
  /** When any of its sessions last announced it. */
  readonly lastSeenAt: number;
  /** How many sessions announce this lock id (more than one: at least one is not the lock). */
  readonly announcers: number;
}

interface Entry {
  readonly sessionId: string;
  readonly lockId: string;
  readonly source: string;
  readonly firstSeenAt: number;
  lastSeenAt: number;
  readonly transport: MqttFrameTransport;
  busy: boolean;
}

export interface LobbyOptions {
  /** Forget a session quiet this long (default 60 s). */
  readonly ttlMs?: number;
  /** Sessions kept per source (default 4). */
  readonly maxPerSource?: number;
  /** Sessions kept in all (default 64). */
  readonly maxWaiting?: number;
}

export interface LockClaim {
  readonly sessionId: string;
  /** The session's frames without its announcements (they would confuse the PAKE exchange). */
  readonly transport: FrameTransport;
  /** Forgets the session and closes it (a failed lock announces again on a new session). */
  release(): void;
}

export const WAITING_TTL_MS = 60_000;
export const MAX_WAITING_PER_SOURCE = 4;
export const MAX_WAITING = 64;
/** Sessions of one lock id tried at once by one commissioning attempt. */
export const MAX_CLAIMED_PER_LOCK = 4;

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
  readonly #ttlMs: number;
  readonly #maxPerSource: number;
  readonly #maxWaiting: number;

  constructor(
    private readonly gateway: DeviceGateway,
    options: LobbyOptions = {},
  ) {
    this.#ttlMs = options.ttlMs ?? WAITING_TTL_MS;
    this.#maxPerSource = options.maxPerSource ?? MAX_WAITING_PER_SOURCE;
    this.#maxWaiting = options.maxWaiting ?? MAX_WAITING;
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
    // The embedded broker knows where the session's connection comes from; an external broker
    // does not tell, so each session there counts as its own source.
    const source = this.gateway.broker?.commissioningSource(sessionId) ?? `session:${sessionId}`;
    let first = true;
    transport.onFrame((frame) => {
      const lockId = announcedLockId(frame);
      const e = this.#entries.get(sessionId);
      const ours = e !== undefined && e.transport === transport;
      if (lockId === null) {
        // A session must open with an announcement; anything else is not a lock waiting here.
        if (first && !ours) transport.end();
        return;
      }
      first = false;
      const now = Date.now();
      if (ours) {
        // A session keeps its first lock id: another one is a replay or a forgery, never a re-label.
        if (e.lockId === lockId) e.lastSeenAt = now;
        return;
      }
      if (!this.#makeRoom(source, now)) {
        transport.end();
        return;
      }
      this.#entries.set(sessionId, {
        sessionId,
        lockId,
        source,
        firstSeenAt: now,
        lastSeenAt: now,
        transport,
        busy: false,
      });
    });
  }

  /** Frees a place for a new session from `source`; false when it may not have one. */
  #makeRoom(source: string, now: number): boolean {
    this.#forgetQuiet(now);
    const bySource = new Map<string, Entry[]>();
    for (const e of this.#entries.values()) {
      const list = bySource.get(e.source);
      if (list === undefined) bySource.set(e.source, [e]);
      else list.push(e);
    }
    const own = bySource.get(source) ?? [];
    if (own.length >= this.#maxPerSource) return this.#evictQuietest(own);
    if (this.#entries.size < this.#maxWaiting) return true;
    // Full: only a source holding more than the newcomer's source would after this one gives way.
    let largest: Entry[] = [];
    for (const list of bySource.values()) if (list.length > largest.length) largest = list;
    return largest.length > own.length + 1 && this.#evictQuietest(largest);
  }

  /** Drops the least recently heard session of `entries` that is not being commissioned. */
  #evictQuietest(entries: readonly Entry[]): boolean {
    let victim: Entry | null = null;
    for (const e of entries) if (!e.busy && (victim === null || e.lastSeenAt < victim.lastSeenAt)) victim = e;
    if (victim === null) return false;
    this.#entries.delete(victim.sessionId);
    victim.transport.end();
    return true;
  }

  #forgetQuiet(now: number): void {
    const cutoff = now - this.#ttlMs;
    for (const e of [...this.#entries.values()]) {
      if (e.lastSeenAt < cutoff && !e.busy) {
        this.#entries.delete(e.sessionId);
        e.transport.end();
      }
    }
  }

  /** Lock ids announced within the last `ttlMs`, each once, oldest first. */
  waiting(): WaitingLock[] {
    this.#forgetQuiet(Date.now());
    const byLock = new Map<string, { firstSeenAt: number; lastSeenAt: number; announcers: number }>();
    for (const e of this.#entries.values()) {
      if (e.busy) continue;
      const w = byLock.get(e.lockId);
      if (w === undefined)
        byLock.set(e.lockId, { firstSeenAt: e.firstSeenAt, lastSeenAt: e.lastSeenAt, announcers: 1 });
      else {
        w.firstSeenAt = Math.min(w.firstSeenAt, e.firstSeenAt);
        w.lastSeenAt = Math.max(w.lastSeenAt, e.lastSeenAt);
        w.announcers++;
      }
    }
    return [...byLock]
      .map(([lockId, w]) => ({ lockId, ...w }))
      .sort((a, b) => a.firstSeenAt - b.firstSeenAt || a.lockId.localeCompare(b.lockId));
  }

  /**
   * Takes the sessions announcing `lockId` for one commissioning attempt: at most `max`, one per
   * source first (most recently heard first), so a replaying source cannot crowd out the lock.
   */
  claimAll(lockId: string, max = MAX_CLAIMED_PER_LOCK): LockClaim[] {
    const cutoff = Date.now() - this.#ttlMs;
    const candidates = [...this.#entries.values()]
      .filter((e) => e.lockId === lockId && !e.busy && e.lastSeenAt >= cutoff)
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt);
    const seen = new Set<string>();
    const firstPerSource = candidates.filter((e) => !seen.has(e.source) && seen.add(e.source));
    const rest = candidates.filter((e) => !firstPerSource.includes(e));
    return [...firstPerSource, ...rest].slice(0, max).map((e) => this.#claim(e));
  }

  #claim(e: Entry): LockClaim {
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
      sessionId: e.sessionId,
      transport,
      release: () => {
        // A finished lock reconnects under its own id; a failed one announces again on a new session.
        if (this.#entries.get(e.sessionId) === e) this.#entries.delete(e.sessionId);
        inner.end();
      },
    };
  }
}
