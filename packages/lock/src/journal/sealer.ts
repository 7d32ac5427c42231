/**
 * Stamps and signs the lock's events: the next seq, the boot id, the monotonic reading (ms since
 * boot), the lock time, the hash link to the previous event. Events are written in format
 * version 2 (docs/journal-format.md). Shared by every `Journal` implementation so they produce identical chains.
 * The signing seed is kept in a private field: it never appears in inspection, logs or errors.
 */
import {
  BOOT_ID_BYTES,
  LatchkeyError,
  LOCK_EVENT_VERSION,
  lockIdBytesFromPublicKey,
  lockIdToBytes,
  signLockEventWith,
  toHex,
  ZERO_HASH,
  equalBytes,
  type Ed25519,
  type EpochMs,
  type LockId,
  type SignedLockEvent,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { createHmac, createPrivateKey, sign as nodeSign } from "node:crypto";
import type { JournalEntryInput } from "./journal.js";

export interface JournalIdentity {
  /** The lock's 32-byte Ed25519 signing seed. Copied; never logged. */
  readonly signingSeed: Uint8Array;
  /** The lock id; derived from the seed when absent, and checked against it when given. */
  readonly lockId?: LockId;
  /** 16 random bytes chosen at this boot; random when absent. */
  readonly bootId?: Uint8Array;
  /** Default: node:crypto (`nodeEd25519`). */
  readonly ed25519?: Ed25519;
  /**
   * The lock's monotonic clock, ms since this boot (the runtime passes its hardware clock's).
   * Default: ms since this journal was opened, from the process's monotonic timer.
   */
  readonly monotonicMs?: () => number;
}

// RFC 8410 PKCS#8 prefix of a raw 32-byte Ed25519 seed.
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/**
 * A signer bound to one seed. For node:crypto the private KeyObject is built once: rebuilding it
 * per signature (what the stateless `Ed25519` interface must do) costs ~10× the signature itself.
 * Same deterministic Ed25519, same bytes.
 */
function boundSigner(seed: Uint8Array, ed25519: Ed25519): (message: Uint8Array) => Uint8Array {
  if (ed25519 !== nodeEd25519) return (message) => ed25519.sign(seed, message);
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  return (message) => new Uint8Array(nodeSign(null, message, key));
}

export class EventSealer {
  readonly #seed: Uint8Array;
  #anchorKey: Uint8Array | null = null;
  readonly #sign: (message: Uint8Array) => Uint8Array;
  readonly ed25519: Ed25519;
  readonly publicKey: Uint8Array;
  readonly lockIdBytes: Uint8Array;
  readonly lockId: LockId;
  readonly bootId: Uint8Array;
  readonly #monotonicMs: () => number;
  #nextSeq: number;
  #prevHash: Uint8Array;

  constructor(
    identity: JournalIdentity,
    next: { seq: number; prevHash: Uint8Array } = { seq: 1, prevHash: ZERO_HASH },
  ) {
    if (!(identity.signingSeed instanceof Uint8Array) || identity.signingSeed.length !== 32) {
      throw new LatchkeyError("JOURNAL_EVENT_INVALID", "journal: signingSeed must be 32 bytes", {
        field: "signingSeed",
      });
    }
    this.#seed = identity.signingSeed.slice();
    this.ed25519 = identity.ed25519 ?? nodeEd25519;
    this.publicKey = this.ed25519.publicKey(this.#seed);
    this.#sign = boundSigner(this.#seed, this.ed25519);
    this.lockIdBytes = lockIdBytesFromPublicKey(this.publicKey);
    this.lockId = toHex(this.lockIdBytes) as LockId;
    if (identity.lockId !== undefined && !equalBytes(lockIdToBytes(identity.lockId), this.lockIdBytes)) {
      throw new LatchkeyError(
        "JOURNAL_WRONG_LOCK",
        `journal: lock id ${identity.lockId} is not the signing key's lock id`,
        {
          lockId: identity.lockId,
          keyLockId: this.lockId,
        },
      );
    }
    const bootId = identity.bootId ?? crypto.getRandomValues(new Uint8Array(BOOT_ID_BYTES));
    if (!(bootId instanceof Uint8Array) || bootId.length !== BOOT_ID_BYTES) {
      throw new LatchkeyError("JOURNAL_EVENT_INVALID", "journal: bootId must be 16 bytes", {
        field: "bootId",
      });
    }
    this.bootId = bootId.slice();
    if (identity.monotonicMs !== undefined) this.#monotonicMs = identity.monotonicMs;
    else {
      const origin = performance.now();
      this.#monotonicMs = () => Math.floor(performance.now() - origin);
    }
    this.#nextSeq = next.seq;
    this.#prevHash = next.prevHash.slice();
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Hash of the last sealed event (32 zero bytes before the first). */
  get lastHash(): Uint8Array {
    return this.#prevHash.slice();
  }

  /**
   * Build and sign the next event without advancing the chain: the caller persists the record and
   * then calls `commit`. A failed write therefore never consumes a seq.
   */
  seal(input: JournalEntryInput, lockTime: EpochMs | null): { event: SignedLockEvent; record: Uint8Array } {
    return signLockEventWith(
      {
        version: LOCK_EVENT_VERSION,
        lockId: this.lockIdBytes,
        seq: this.#nextSeq,
        bootId: this.bootId,
        monotonicMs: Math.floor(this.#monotonicMs()),
        lockTime,
        kind: input.kind,
        actor: { ...(input.actor ?? {}) },
        // Copy byte values so a caller mutating its array later cannot change a signed event.
        details: Object.fromEntries(
          Object.entries(input.details ?? {}).map(([k, v]) => [k, v instanceof Uint8Array ? v.slice() : v]),
        ),
        prevHash: this.#prevHash,
      },
      this.#sign,
    );
  }

  /**
   * HMAC-SHA256 of a journal start-up anchor (file-journal.ts), under a key derived from the seed
   * and used for nothing else: only this lock can write an anchor that opening will accept.
   */
  anchorMac(message: Uint8Array): Uint8Array {
    this.#anchorKey ??= new Uint8Array(
      createHmac("sha256", this.#seed).update("latchkey journal start-up anchor v1").digest(),
    );
    return new Uint8Array(createHmac("sha256", this.#anchorKey).update(message).digest());
  }

  commit(event: SignedLockEvent): void {
    this.#nextSeq = event.seq + 1;
    this.#prevHash = event.hash;
  }
}
