/**
 * The lock journal's event record. The codec (encoding, signing, verification) lives beside this
 * file; these types are the shape every package shares.
 */
import type { EpochMs } from "../units.js";
import type { EventActor, EventDetails, EventKind } from "./kinds.js";

export interface LockEvent {
  /**
   * Format version of the signed encoding: 2 (what locks write) carries `monotonicMs`; 1 (journals
   * and bundles made before) does not. docs/journal-format.md.
   */
  readonly version: 1 | 2;
  /** 16 bytes: the lock's id (see `LockId`), raw. */
  readonly lockId: Uint8Array;
  /** Gapless from 1, never reused, across reboots. */
  readonly seq: number;
  /** 16 random bytes chosen at boot. */
  readonly bootId: Uint8Array;
  /**
   * Version 2 only (absent in version 1): ms since this boot on the lock's monotonic clock. Nobody
   * outside the lock can set it; within one bootId it never decreases, so it measures silence and
   * exposes wall-clock jumps that no ClockSet explains.
   */
  readonly monotonicMs?: number;
  /** The lock's clock when the event happened; null when the lock does not know the time. */
  readonly lockTime: EpochMs | null;
  readonly kind: EventKind;
  readonly actor: EventActor;
  readonly details: EventDetails;
  /** SHA-256 of the previous event's signed encoding; 32 zero bytes for seq 1. */
  readonly prevHash: Uint8Array;
}

export interface SignedLockEvent extends LockEvent {
  /** Ed25519 signature by the lock's signing key over the purpose-tagged encoding. */
  readonly signature: Uint8Array;
  /** SHA-256 of the full signed encoding; the next event's prevHash. */
  readonly hash: Uint8Array;
}
