/**
 * The evidence bundle's constants and shape (format "latchkey-evidence", version 1), shared by
 * the serialiser and both parsers. Layout and rules: docs/evidence-format.md.
 */
import type { EpochMs } from "../units.js";

export const EVIDENCE_FORMAT = "latchkey-evidence";
export const EVIDENCE_VERSION = 1;
/** Domain-separation tag of the hub's seal over a bundle (followed by a 0x00 byte, then SHA-256). */
export const EVIDENCE_SEAL_TAG = "latchkey/evidence-bundle/v1";
/**
 * Version 1's heartbeat rule: a lock signs a Heartbeat event every 5 minutes while idle; silence
 * is proven only where consecutive lock events are at most this far apart (three missed beats).
 */
export const HEARTBEAT_MAX_GAP_MS = 15 * 60_000;
/** Limits that keep a hostile file from exhausting memory before it is rejected. */
export const EVIDENCE_LIMITS = {
  locks: 64,
  eventsPerLock: 10_000_000,
  checkpoints: 1000,
  proofHashes: 64,
} as const;

export interface BundleEvent {
  /** Index of the event's LockEvent leaf in the ledger. */
  readonly leafIndex: number;
  /** The leaf's hubTimeMs (part of the leaf bytes). */
  readonly hubTimeMs: EpochMs;
  /** The lock's signed journal record, verbatim. */
  readonly record: Uint8Array;
  /**
   * RFC 9162 inclusion proof of the leaf in the bundle's last (head) checkpoint: its 32-byte
   * hashes one after another (in the file, a list of base64 strings). Packed because a
   * 100,000-event bundle holds 1.7 million of them.
   */
  readonly proof: Uint8Array;
}

export interface BundleLock {
  /** Hex lock id (32 digits). */
  readonly lockId: string;
  /** The lock's Ed25519 event-signing public key. */
  readonly publicKey: Uint8Array;
  /** The owner-signed commissioning record (commissioning-record.ts), body ‖ signature. */
  readonly commissioning: Uint8Array;
  /** The lock's events in seq order: gapless except for the declared `missing` ranges. */
  readonly events: readonly BundleEvent[];
  /**
   * Seq ranges [first, last] the hub's ledger does not hold (events the hub lost), declared by
   * the exporter and covered by the seal. Nothing can be proven across them; any other gap fails.
   */
  readonly missing: readonly (readonly [number, number])[];
}

export interface EvidenceBundle {
  readonly format: typeof EVIDENCE_FORMAT;
  readonly version: typeof EVIDENCE_VERSION;
  readonly generatedAt: EpochMs;
  readonly window: { readonly from: EpochMs; readonly to: EpochMs };
  readonly owner: { readonly publicKey: Uint8Array };
  readonly ledger: { readonly origin: string; readonly publicKey: Uint8Array };
  /** Signed checkpoint notes (C2SP), strictly increasing size; the last one is the head. */
  readonly checkpoints: readonly string[];
  /** consistency[i] proves checkpoints[i] is a prefix of checkpoints[i + 1]. */
  readonly consistency: readonly (readonly Uint8Array[])[];
  readonly locks: readonly BundleLock[];
  /** Ed25519 by the ledger key over tag ‖ 0x00 ‖ SHA-256(canonical bundle without "seal"). */
  readonly seal: Uint8Array;
}

export type UnsealedEvidenceBundle = Omit<EvidenceBundle, "seal">;
