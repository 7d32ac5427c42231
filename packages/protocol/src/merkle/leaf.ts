/**
 * The ledger's leaf record: a small, typed, canonical, purpose-tagged binary record. The Merkle
 * leaf hash is SHA-256(0x00 ‖ encodeLedgerLeaf(leaf)). Layout (big-endian):
 *
 *   "latchkey/ledger-leaf/v1"   23 bytes   purpose tag and version (domain separation)
 *   kind                         u8        1 lock event, 2 observed event, 3 admin action, 4 heartbeat
 *   hubTimeMs                    u64       the hub's clock when it appended the leaf
 *   body                                   by kind, below; nothing may follow it
 *
 *   1 LockEvent       lockId[16] ‖ record(u16 length ‖ bytes)     assurance "sealed-by-lock"
 *       record = the lock's encoded, signed journal event, verbatim (journal codec)
 *   2 ObservedEvent   lockId[16] ‖ bridge(u16 ‖ UTF-8, ≤ 32) ‖ observedAtMs u64 ‖ payload(u16 ‖ bytes)
 *       a bridged lock's event as the hub saw it; assurance "observed-by-hub"
 *   3 AdminAction     actor(u16 ‖ UTF-8, ≤ 128) ‖ action(u16 ‖ UTF-8, ≤ 64) ‖
 *                     target(u16 ‖ UTF-8, ≤ 256) ‖ details(u16 ‖ bytes, ≤ 4096)
 *       who changed what; never a secret; assurance "hub-attested"
 *   4 Heartbeat       lockId[16] ‖ lastSeq u64 ‖ headHash[32] ‖ online u8 (0 | 1)
 *       the hub's statement that a lock was (not) reachable and how far its journal reached;
 *       assurance "observed-by-hub"
 */
import { LatchkeyError } from "../errors/error.js";
import { ByteReader, ByteWriter, equalBytes } from "../encoding/bytes.js";
import type { EpochMs } from "../units.js";

export const LEDGER_LEAF_TAG = "latchkey/ledger-leaf/v1";
const utf8 = new TextEncoder();
const TAG_BYTES = utf8.encode(LEDGER_LEAF_TAG);

export const LedgerLeafKind = {
  LockEvent: 1,
  ObservedEvent: 2,
  AdminAction: 3,
  Heartbeat: 4,
} as const;
export type LedgerLeafKind = (typeof LedgerLeafKind)[keyof typeof LedgerLeafKind];

/** What a verifier may conclude from a leaf of each kind. */
export type Assurance = "sealed-by-lock" | "observed-by-hub" | "hub-attested";

const MAX_LOCK_RECORD = 0xffff;
const MAX_BRIDGE = 32;
const MAX_ACTOR = 128;
const MAX_ACTION = 64;
const MAX_TARGET = 256;
const MAX_DETAILS = 4096;

interface LeafBase {
  readonly hubTimeMs: EpochMs;
}
export interface LockEventLeaf extends LeafBase {
  readonly kind: typeof LedgerLeafKind.LockEvent;
  readonly lockId: Uint8Array;
  readonly record: Uint8Array;
}
export interface ObservedEventLeaf extends LeafBase {
  readonly kind: typeof LedgerLeafKind.ObservedEvent;
  readonly lockId: Uint8Array;
  readonly bridge: string;
  readonly observedAtMs: EpochMs;
  readonly payload: Uint8Array;
}
export interface AdminActionLeaf extends LeafBase {
  readonly kind: typeof LedgerLeafKind.AdminAction;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details: Uint8Array;
}
export interface HeartbeatLeaf extends LeafBase {
  readonly kind: typeof LedgerLeafKind.Heartbeat;
  readonly lockId: Uint8Array;
  readonly lastSeq: number;
  readonly headHash: Uint8Array;
  readonly online: boolean;
}
export type LedgerLeaf = LockEventLeaf | ObservedEventLeaf | AdminActionLeaf | HeartbeatLeaf;

export function leafAssurance(leaf: LedgerLeaf): Assurance {
  switch (leaf.kind) {
    case LedgerLeafKind.LockEvent:
      return "sealed-by-lock";
    case LedgerLeafKind.ObservedEvent:
    case LedgerLeafKind.Heartbeat:
      return "observed-by-hub";
    case LedgerLeafKind.AdminAction:
      return "hub-attested";
  }
}

function invalid(message: string, details?: Record<string, string | number>): LatchkeyError {
  return new LatchkeyError("LEDGER_LEAF_MALFORMED", `ledger leaf: ${message}`, details);
}

/** UTF-8 bytes of a text field, length-checked. */
function text(field: string, s: string, max: number, min = 0): Uint8Array {
  const b = utf8.encode(s);
  checkLen(field, b.length, max, min);
  return b;
}

function checkLen(field: string, n: number, max: number, min = 0): void {
  if (n < min || n > max)
    throw invalid(`${field} is ${n} bytes, allowed ${min}..${max}`, { field, length: n });
}

function checkTime(field: string, t: number): void {
  if (!Number.isSafeInteger(t) || t < 0) throw invalid(`${field} must be a non-negative integer`, { field });
}

/**
 * The LockEvent leaf's bytes, the same as `encodeLedgerLeaf` makes, written in one allocation:
 * an evidence verifier builds one per event of a bundle.
 */
