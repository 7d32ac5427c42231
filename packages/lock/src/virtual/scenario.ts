/**
 * Helpers for scripting virtual locks in tests and demos: a fresh temporary state directory and
 * a lock on it, plus the journaled events decoded into plain, comparable rows.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SignedLockEvent } from "@latchkey/protocol";
import { VirtualLock, type VirtualLockOptions } from "./virtual-lock.js";

export function tempLockDir(prefix = "latchkey-lock-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A virtual lock in a new temporary directory, clock at `wallMs` (default 2026-03-02 10:00 UTC, a Monday). */
export function startTempLock(opts: Partial<VirtualLockOptions> = {}): VirtualLock {
  return VirtualLock.start({ dir: opts.dir ?? tempLockDir(), wallMs: Date.UTC(2026, 2, 2, 10, 0), ...opts });
}

/** Every event of the lock's journal so far. */
export function allEvents(lock: VirtualLock): SignedLockEvent[] {
  return lock.runtime.journal.read(1);
}

/** Events appended since sequence number `fromSeq` (inclusive). */
export function eventsSince(lock: VirtualLock, fromSeq: number): SignedLockEvent[] {
  return lock.runtime.journal.read(fromSeq);
}

/** Runs `fn` and returns the events it journaled. */
export function eventsOf(lock: VirtualLock, fn: () => void): SignedLockEvent[] {
  const from = lock.runtime.journal.nextSeq;
  fn();
  return lock.runtime.journal.read(from);
}
