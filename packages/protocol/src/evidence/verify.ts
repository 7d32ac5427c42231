/**
 * The evidence verifier: pure, browser-safe, never throws for bad input. It parses the bundle
 * (bundle.ts) and checks, in this order, stopping at the first failure, which it names:
 *
 *  1. each lock's commissioning record: owner signature, and that it names this lock's key, id
 *     and the bundle's ledger key and origin (and the pinned owner / ledger keys, if given);
 *  2. each checkpoint: the ledger key's note signature, origin, strictly increasing sizes
 *     (two checkpoints of one size with different roots are a fork);
 *  3. each lock's events as a journal chain: canonical records, the lock's signature, gapless
 *     seq, hash links (journal/verify.ts);
 *  4. each CheckpointAck the lock signed: the acknowledged checkpoint is in the bundle and is
 *     exactly the one the lock saw (else the hub showed the lock another history: a fork);
 *  5. consistency proofs between consecutive checkpoints;
 *  6. every event's ledger leaf is included in the head checkpoint;
 *  7. the events reach back to the window's start and forward to its end (no truncation);
 *  8. the hub's seal over the whole canonical bundle (covers window, times, order).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Ed25519 } from "../crypto/ed25519.js";
import { concatBytes, equalBytes, toHex } from "../encoding/bytes.js";
import { isLatchkeyError, LatchkeyError } from "../errors/error.js";
import type { ErrorCode } from "../errors/registry.js";
import { lockIdBytesFromPublicKey } from "../journal/codec.js";
import type { SignedLockEvent } from "../journal/event.js";
import { EventKind } from "../journal/kinds.js";
import { verifyJournalRecords } from "../journal/verify.js";
import { sha256MerkleHasher, type MerkleHasher } from "../merkle/hasher.js";
import { encodeLockEventLeaf } from "../merkle/leaf.js";
import { InclusionBatchVerifier } from "../merkle/inclusion-batch.js";
import { verifyConsistency } from "../merkle/verify.js";
import { checkpointTextHash, openCheckpoint, type Checkpoint } from "../note/checkpoint.js";
import { encodeBase64 } from "../note/base64.js";
import type { NoteSignature } from "../note/signed-note.js";
import type { EpochMs } from "../units.js";
import type { PinnedWitness } from "../witness/witness.js";
import { checkBundleWitnesses, type CheckpointWitnesses } from "./witnesses.js";
import { EVIDENCE_SEAL_TAG, parseEvidenceBundle, type EvidenceBundle } from "./bundle.js";
import {
  decodeCommissioningRecord,
  verifyCommissioningRecordSignature,
  type SignedCommissioningRecord,
} from "./commissioning-record.js";

export interface EvidenceFailure {
  /** The first failing element, as a path into the bundle: "locks[0].events[12]", "seal", "file". */
  readonly element: string;
  readonly code: ErrorCode;
  /** Stable short reason: "bad-signature", "fork", "gap", "not-included", "truncated"… */
  readonly reason: string;
  /** One line for people: element, then why. */
  readonly message: string;
}

export interface VerifiedEvent extends SignedLockEvent {
  readonly leafIndex: number;
  readonly hubTimeMs: EpochMs;
}

export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly text: string;
  /** SHA-256 of the note text: what a lock's CheckpointAck names. */
  readonly textHash: Uint8Array;
  /** Signature lines other than the ledger key's (witness cosignatures), by name; not verified. */
  readonly otherSignatures: readonly string[];
}

export interface VerifiedAck {
  readonly lockIndex: number;
  readonly seq: number;
  readonly lockTime: EpochMs | null;
  readonly treeSize: number;
  readonly checkpointIndex: number;
}

export interface VerifiedLock {
  readonly lockId: string;
  readonly publicKey: Uint8Array;
  readonly commissioning: SignedCommissioningRecord;
  readonly events: readonly VerifiedEvent[];
}