export function encodeLockEventLeaf(hubTimeMs: EpochMs, lockId: Uint8Array, record: Uint8Array): Uint8Array {
  checkTime("hubTimeMs", hubTimeMs);
  checkLen("lockId", lockId.length, 16, 16);
  checkLen("record", record.length, MAX_LOCK_RECORD, 1);
  const n = TAG_BYTES.length;
  const out = new Uint8Array(n + 1 + 8 + 16 + 2 + record.length);
  out.set(TAG_BYTES, 0);
  out[n] = LedgerLeafKind.LockEvent;
  const view = new DataView(out.buffer);
  view.setUint32(n + 1, Math.floor(hubTimeMs / 0x1_0000_0000));
  view.setUint32(n + 5, hubTimeMs >>> 0);
  out.set(lockId, n + 9);
  view.setUint16(n + 25, record.length);
  out.set(record, n + 27);
  return out;
}

/** Canonical encoding; throws LEDGER_LEAF_MALFORMED for out-of-range fields. */
export function encodeLedgerLeaf(leaf: LedgerLeaf): Uint8Array {
  checkTime("hubTimeMs", leaf.hubTimeMs);
  const w = new ByteWriter().bytes(TAG_BYTES).u8(leaf.kind).u64(leaf.hubTimeMs);
  switch (leaf.kind) {
    case LedgerLeafKind.LockEvent:
      checkLen("lockId", leaf.lockId.length, 16, 16);
      checkLen("record", leaf.record.length, MAX_LOCK_RECORD, 1);
      return w.bytes(leaf.lockId).bytesVar16(leaf.record).finish();
    case LedgerLeafKind.ObservedEvent:
      checkLen("lockId", leaf.lockId.length, 16, 16);
      checkTime("observedAtMs", leaf.observedAtMs);
      checkLen("payload", leaf.payload.length, 0xffff);
      return w
        .bytes(leaf.lockId)
        .bytesVar16(text("bridge", leaf.bridge, MAX_BRIDGE, 1))
        .u64(leaf.observedAtMs)
        .bytesVar16(leaf.payload)
        .finish();
    case LedgerLeafKind.AdminAction:
      checkLen("details", leaf.details.length, MAX_DETAILS);
      return w
        .bytesVar16(text("actor", leaf.actor, MAX_ACTOR, 1))
        .bytesVar16(text("action", leaf.action, MAX_ACTION, 1))
        .bytesVar16(text("target", leaf.target, MAX_TARGET))
        .bytesVar16(leaf.details)
        .finish();
    case LedgerLeafKind.Heartbeat:
      checkLen("lockId", leaf.lockId.length, 16, 16);
      checkLen("headHash", leaf.headHash.length, 32, 32);
      checkTime("lastSeq", leaf.lastSeq);
      return w
        .bytes(leaf.lockId)
        .u64(leaf.lastSeq)
        .bytes(leaf.headHash)
        .u8(leaf.online ? 1 : 0)
        .finish();
    default:
      throw invalid("unknown kind");
  }
}

/** Strict decoding: tag, known kind, field limits, no trailing bytes. */
export function decodeLedgerLeaf(bytes: Uint8Array): LedgerLeaf {
  const r = new ByteReader(bytes, "ledger leaf");
  if (!equalBytes(r.bytesFixed(TAG_BYTES.length, "purpose tag"), TAG_BYTES)) {
    throw invalid(`purpose tag is not "${LEDGER_LEAF_TAG}"`);
  }
  const kind = r.u8("kind");
  const hubTimeMs = r.u64Number("hubTimeMs") as EpochMs;
  let leaf: LedgerLeaf;
  switch (kind) {
    case LedgerLeafKind.LockEvent: {
      const lockId = r.bytesFixed(16, "lockId");
      const record = r.bytesVar16("record");
      if (record.length === 0) throw invalid("record is empty");
      leaf = { kind, hubTimeMs, lockId, record };
      break;
    }
    case LedgerLeafKind.ObservedEvent: {
      const lockId = r.bytesFixed(16, "lockId");
      const bridge = r.utf8Var16("bridge", MAX_BRIDGE);
      if (bridge.length === 0) throw invalid("bridge is empty");
      const observedAtMs = r.u64Number("observedAtMs") as EpochMs;
      const payload = r.bytesVar16("payload");
      leaf = { kind, hubTimeMs, lockId, bridge, observedAtMs, payload };
      break;
    }
    case LedgerLeafKind.AdminAction: {
      const actor = r.utf8Var16("actor", MAX_ACTOR);
      const action = r.utf8Var16("action", MAX_ACTION);
      const target = r.utf8Var16("target", MAX_TARGET);
      const details = r.bytesVar16("details", MAX_DETAILS);
      if (actor.length === 0 || action.length === 0) throw invalid("actor and action must be non-empty");
      leaf = { kind, hubTimeMs, actor, action, target, details };
      break;
    }
    case LedgerLeafKind.Heartbeat: {
      const lockId = r.bytesFixed(16, "lockId");
      const lastSeq = r.u64Number("lastSeq");
      const headHash = r.bytesFixed(32, "headHash");
      const online = r.u8("online");
      if (online > 1) throw invalid("online must be 0 or 1");
      leaf = { kind, hubTimeMs, lockId, lastSeq, headHash, online: online === 1 };
      break;
    }
    default:
      throw invalid(`unknown kind ${kind}`, { kind });
  }
  r.end();
  return leaf;
}
