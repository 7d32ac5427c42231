/**
 * How the runtime opens its journal: the durable file journal by default, or an in-memory one for
 * benchmarks and throwaway demos. The factory is given the signing seed and never logs it.
 */
import type { Ed25519 } from "@latchkey/protocol";
import type { RuntimeJournal } from "./event-log.js";
import { FileJournal } from "./file-journal.js";
import { MemoryJournal } from "./memory-journal.js";

export interface JournalParams {
  readonly dir: string;
  readonly signingSeed: Uint8Array;
  readonly bootId: Uint8Array;
  readonly ed25519: Ed25519;
  /** The hardware's monotonic clock (ms since boot): stamped on every event (journal format v2). */
  readonly monotonicMs: () => number;
}

/** Opens (or creates) the lock's journal. */
export type JournalFactory = (params: JournalParams) => RuntimeJournal;

/** The default: the durable file journal in the lock's directory. */
export const fileJournalFactory: JournalFactory = (p) =>
  FileJournal.open({
    dir: p.dir,
    signingSeed: p.signingSeed,
    bootId: p.bootId,
    ed25519: p.ed25519,
    monotonicMs: p.monotonicMs,
  });

/** In-memory journal (benchmarks, throwaway demos): nothing survives a restart. */
export const memoryJournalFactory: JournalFactory = (p) =>
  new MemoryJournal({
    signingSeed: p.signingSeed,
    bootId: p.bootId,
    ed25519: p.ed25519,
    monotonicMs: p.monotonicMs,
  });
