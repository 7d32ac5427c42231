/**
 * Verification of a lock's journal: every record decodes canonically, belongs to the lock whose
 * public key is given, carries a valid signature, has the next sequence number (no gap, no
 * repeat) and links to the previous event's hash. The first failure is named (input index, the
 * seq it claims, a stable reason) and verification stops there: nothing after a bad event is
 * trusted, because its link would vouch for a history we could not check.
 *
 * Use `verifyJournalRecords` / `verifyJournalEvents` for a batch, or `JournalChainVerifier` to
 * check events one at a time as they arrive (hub ingestion, file scanning).
 */
import type { Ed25519 } from "../crypto/ed25519.js";
import { equalBytes, toHex } from "../encoding/bytes.js";
import { isLatchkeyError, LatchkeyError } from "../errors/error.js";
import type { ErrorCode } from "../errors/registry.js";
import {
  decodeSignedLockEvent,
  encodeSignedLockEvent,
  lockEventHash,
  lockIdBytesFromPublicKey,
  verifyLockEventRecord,
  ZERO_HASH,
} from "./codec.js";
import type { SignedLockEvent } from "./event.js";

/** Why an event failed verification. Stable strings: shown to users and stored in reports. */
export const JournalFaultReason = {
  /** The record does not decode (truncated, trailing bytes, bad value, not canonical). */
  Malformed: "malformed",
  UnsupportedVersion: "unsupported-version",
  UnknownKind: "unknown-kind",
  /** The record names another lock than the key's lock id. */
  WrongLock: "wrong-lock",
  BadSignature: "bad-signature",
  /** seq is larger than the next expected one: events are missing before it. */
  Gap: "gap",
  /** seq is smaller than the next expected one: a repeat, a replay or a reordering. */
  OutOfOrder: "out-of-order",
  /** prevHash is not the hash of the previous event: history was altered or forked. */
  BrokenLink: "broken-link",
  /** A decoded event's `hash` field is not the hash of its own encoding. */
  HashMismatch: "hash-mismatch",
} as const;
export type JournalFaultReason = (typeof JournalFaultReason)[keyof typeof JournalFaultReason];

export interface JournalFault {
  /** 0-based position of the bad event in the input (or in the order pushed). */
  readonly index: number;
  /** The seq the bad event claims, or null when it could not be decoded. */
  readonly seq: number | null;
  /** The seq the verifier expected at this position. */
  readonly expectedSeq: number;
  readonly reason: JournalFaultReason;
  /** One line for people; names index and seq, never key material. */
  readonly message: string;
  /** For malformed records: the decoder's error code. */
  readonly decodeCode?: ErrorCode;
}

export interface JournalVerifyOptions {
  /** The lock's 32-byte Ed25519 signing public key. Its lock id is what every event must carry. */
  readonly publicKey: Uint8Array;
  readonly ed25519: Ed25519;
  /** Seq of the first event given (default 1): lets a verifier continue from a known event. */
  readonly firstSeq?: number;
  /**
   * prevHash the first event must carry: the hash of the known event before it. Defaults to 32
   * zero bytes when firstSeq is 1; when firstSeq > 1 and this is absent, the first link is not
   * checked (the caller has nothing to check it against).
   */
  readonly firstPrevHash?: Uint8Array;
  /** SHA-256 of a record (its hash). Default @noble's; in Node, node:crypto's is faster. */
  readonly sha256?: (data: Uint8Array) => Uint8Array;
}

export interface JournalVerification {
  readonly ok: boolean;
  /** Events verified before the first fault (all of them when ok). */
  readonly verified: number;
  /** Seq and hash of the last verified event; null when none verified. */
  readonly lastSeq: number | null;
  readonly lastHash: Uint8Array | null;
  /** The first bad event; null when ok. */
  readonly fault: JournalFault | null;
  /** The verified events, decoded, in order. */
  readonly events: readonly SignedLockEvent[];
}

