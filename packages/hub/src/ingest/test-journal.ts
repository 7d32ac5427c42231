/**
 * Test support: a lock's signed journal built with the protocol codec (the same bytes a
 * `MemoryJournal`/`FileJournal` produce), deterministic for a given seed.
 */
import { createHash } from "node:crypto";
import {
  EventKind,
  lockIdBytesFromPublicKey,
  lockIdFromPublicKey,
  signLockEvent,
  ZERO_HASH,
  type EpochMs,
  type EventDetails,
  type EventKind as EventKindT,
  type LockId,
  type SignedLockEvent,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";

export class TestJournal {
  readonly publicKey: Uint8Array;
  readonly id: LockId;
  readonly events: SignedLockEvent[] = [];
  readonly records: Uint8Array[] = [];
  private readonly bootId: Uint8Array;

  constructor(readonly seed: Uint8Array) {
    this.publicKey = nodeEd25519.publicKey(seed);
    this.id = lockIdFromPublicKey(this.publicKey);
    this.bootId = createHash("sha256").update(seed).update("boot").digest().subarray(0, 16);
  }

  /** A journal whose seed is derived from `name` (stable across processes). */
  static named(name: string): TestJournal {
    return new TestJournal(new Uint8Array(createHash("sha256").update(`test-lock/${name}`).digest()));
  }

  get identity(): { id: LockId; publicKey: Uint8Array } {
    return { id: this.id, publicKey: this.publicKey };
  }

  get lastHash(): Uint8Array {
    return this.events[this.events.length - 1]?.hash ?? ZERO_HASH;
  }

  /** Signs an event with any fields overridden (a forged link, another seq) without adding it. */
  sign(
    kind: EventKindT,
    details: EventDetails,
    over: { seq?: number; prevHash?: Uint8Array } = {},
  ): { event: SignedLockEvent; record: Uint8Array } {
    const seq = over.seq ?? this.events.length + 1;
    return signLockEvent(
      {
        version: 1,
        lockId: lockIdBytesFromPublicKey(this.publicKey),
        seq,
        bootId: this.bootId,
        lockTime: (Date.UTC(2026, 10, 20, 8, 0, 0) + seq * 1000) as EpochMs,
        kind,
        actor: { userIndex: 3, credentialType: "PIN", credentialIndex: 1 },
        details,
        prevHash: over.prevHash ?? this.lastHash,
      },
      this.seed,
      nodeEd25519,
    );
  }

  append(kind: EventKindT = EventKind.LockOperation, details?: EventDetails): Uint8Array {
    const { event, record } = this.sign(kind, details ?? { operation: "Unlock", source: "Keypad" });
    this.events.push(event);
    this.records.push(record);
    return record;
  }

  appendMany(n: number): Uint8Array[] {
    return Array.from({ length: n }, () => this.append());
  }
}