export interface VerifiedBundle {
  readonly bundle: EvidenceBundle;
  readonly checkpoints: readonly VerifiedCheckpoint[];
  readonly head: VerifiedCheckpoint;
  readonly locks: readonly VerifiedLock[];
  readonly acks: readonly VerifiedAck[];
  /** Per checkpoint, which pinned witnesses cosigned it (empty without `witnessKeys`). */
  readonly witnesses: readonly CheckpointWitnesses[];
}

export type EvidenceVerification =
  | { readonly status: "valid"; readonly verified: VerifiedBundle }
  | { readonly status: "invalid"; readonly failure: EvidenceFailure }
  | { readonly status: "unreadable"; readonly failure: EvidenceFailure };

export interface EvidenceVerifyOptions {
  /** nodeEd25519 in Node (fast), nobleEd25519 in browsers. */
  readonly ed25519: Ed25519;
  /** Default: the pure SHA-256 RFC 6962 hasher. */
  readonly hasher?: MerkleHasher;
  /**
   * SHA-256 of the concatenation of `parts` (for the seal, over the whole file but its seal
   * member: hashed in pieces so a 100 MB bundle is not copied). Default: @noble's; in Node pass
   * `nodeSha256Parts` from "@latchkey/protocol/node", several times faster on large files.
   */
  readonly sha256?: (parts: readonly Uint8Array[]) => Uint8Array;
  /** Refuse unless the owner / ledger key is exactly this one (obtained out of band). */
  readonly expectOwnerKey?: Uint8Array;
  readonly expectLedgerKey?: Uint8Array;
  /**
   * Pinned witnesses (docs/witness.md): the head checkpoint must carry a valid cosignature/v1
   * from each — or from `witnessThreshold` of them — else `not-witnessed`; a pinned witness's
   * cosignature that does not verify on any checkpoint is `bad-signature`.
   */
  readonly witnessKeys?: readonly PinnedWitness[];
  readonly witnessThreshold?: number;
}

class Failure extends Error {
  constructor(
    readonly element: string,
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`${element}: ${reason}: ${detail}`);
  }
}

const fail = (element: string, reason: string, detail: string): never => {
  throw new Failure(element, reason, detail);
};

/** The bytes the hub signs to seal a bundle: tag ‖ 0x00 ‖ SHA-256(unsealed canonical bytes). */
export function evidenceSealMessage(
  unsealed: Uint8Array,
  hash: (d: Uint8Array) => Uint8Array = (d) => sha256(d),
): Uint8Array {
  return sealMessageOfDigest(hash(unsealed));
}

function sealMessageOfDigest(digest: Uint8Array): Uint8Array {
  // The 0x00 byte can never occur in a signed note, so a seal can never pass as a checkpoint.
  return concatBytes(new TextEncoder().encode(EVIDENCE_SEAL_TAG), Uint8Array.of(0), digest);
}

function nobleSha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const part of parts) h.update(part);
  return h.digest();
}

/** Short public-key fingerprint for people: SHA-256(key), first 8 bytes, hex in groups of 4. */
export function keyFingerprint(publicKey: Uint8Array): string {
  return (toHex(sha256(publicKey).slice(0, 8)).match(/.{4}/g) ?? []).join(" ");
}

/**
 * SHA-256 of the file without its seal member (what the seal signs), hashed as the two pieces
 * around it; null when the member is not where the canonical form puts it.
 */
function unsealedDigest(
  file: Uint8Array,
  seal: Uint8Array,
  sha256: (parts: readonly Uint8Array[]) => Uint8Array,
): Uint8Array | null {
  // The file is canonical, so the seal member is exactly this text, once, at the top level.
  const member = new TextEncoder().encode(`,"seal":"${encodeBase64(seal)}"`);
  outer: for (let i = file.length - member.length; i >= 0; i--) {
    for (let j = 0; j < member.length; j++) if (file[i + j] !== member[j]) continue outer;
    return sha256([file.subarray(0, i), file.subarray(i + member.length)]);
  }
  return null;
}