export type JournalStep =
  | { readonly ok: true; readonly event: SignedLockEvent }
  | { readonly ok: false; readonly fault: JournalFault };

const DECODE_REASONS: Partial<Record<ErrorCode, JournalFaultReason>> = {
  JOURNAL_UNSUPPORTED_VERSION: JournalFaultReason.UnsupportedVersion,
  JOURNAL_UNKNOWN_KIND: JournalFaultReason.UnknownKind,
};

/** Checks a chain one event at a time. After the first fault it only repeats that fault. */
export class JournalChainVerifier {
  private readonly publicKey: Uint8Array;
  private readonly ed25519: Ed25519;
  private readonly sha256: (data: Uint8Array) => Uint8Array;
  private readonly lockId: Uint8Array;
  private expectedSeq: number;
  private expectedPrevHash: Uint8Array | null;
  private index = 0;
  private lastVerifiedSeq: number | null = null;
  private firstFault: JournalFault | null = null;

  constructor(options: JournalVerifyOptions) {
    const firstSeq = options.firstSeq ?? 1;
    if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) {
      throw new LatchkeyError("JOURNAL_EVENT_INVALID", "journal verifier: firstSeq must be an integer ≥ 1", {
        field: "firstSeq",
      });
    }
    if (options.firstPrevHash !== undefined && options.firstPrevHash.length !== 32) {
      throw new LatchkeyError("JOURNAL_EVENT_INVALID", "journal verifier: firstPrevHash must be 32 bytes", {
        field: "firstPrevHash",
      });
    }
    this.publicKey = options.publicKey.slice();
    this.ed25519 = options.ed25519;
    this.sha256 = options.sha256 ?? lockEventHash;
    this.lockId = lockIdBytesFromPublicKey(this.publicKey);
    this.expectedSeq = firstSeq;
    this.expectedPrevHash = options.firstPrevHash?.slice() ?? (firstSeq === 1 ? ZERO_HASH : null);
  }

  /** Seq the next event must carry. */
  get nextSeq(): number {
    return this.expectedSeq;
  }

  /** Hash the next event must link to (null when the first link is unchecked and none verified yet). */
  get lastHash(): Uint8Array | null {
    return this.lastVerifiedSeq === null ? null : this.expectedPrevHash;
  }

  get lastSeq(): number | null {
    return this.lastVerifiedSeq;
  }

  /** Number of events verified so far. */
  get verified(): number {
    return this.firstFault === null ? this.index : this.firstFault.index;
  }

  get fault(): JournalFault | null {
    return this.firstFault;
  }

  /** Verify the next signed record (canonical bytes as stored or sent). */
  pushRecord(record: Uint8Array): JournalStep {
    if (this.firstFault !== null) return { ok: false, fault: this.firstFault };
    let event: SignedLockEvent;
    try {
      event = decodeSignedLockEvent(record, this.sha256);
    } catch (e) {
      if (!isLatchkeyError(e)) throw e;
      return this.fail(null, DECODE_REASONS[e.code] ?? JournalFaultReason.Malformed, e.message, e.code);
    }
    return this.check(event, record);
  }

  /** Verify the next decoded event (re-encodes it canonically and checks its `hash` field). */
  pushEvent(event: SignedLockEvent): JournalStep {
    if (this.firstFault !== null) return { ok: false, fault: this.firstFault };
    let record: Uint8Array;
    try {
      record = encodeSignedLockEvent(event);
    } catch (e) {
      if (!isLatchkeyError(e)) throw e;
      return this.fail(
        typeof event.seq === "number" ? event.seq : null,
        JournalFaultReason.Malformed,
        e.message,
        e.code,
      );
    }
    return this.check(event, record, true);
  }

  private check(event: SignedLockEvent, record: Uint8Array, checkHashField = false): JournalStep {
    if (!equalBytes(event.lockId, this.lockId)) {
      return this.fail(
        event.seq,
        JournalFaultReason.WrongLock,
        `belongs to lock ${toHex(event.lockId)}, expected ${toHex(this.lockId)}`,
      );
    }
    if (!verifyLockEventRecord(record, this.publicKey, this.ed25519)) {
      return this.fail(
        event.seq,
        JournalFaultReason.BadSignature,
        "signature does not verify under the lock's key",
      );
    }
    // A decoded event carries its own hash field; the next link is checked against it, so it must be true.
    if (
      checkHashField &&
      !(event.hash instanceof Uint8Array && equalBytes(event.hash, this.sha256(record)))
    ) {
      return this.fail(
        event.seq,
        JournalFaultReason.HashMismatch,
        "hash field is not the SHA-256 of the event's encoding",
      );
    }
    if (event.seq > this.expectedSeq) {
      return this.fail(
        event.seq,
        JournalFaultReason.Gap,
        `${event.seq - this.expectedSeq} event(s) missing before it (expected seq ${this.expectedSeq})`,
      );
    }
    if (event.seq < this.expectedSeq) {
      return this.fail(
        event.seq,
        JournalFaultReason.OutOfOrder,
        `expected seq ${this.expectedSeq}: repeated or reordered`,
      );
    }
    if (this.expectedPrevHash !== null && !equalBytes(event.prevHash, this.expectedPrevHash)) {
      return this.fail(
        event.seq,
        JournalFaultReason.BrokenLink,
        this.index === 0
          ? "prevHash does not match the expected start of the chain"
          : "prevHash is not the hash of the previous event",
      );
    }
    this.index++;
    this.expectedSeq = event.seq + 1;
    this.expectedPrevHash = event.hash;
    this.lastVerifiedSeq = event.seq;
    return { ok: true, event };
  }

  private fail(
    seq: number | null,
    reason: JournalFaultReason,
    detail: string,
    decodeCode?: ErrorCode,
  ): JournalStep {
    const where = seq === null ? `event #${this.index}` : `event #${this.index} (seq ${seq})`;
    const fault: JournalFault = {
      index: this.index,
      seq,
      expectedSeq: this.expectedSeq,
      reason,
      message: `${where}: ${reason}: ${detail}`,
      ...(decodeCode === undefined ? {} : { decodeCode }),
    };
    this.firstFault = fault;
    return { ok: false, fault };
  }
}

