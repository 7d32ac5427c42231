/**
 * The contract between the lock runtime and its journal. The runtime describes what happened
 * (`JournalEntryInput`); the journal stamps the sequence number, boot id, lock time and hash link,
 * signs, persists durably, and only then returns. A returned event is "reported as written" and
 * must survive any crash.
 */
import type { EpochMs, EventActor, EventDetails, EventKind, SignedLockEvent } from "@latchkey/protocol";

export interface JournalEntryInput {
  readonly kind: EventKind;
  readonly actor?: EventActor;
  readonly details?: EventDetails;
}

export interface Journal {
  /** Sign, persist (fsync for file journals) and return the event. Synchronous: firmware-style. */
  append(input: JournalEntryInput, lockTime: EpochMs | null): SignedLockEvent;
  /** Sequence number the next event will get (1 for an empty journal). */
  readonly nextSeq: number;
  /** Events with seq >= from, in order (for sync to the hub and for tests). */
  read(fromSeq: number, limit?: number): SignedLockEvent[];
}
