/**
 * The evidence exporter: from the hub's ledger, the locks' identities and a window, builds the
 * sealed evidence bundle (docs/evidence-format.md) that `latchkey verify` and the offline page
 * check. For each lock it takes the last Heartbeat at or before the window's start (a signed
 * statement of bolt and door state), every event after it up to the first event at or after the
 * window's end, their inclusion proofs in the latest checkpoint, every checkpoint the lock
 * acknowledged in that range, and consistency proofs between the checkpoints.
 */
import {
  decodeSignedLockEvent,
  encodeEvidenceBundle,
  epochMs,
  equalBytes,
  EventKind,
  evidenceSealMessage,
  EVIDENCE_FORMAT,
  EVIDENCE_VERSION,
  LatchkeyError,
  LedgerLeafKind,
  lockIdBytesFromPublicKey,
  packHashes,
  toHex,
  unsealedBundleBytes,
  type BundleEvent,
  type BundleLock,
  type EpochMs,
  type EvidenceBundle,
  type NoteSigner,
  type SignedLockEvent,
  type UnsealedEvidenceBundle,
} from "@latchkey/protocol";
import type { Ledger } from "../ledger/index.js";

export interface EvidenceLockIdentity {
  /** The lock's Ed25519 event-signing public key (from commissioning). */
  readonly publicKey: Uint8Array;
  /** The owner-signed commissioning record (body ‖ signature). */
  readonly commissioning: Uint8Array;
}

export interface ExportEvidenceOptions {
  readonly ledger: Ledger;
  readonly locks: readonly EvidenceLockIdentity[];
  readonly window: { readonly from: number; readonly to: number };
  readonly ownerPublicKey: Uint8Array;
  /** The ledger's own checkpoint signer: it seals the bundle (purpose-tagged, see the format). */
  readonly signer: NoteSigner & { readonly publicKey: Uint8Array };
  /** Export time (default Date.now). */
  readonly now?: () => number;
  /** Ledger leaves read per batch while scanning (default 10,000). */
  readonly batch?: number;
  /**
   * How long to wait for the hub's witnesses to cosign the latest checkpoint before reading it
   * (default 5000 ms; docs/witness.md). A witness that is down does not stop the export: the
   * bundle then carries the cosignatures there are.
   */
  readonly witnessWaitMs?: number;
}

interface Found {
  readonly event: SignedLockEvent;
  readonly record: Uint8Array;
  readonly leafIndex: number;
  readonly hubTimeMs: EpochMs;
}

function incomplete(message: string, details: Record<string, string | number> = {}): LatchkeyError {
  return new LatchkeyError("EVIDENCE_EXPORT_INCOMPLETE", message, details);
}

/** Every LockEvent leaf of the given locks below `size`, by lock id hex, in seq order (first copy kept). */
async function scanLedger(
  ledger: Ledger,
  lockIds: ReadonlySet<string>,
  size: number,
  batch: number,
): Promise<Map<string, Found[]>> {
  const found = new Map<string, Map<number, Found>>();
  for (const id of lockIds) found.set(id, new Map());
  for (let start = 0; start < size; start += batch) {
    for (const entry of await ledger.entries(start, Math.min(size, start + batch))) {
      const leaf = entry.leaf;
      if (leaf.kind !== LedgerLeafKind.LockEvent) continue;
      const bySeq = found.get(toHex(leaf.lockId));
      if (bySeq === undefined) continue;
      const event = decodeSignedLockEvent(leaf.record);
      if (!bySeq.has(event.seq))
        bySeq.set(event.seq, {
          event,
          record: leaf.record,
          leafIndex: entry.index,
          hubTimeMs: leaf.hubTimeMs,
        });
    }
  }
  return new Map(
    [...found].map(([id, m]) => [id, [...m.values()].sort((a, b) => a.event.seq - b.event.seq)]),
  );
}

/** The events of one lock that cover the window (see the module comment), and the window's clipped end. */
function selectEvents(
  all: readonly Found[],
  from: number,
  to: number,
  lockId: string,
): { events: Found[]; to: number } {
  if (all.length === 0) throw incomplete(`lock ${lockId} has no events in the ledger`, { lockId });
  let start = -1;
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!.event;
    if (e.lockTime !== null && e.lockTime > from) break;
    if (e.kind === EventKind.Heartbeat && e.lockTime !== null) start = i;
  }
  if (start < 0) {
    // No heartbeat before the window: start at the first event, which must be seq 1 or before it.
    const first = all[0]!.event;
    if (first.seq !== 1 && (first.lockTime === null || first.lockTime > from)) {
      throw incomplete(
        `the ledger lacks lock ${lockId}'s events before seq ${first.seq}, which is after the window's start`,
        { lockId },
      );
    }
    start = 0;
  }
  let end = all.length - 1;
  for (let i = start; i < all.length; i++) {
    const t = all[i]!.event.lockTime;
    if (t !== null && t >= to) {
      end = i;
      break;
    }
  }
  const lastTime = all[end]!.event.lockTime;
  if (lastTime === null) throw incomplete(`lock ${lockId}'s last event has no time`, { lockId });
  return { events: all.slice(start, end + 1), to: Math.max(from, Math.min(to, lastTime)) };
}