function run<T>(
  items: Iterable<T>,
  options: JournalVerifyOptions,
  push: (v: JournalChainVerifier, item: T) => JournalStep,
): JournalVerification {
  const verifier = new JournalChainVerifier(options);
  const events: SignedLockEvent[] = [];
  for (const item of items) {
    const step = push(verifier, item);
    if (!step.ok) break;
    events.push(step.event);
  }
  return {
    ok: verifier.fault === null,
    verified: verifier.verified,
    lastSeq: verifier.lastSeq,
    lastHash: verifier.lastHash,
    fault: verifier.fault,
    events,
  };
}

/** Verify a sequence of signed records (canonical bytes). Never throws for bad records. */
export function verifyJournalRecords(
  records: Iterable<Uint8Array>,
  options: JournalVerifyOptions,
): JournalVerification {
  return run(records, options, (v, r) => v.pushRecord(r));
}

/** Verify a sequence of decoded events. Never throws for bad events. */
export function verifyJournalEvents(
  events: Iterable<SignedLockEvent>,
  options: JournalVerifyOptions,
): JournalVerification {
  return run(events, options, (v, e) => v.pushEvent(e));
}

/** Throw JOURNAL_VERIFY_FAILED (details: index, seq, reason) unless the verification passed. */
export function assertJournalVerified(result: JournalVerification): void {
  const fault = result.fault;
  if (fault === null) return;
  throw new LatchkeyError("JOURNAL_VERIFY_FAILED", `journal verification failed at ${fault.message}`, {
    index: fault.index,
    reason: fault.reason,
    expectedSeq: fault.expectedSeq,
    ...(fault.seq === null ? {} : { seq: fault.seq }),
  });
}