function checkCommissioning(
  b: EvidenceBundle,
  i: number,
  opts: EvidenceVerifyOptions,
): SignedCommissioningRecord {
  const lock = b.locks[i]!;
  const el = `locks[${i}].commissioning`;
  let rec: SignedCommissioningRecord;
  try {
    rec = decodeCommissioningRecord(lock.commissioning);
  } catch (e) {
    return fail(el, "malformed", isLatchkeyError(e) ? e.message : "does not decode");
  }
  if (!equalBytes(rec.ownerKey, b.owner.publicKey))
    fail(el, "wrong-owner", "is signed for another owner key than the bundle's owner.publicKey");
  if (!verifyCommissioningRecordSignature(rec, opts.ed25519))
    fail(el, "bad-signature", "the owner's signature does not verify");
  if (!equalBytes(lockIdBytesFromPublicKey(lock.publicKey), rec.lockId) || toHex(rec.lockId) !== lock.lockId)
    fail(el, "wrong-lock-key", "the lock's public key or id is not the one the owner commissioned");
  if (!equalBytes(rec.lockSigningKey, lock.publicKey))
    fail(el, "wrong-lock-key", "the lock's public key is not the one the owner commissioned");
  if (!equalBytes(rec.ledgerKey, b.ledger.publicKey) || rec.ledgerOrigin !== b.ledger.origin)
    fail(el, "wrong-ledger", "names another ledger key or origin than the bundle's ledger");
  return rec;
}

function openCheckpoints(b: EvidenceBundle, opts: EvidenceVerifyOptions): VerifiedCheckpoint[] {
  const out: VerifiedCheckpoint[] = [];
  b.checkpoints.forEach((note, j) => {
    const el = `checkpoints[${j}]`;
    let opened;
    try {
      opened = openCheckpoint(note, b.ledger.origin, b.ledger.publicKey, opts.ed25519);
    } catch (e) {
      const code = isLatchkeyError(e) ? e.code : "";
      const reason =
        code === "NOTE_SIGNATURE_INVALID" || code === "NOTE_UNVERIFIED" ? "bad-signature" : "malformed";
      return fail(el, reason, isLatchkeyError(e) ? e.message : "does not parse");
    }
    const prev = out[j - 1];
    const cp = opened.checkpoint;
    if (prev !== undefined) {
      if (cp.size === prev.checkpoint.size) {
        if (!equalBytes(cp.rootHash, prev.checkpoint.rootHash))
          fail(el, "fork", `has the same size (${cp.size}) as checkpoints[${j - 1}] but another root`);
        fail(el, "malformed", `repeats checkpoints[${j - 1}]`);
      }
      if (cp.size < prev.checkpoint.size)
        fail(
          el,
          "out-of-order",
          `size ${cp.size} is smaller than checkpoints[${j - 1}]'s ${prev.checkpoint.size}`,
        );
    }
    const otherSignatures = opened.signatures
      .filter((s: NoteSignature) => s.name !== b.ledger.origin)
      .map((s: NoteSignature) => s.name);
    out.push({
      checkpoint: cp,
      text: opened.text,
      textHash: checkpointTextHash(opened.text),
      otherSignatures,
    });
  });
  return out;
}

/** Step 4b: the pinned witnesses' cosignatures (./witnesses.ts). */
function checkWitnesses(
  b: EvidenceBundle,
  checkpoints: readonly VerifiedCheckpoint[],
  opts: EvidenceVerifyOptions,
): readonly CheckpointWitnesses[] {
  const r = checkBundleWitnesses(
    b.checkpoints,
    checkpoints.map((c) => c.checkpoint.size),
    opts.witnessKeys ?? [],
    opts.witnessThreshold,
    opts.ed25519,
  );
  return "failure" in r ? fail(r.failure.element, r.failure.reason, r.failure.detail) : r.facts;
}