/** Builds and seals the bundle; returns it with its canonical file bytes. */
export async function exportEvidenceBundle(
  opts: ExportEvidenceOptions,
): Promise<{ bundle: EvidenceBundle; bytes: Uint8Array }> {
  const { ledger, window } = opts;
  if (
    !Number.isSafeInteger(window.from) ||
    !Number.isSafeInteger(window.to) ||
    window.to < window.from ||
    window.from < 0
  ) {
    throw new LatchkeyError("EVIDENCE_EXPORT_INCOMPLETE", "window must be two epoch-ms integers, from ≤ to", {
      field: "window",
    });
  }
  if (!equalBytes(opts.signer.publicKey, ledger.publicKey)) {
    throw new LatchkeyError("NOTE_KEY_MALFORMED", "the sealing key must be the ledger's checkpoint key");
  }
  // The head's witness cosignatures are what lets a verifier pin witnesses: let them arrive.
  await ledger.checkpointWorkSettled(opts.witnessWaitMs ?? 5000);
  const head = await ledger.latestCheckpoint();
  if (head === undefined) throw incomplete("the ledger has no signed checkpoint yet");
  const ids = opts.locks.map((l) => toHex(lockIdBytesFromPublicKey(l.publicKey)));
  const scanned = await scanLedger(ledger, new Set(ids), head.size, opts.batch ?? 10_000);

  let windowTo = window.to;
  const selected = opts.locks.map((_, i) => {
    const s = selectEvents(scanned.get(ids[i]!) ?? [], window.from, window.to, ids[i]!);
    windowTo = Math.min(windowTo, s.to);
    return s.events;
  });
  const sizes = new Set<number>([head.size]);
  for (const events of selected)
    for (const f of events)
      if (f.event.kind === EventKind.CheckpointAck && typeof f.event.details.treeSize === "number")
        sizes.add(f.event.details.treeSize);
  const ordered = [...sizes].sort((a, b) => a - b);
  const checkpoints = await Promise.all(ordered.map((s) => ledger.cosignedCheckpoint(s)));
  const consistency: Uint8Array[][] = [];
  for (let j = 0; j + 1 < ordered.length; j++) {
    consistency.push([...(await ledger.consistencyProof(ordered[j]!, ordered[j + 1])).hashes]);
  }

  const locks: BundleLock[] = [];
  for (let i = 0; i < opts.locks.length; i++) {
    const events: BundleEvent[] = [];
    const missing: [number, number][] = [];
    let prevSeq: number | null = null;
    for (const f of selected[i]!) {
      if (prevSeq !== null && f.event.seq > prevSeq + 1) missing.push([prevSeq + 1, f.event.seq - 1]);
      prevSeq = f.event.seq;
      const proof = await ledger.inclusionProof(f.leafIndex, head.size);
      events.push({
        leafIndex: f.leafIndex,
        hubTimeMs: f.hubTimeMs,
        record: f.record,
        proof: packHashes(proof.hashes),
      });
    }
    locks.push({
      lockId: ids[i]!,
      publicKey: opts.locks[i]!.publicKey.slice(),
      commissioning: opts.locks[i]!.commissioning.slice(),
      events,
      missing,
    });
  }
  const unsealed: UnsealedEvidenceBundle = {
    format: EVIDENCE_FORMAT,
    version: EVIDENCE_VERSION,
    generatedAt: epochMs((opts.now ?? Date.now)()),
    window: { from: epochMs(window.from), to: epochMs(windowTo) },
    owner: { publicKey: opts.ownerPublicKey.slice() },
    ledger: { origin: ledger.origin, publicKey: ledger.publicKey.slice() },
    checkpoints,
    consistency,
    locks,
  };
  const bundle: EvidenceBundle = {
    ...unsealed,
    seal: opts.signer.sign(evidenceSealMessage(unsealedBundleBytes(unsealed))),
  };
  return { bundle, bytes: encodeEvidenceBundle(bundle) };
}
