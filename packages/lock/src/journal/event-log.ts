/**
 * How every part of the runtime reports what happened: a signed journal event, an alarm (an event
 * plus the alarm signal at the door), or just a signal at the door. The event log also keeps the
 * silence bound: every event restarts the heartbeat timer, so consecutive events are never further
 * apart than the heartbeat interval.
 */
import type { AlarmCode } from "@latchkey/protocol";
import {
  EventKind,
  type EpochMs,
  type EventActor,
  type EventDetails,
  type SignedLockEvent,
} from "@latchkey/protocol";
import type { Journal } from "./journal.js";

/** A user-visible signal at the door. A forced (duress) user gets exactly the normal "granted". */
export type Indication = "granted" | "denied" | "alarm";

export interface LockReporter {
  event(kind: EventKind, actor: EventActor, details: EventDetails): SignedLockEvent;
  alarm(alarm: AlarmCode): void;
  indicate(indication: Indication): void;
}

/** A journal the runtime may close on shutdown (file journals hold the directory). */
export type RuntimeJournal = Journal & { close?: () => void };

interface Timer {
  cancel(): void;
}

export interface EventLogOptions {
  readonly journal: RuntimeJournal;
  readonly wallMs: () => EpochMs | null;
  readonly setTimer: (delayMs: number, fn: () => void) => Timer;
  /** Read at each event, so a settings change applies from the next one. */
  readonly heartbeatIntervalMs: () => number;
  /** What a heartbeat reports (bolt, door, battery). */
  readonly heartbeatDetails: () => EventDetails;
}

export class EventLog implements LockReporter {
  readonly #o: EventLogOptions;
  readonly #eventListeners = new Set<(e: SignedLockEvent) => void>();
  readonly #indicationListeners = new Set<(i: Indication) => void>();
  #heartbeat: Timer | undefined;
  #stopped = false;

  constructor(options: EventLogOptions) {
    this.#o = options;
  }

  get journal(): Journal {
    return this.#o.journal;
  }

  onEvent(fn: (e: SignedLockEvent) => void): () => void {
    this.#eventListeners.add(fn);
    return () => this.#eventListeners.delete(fn);
  }

  onIndication(fn: (i: Indication) => void): () => void {
    this.#indicationListeners.add(fn);
    return () => this.#indicationListeners.delete(fn);
  }

  event(kind: EventKind, actor: EventActor, details: EventDetails): SignedLockEvent {
    const event = this.#o.journal.append({ kind, actor, details }, this.#o.wallMs());
    this.#scheduleHeartbeat();
    for (const fn of this.#eventListeners) fn(event);
    return event;
  }

  alarm(alarm: AlarmCode): void {
    this.event(EventKind.Alarm, {}, { alarm });
    this.indicate("alarm");
  }

  indicate(indication: Indication): void {
    for (const fn of this.#indicationListeners) fn(indication);
  }

  /** Cancels the heartbeat and closes the journal; no event follows. */
  stop(): void {
    this.#stopped = true;
    this.#heartbeat?.cancel();
    this.#o.journal.close?.();
  }

  #scheduleHeartbeat(): void {
    this.#heartbeat?.cancel();
    if (this.#stopped) return;
    this.#heartbeat = this.#o.setTimer(this.#o.heartbeatIntervalMs(), () => {
      if (this.#stopped) return;
      this.event(EventKind.Heartbeat, {}, this.#o.heartbeatDetails());
    });
  }
}