function recordSeq(record: Uint8Array): number {
  // The seq sits at a fixed offset (19, u64); an unreadable one is left for the decoder to name.
  if (record.length < 27) return 0;
  const v = new DataView(record.buffer, record.byteOffset + 19, 8).getBigUint64(0);
  return v >= 1n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : 0;
}

/** Verifies the lock's events as one chain, restarting only after a declared missing range. */
function checkChain(b: EvidenceBundle, i: number, opts: EvidenceVerifyOptions): VerifiedEvent[] {
  const lock = b.locks[i]!;
  const out: VerifiedEvent[] = [];
  let start = 0;
  let firstSeq = recordSeq(lock.events[0]!.record) || 1;
  for (let m = 0; m <= lock.missing.length; m++) {
    const range = lock.missing[m];
    // The segment runs to the event just before the one that should follow the missing range.
    let end = lock.events.length;
    if (range !== undefined) {
      if (range[0] <= firstSeq)
        fail(`locks[${i}].missing[${m}]`, "malformed", "does not follow the events before it");
      end = start + (range[0] - firstSeq);
      if (end > lock.events.length)
        fail(`locks[${i}].missing[${m}]`, "malformed", "lies after the last event");
    }
    const segment = lock.events.slice(start, end);
    const result = verifyJournalRecords(
      segment.map((e) => e.record),
      {
        publicKey: lock.publicKey,
        ed25519: opts.ed25519,
        firstSeq,
        ...(opts.sha256 === undefined ? {} : { sha256: (d: Uint8Array) => opts.sha256!([d]) }),
      },
    );
    if (result.fault !== null) {
      const f = result.fault;
      fail(
        `locks[${i}].events[${start + f.index}]`,
        f.reason,
        f.message.replace(/^event #\d+( \(seq \d+\))?: [a-z-]+: /, ""),
      );
    }
    result.events.forEach((e, k) => {
      const src = lock.events[start + k]!;
      // The journal verifier's events are ours: extend them rather than copy 100,000 objects.
      out.push(Object.assign(e, { leafIndex: src.leafIndex, hubTimeMs: src.hubTimeMs }));
    });
    if (range === undefined) break;
    start = end;
    firstSeq = range[1] + 1;
    if (start >= lock.events.length)
      fail(`locks[${i}].missing[${m}]`, "malformed", "is not followed by an event");
  }
  return out;
}

function checkAcks(
  events: readonly VerifiedEvent[],
  i: number,
  checkpoints: readonly VerifiedCheckpoint[],
): VerifiedAck[] {
  const acks: VerifiedAck[] = [];
  events.forEach((e, k) => {
    if (e.kind !== EventKind.CheckpointAck) return;
    const el = `locks[${i}].events[${k}]`;
    const size = e.details.treeSize;
    const hash = e.details.checkpointHash;
    if (typeof size !== "number" || !(hash instanceof Uint8Array) || hash.length !== 32)
      fail(el, "malformed", "CheckpointAck lacks treeSize or a 32-byte checkpointHash");
    const j = checkpoints.findIndex((c) => c.checkpoint.size === size);
    if (j < 0)
      fail(
        el,
        "missing-checkpoint",
        `the checkpoint the lock acknowledged (size ${String(size)}) is not in the bundle`,
      );
    if (!equalBytes(checkpoints[j]!.textHash, hash as Uint8Array))
      fail(
        `checkpoints[${j}]`,
        "fork",
        `is not the checkpoint the lock acknowledged at size ${String(size)} (${el}, seq ${e.seq})`,
      );
    acks.push({
      lockIndex: i,
      seq: e.seq,
      lockTime: e.lockTime,
      treeSize: size as number,
      checkpointIndex: j,
    });
  });
  return acks;
}

function proofFailure(element: string, e: unknown): never {
  const code = isLatchkeyError(e) ? e.code : "";
  const reason = code === "LEDGER_PROOF_MISMATCH" ? "mismatch" : "malformed";
  return fail(element, reason, isLatchkeyError(e) ? e.message : "proof does not verify");
}

function verifyParsed(
  b: EvidenceBundle,
  sealDigest: Uint8Array | null,
  opts: EvidenceVerifyOptions,
): VerifiedBundle {
  const hasher = opts.hasher ?? sha256MerkleHasher;
  if (opts.expectOwnerKey !== undefined && !equalBytes(opts.expectOwnerKey, b.owner.publicKey))
    fail("owner.publicKey", "untrusted-key", "is not the owner key you expected");
  if (opts.expectLedgerKey !== undefined && !equalBytes(opts.expectLedgerKey, b.ledger.publicKey))
    fail("ledger.publicKey", "untrusted-key", "is not the ledger key you expected");
  const seen = new Set<string>();
  b.locks.forEach((l, i) => {
    if (seen.has(l.lockId)) fail(`locks[${i}].lockId`, "malformed", "repeats an earlier lock");
    seen.add(l.lockId);
  });
  const records = b.locks.map((_, i) => checkCommissioning(b, i, opts));
  const checkpoints = openCheckpoints(b, opts);
  const witnesses = checkWitnesses(b, checkpoints, opts);
  const head = checkpoints[checkpoints.length - 1]!;
  const chains = b.locks.map((_, i) => checkChain(b, i, opts));
  const acks = chains.flatMap((events, i) => checkAcks(events, i, checkpoints));
  b.consistency.forEach((proof, j) => {
    const older = checkpoints[j]!.checkpoint;
    const newer = checkpoints[j + 1]!.checkpoint;
    try {
      verifyConsistency(hasher, older.size, newer.size, proof, older.rootHash, newer.rootHash);
    } catch (e) {
      proofFailure(`consistency[${j}]`, e);
    }
  });
  // One verifier for every event: neighbouring leaves share their paths (inclusion-batch.ts).
  const inclusion = new InclusionBatchVerifier(hasher, head.checkpoint.size, head.checkpoint.rootHash);
  b.locks.forEach((lock, i) => {
    const lockId = lockIdBytesFromPublicKey(lock.publicKey);
    lock.events.forEach((e, k) => {
      const el = `locks[${i}].events[${k}]`;
      let leaf: Uint8Array;
      try {
        leaf = encodeLockEventLeaf(e.hubTimeMs, lockId, e.record);
      } catch (err) {
        return fail(el, "malformed", isLatchkeyError(err) ? err.message : "not a ledger leaf");
      }
      try {
        inclusion.verify(e.leafIndex, hasher.hashLeaf(leaf), e.proof);
      } catch (err) {
        fail(
          el,
          "not-included",
          `its ledger leaf ${e.leafIndex} is not proven in the head checkpoint (${isLatchkeyError(err) ? err.message : "bad proof"})`,
        );
      }
    });
  });
  chains.forEach((events, i) => {
    const first = events[0]!;
    const last = events[events.length - 1]!;
    if (first.seq !== 1 && (first.lockTime === null || first.lockTime > b.window.from))
      fail(
        `locks[${i}].events`,
        "truncated",
        `start after the window's start: events before seq ${first.seq} are missing`,
      );
    if (last.lockTime === null || last.lockTime < b.window.to)
      fail(
        `locks[${i}].events`,
        "truncated",
        `end at seq ${last.seq}, before the window's end: later events are missing`,
      );
  });
  if (sealDigest === null)
    return fail("seal", "malformed", "the seal member is not where the canonical form puts it");
  if (!opts.ed25519.verify(b.ledger.publicKey, sealMessageOfDigest(sealDigest), b.seal))
    fail(
      "seal",
      "bad-signature",
      "the hub's seal over the bundle does not verify: a byte outside the signed records was changed",
    );
  const locks = b.locks.map((l, i) => ({
    lockId: l.lockId,
    publicKey: l.publicKey,
    commissioning: records[i]!,
    events: chains[i]!,
  }));
  return { bundle: b, checkpoints, head, locks, acks, witnesses };
}

/** Verifies a bundle file's bytes. Never throws for bad input. */
export function verifyEvidenceBundle(file: Uint8Array, opts: EvidenceVerifyOptions): EvidenceVerification {
  const read = readEvidenceBundle(file, opts.sha256);
  return read.bundle === null ? read.result : verifyParsedEvidenceBundle(read, opts);
}

/** A bundle file as `readEvidenceBundle` read it. */
export type ReadEvidenceBundle =
  | {
      readonly bundle: EvidenceBundle;
      /** SHA-256 of the file without its seal member (what the seal signs); null if misplaced. */
      readonly sealDigest: Uint8Array | null;
    }
  | { readonly bundle: null; readonly result: EvidenceVerification };

/**
 * The first half of `verifyEvidenceBundle`: the parsed bundle and the hash its seal covers, or
 * the verification that names why the file does not parse. The checks need nothing more from
 * the file, so a caller can let go of its bytes (100 MB for 100,000 events), and can look at the
 * bundle (e.g. to check signatures on other threads) without parsing it twice. `sha256` as in
 * `EvidenceVerifyOptions`.
 */
export function readEvidenceBundle(
  file: Uint8Array,
  sha256: (parts: readonly Uint8Array[]) => Uint8Array = nobleSha256Parts,
): ReadEvidenceBundle {
  let bundle: EvidenceBundle;
  try {
    bundle = parseEvidenceBundle(file);
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    const element = typeof e.details?.element === "string" ? e.details.element : "file";
    const failure: EvidenceFailure = {
      element,
      code: e.code,
      reason:
        e.code === "EVIDENCE_NON_CANONICAL"
          ? "non-canonical"
          : e.code === "EVIDENCE_UNSUPPORTED_VERSION"
            ? "unsupported-version"
            : e.code === "EVIDENCE_NOT_A_BUNDLE"
              ? "not-a-bundle"
              : "malformed",
      message: e.message.startsWith(element) ? e.message : `${element}: ${e.message}`,
    };
    const unreadable = e.code === "EVIDENCE_NOT_A_BUNDLE" || e.code === "EVIDENCE_UNSUPPORTED_VERSION";
    return {
      bundle: null,
      result: unreadable ? { status: "unreadable", failure } : { status: "invalid", failure },
    };
  }
  return { bundle, sealDigest: unsealedDigest(file, bundle.seal, sha256) };
}

/** The second half of `verifyEvidenceBundle`: the checks, on what `readEvidenceBundle` read. */
export function verifyParsedEvidenceBundle(
  read: { readonly bundle: EvidenceBundle; readonly sealDigest: Uint8Array | null },
  opts: EvidenceVerifyOptions,
): EvidenceVerification {
  try {
    return { status: "valid", verified: verifyParsed(read.bundle, read.sealDigest, opts) };
  } catch (e) {
    if (e instanceof Failure) {
      return {
        status: "invalid",
        failure: { element: e.element, code: "EVIDENCE_INVALID", reason: e.reason, message: e.message },
      };
    }
    if (isLatchkeyError(e)) {
      return {
        status: "invalid",
        failure: { element: "bundle", code: e.code, reason: "malformed", message: `bundle: ${e.message}` },
      };
    }
    throw e;
  }
}

/** Throws EVIDENCE_INVALID (details: element, reason) unless the verification passed. */
export function assertEvidenceValid(v: EvidenceVerification): VerifiedBundle {
  if (v.status === "valid") return v.verified;
  throw new LatchkeyError(v.failure.code, v.failure.message, {
    element: v.failure.element,
    reason: v.failure.reason,
  });
}
