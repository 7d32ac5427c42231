/**
 * The lock journal's event record. The codec (encoding, signing, verification) lives beside this
 * file; these types are the shape every package shares.
 */
import type { EpochMs } from "../units.js";
import type { EventActor, EventDetails, EventKind } from "./kinds.js";

export interface LockEvent {
  /** Format version of the signed encoding. */
  readonly version: 1;
  /** 16 bytes: the lock's id (see `LockId`), raw. */
  readonly lockId: Uint8Array;
  /** Gapless from 1, never reused, across reboots. */
  readonly seq: number;
  /** 16 random bytes chosen at boot. */
  readonly bootId: Uint8Array;
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
