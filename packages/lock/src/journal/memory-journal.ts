/**
 * A journal held in memory, for tests and demos: same stamping, signing and chain as
 * `FileJournal`, no durability. `MemoryJournal.fromRecords` continues an existing chain (after
 * verifying it), which is how tests simulate a reboot.
 */
import {
  assertJournalVerified,
  verifyJournalRecords,
  type EpochMs,
  type LockId,
  type SignedLockEvent,
} from "@latchkey/protocol";
import type { Journal, JournalEntryInput } from "./journal.js";
import { EventSealer, type JournalIdentity } from "./sealer.js";

export class MemoryJournal implements Journal {
  readonly #sealer: EventSealer;
  readonly #events: SignedLockEvent[] = [];
  readonly #records: Uint8Array[] = [];

  constructor(identity: JournalIdentity) {
    this.#sealer = new EventSealer(identity);
  }

  /** A journal continuing `records` (verified first: throws JOURNAL_VERIFY_FAILED naming the first bad one). */
  static fromRecords(records: readonly Uint8Array[], identity: JournalIdentity): MemoryJournal {
    const journal = new MemoryJournal(identity);
    const result = verifyJournalRecords(records, {
      publicKey: journal.#sealer.publicKey,
      ed25519: journal.#sealer.ed25519,
    });
    assertJournalVerified(result);
    for (let i = 0; i < result.events.length; i++) {
      const event = result.events[i];
      const record = records[i];
      if (event === undefined || record === undefined) break;
      journal.#events.push(event);
      journal.#records.push(record.slice());
      journal.#sealer.commit(event);
    }
    return journal;
  }

  get lockId(): LockId {
    return this.#sealer.lockId;
  }

  get publicKey(): Uint8Array {
    return this.#sealer.publicKey.slice();
  }

  get bootId(): Uint8Array {
    return this.#sealer.bootId.slice();
  }

  get nextSeq(): number {
    return this.#sealer.nextSeq;
  }

  /** Hash of the last event (32 zero bytes when empty). */
  get lastHash(): Uint8Array {
    return this.#sealer.lastHash;
  }

  append(input: JournalEntryInput, lockTime: EpochMs | null): SignedLockEvent {
    const { event, record } = this.#sealer.seal(input, lockTime);
    this.#events.push(event);
    this.#records.push(record);
    this.#sealer.commit(event);
    return event;
  }

  read(fromSeq: number, limit = Number.POSITIVE_INFINITY): SignedLockEvent[] {
    return this.#slice(fromSeq, limit, this.#events);
  }

  /** Canonical signed records with seq >= fromSeq (what goes on the wire or to storage). */
  readRecords(fromSeq: number, limit = Number.POSITIVE_INFINITY): Uint8Array[] {
    return this.#slice(fromSeq, limit, this.#records).map((r) => r.slice());
  }

  #slice<T>(fromSeq: number, limit: number, items: readonly T[]): T[] {
    const start = Math.max(0, Math.floor(fromSeq) - 1);
    const count = Math.max(0, Math.floor(Math.min(limit, items.length)));
    return items.slice(start, start + count);
  }
}
