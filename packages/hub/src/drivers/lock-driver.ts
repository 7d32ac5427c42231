/**
 * The one seam between the hub and a kind of lock. The sync engine drives every lock through a
 * `LockDriver`: it opens a `LockSession`, learns what the lock can hold (`LockCapabilities`),
 * reads its condition, sends the users, schedules and credentials the grants call for, and takes
 * its events. A driver hides how the lock is reached (the Latchkey link over Noise today; the
 * Matter, Z-Wave and Zigbee bridges plug in here) and says what its answers are worth: how a
 * change is confirmed, what assurance its events carry, how its presence is known.
 *
 * Errors a session throws mean one of two things, and the engine treats them differently:
 *  - `LockUnreachable`: no answer (timeout, closed session, failed handshake) — the lock may be
 *    offline; rows stay pending and presence may lapse.
 *  - `LockRefused`: the lock answered, but not with what was asked (a refusal code) — the lock
 *    is there; the change failed for a reason the owner can read.
 * Requests answered by a result code ("OK" or a stable error code) return it instead of throwing.
 */
import { LockState } from "@latchkey/protocol";
import type { CredentialType, LockId, MessageOf, PinPolicy, UserType } from "@latchkey/protocol";

/** A result code: "OK", or the stable error code the lock refused with (docs/errors.md). */
export type ResultCode = string;

/** How a lock confirms a change the hub made. */
export type ChangeConfirmation =
  /** The lock answers each request after applying it (Latchkey locks). */
  | "acknowledged"
  /** The hub reads the slot back to learn whether the change took (bridged locks). */
  | "read-back";

/** What a lock's events are worth as evidence (docs/evidence-format.md). */
export type EventAssurance =
  /** Signed by the lock's own key and hash-chained by it: the hub cannot forge or drop them. */
  | "sealed-by-lock"
  /** Reported by a radio or bridge and recorded by the hub: the hub's word only. */
  | "observed-by-hub";

/** How the hub knows a lock is there. */
export type PresenceSource =
  /** Answers on an authenticated session; what a broker says is a hint only. */
  | "authenticated-session"
  /** The bridge's report of the device (node status, last seen). */
  | "bridge-reports";

/** How a credential's secret reaches the lock. */
export type CredentialDelivery =
  /** Sealed to the lock's key when the credential is made; the hub never holds it afterwards. */
  | "sealed-to-lock"
  /** Handed to a bridge in the clear at the moment it is set. */
  | "through-bridge";

/** Slots a lock keeps (Matter DoorLock cluster: NumberOfTotalUsersSupported and friends, §5.2.9). */
export interface SlotCapacity {
  readonly users: number;
  readonly credentialsPerType: number;
  readonly weekDaySchedulesPerUser: number;
  readonly yearDaySchedulesPerUser: number;
}

/** What a lock can hold and how it behaves, for the engine and the web app to plan around. */
export interface LockCapabilities {
  readonly userTypes: readonly (keyof typeof UserType)[];
  readonly credentialTypes: readonly (keyof typeof CredentialType)[];
  /** Digits a PIN may have on this lock (its PIN policy narrows them further). */
  readonly pinLength: { readonly min: number; readonly max: number };
  readonly slots: SlotCapacity;
  readonly confirmation: ChangeConfirmation;
  readonly eventAssurance: EventAssurance;
  readonly presence: PresenceSource;
  readonly credentialDelivery: CredentialDelivery;
  /** The lock checks a person's passkey assertion itself for a remote unlock. */
  readonly remoteUnlockByPasskey: boolean;
}

/** A lock's condition as it reports it. */
export interface LockReport {
  readonly lockState: number | null;
  readonly doorState: number | null;
  readonly operatingMode: number | null;
  readonly batteryPercent: number | null;
  readonly firmwareVersion: string;
  /** The sequence number of its newest event. */
  readonly lastSeq: number;
  /** The version of the revocation list it holds (0: none). */
  readonly revocationVersion: number;
  /** Its clock (UTC ms), null when it has none set. */
  readonly lockTimeMs: number | null;
  readonly pinPolicy?: PinPolicy;
}

/** Where the lock may forget its events up to: the newest one the hub stored. */
export interface EventAck {
  readonly seq: number;
  readonly hash: Uint8Array;
}

/** A credential sealed to one lock's key for one slot (`credentialSealContext`). */
export interface SealedCredential {
  readonly credentialType: number;
  readonly credentialIndex: number;
  readonly userIndex: number;
  readonly sealed: Uint8Array;
}

/** What a person approved for a remote unlock, with their passkey's assertion (digital-keys.md). */
export type PasskeyUnlock = Omit<MessageOf<"UnlockWithAssertion">, "kind">;

/** One week-day schedule entry (Matter DoorLock SetWeekDaySchedule, §5.2.10.12). */
export interface WeekDayEntry {
  /** DaysMaskMap: Sunday = 0x01 … Saturday = 0x40. */
  readonly daysMask: number;
  /** Local minutes since midnight, start inclusive, end exclusive (1–1440). */
  readonly startMinute: number;
  readonly endMinute: number;
}

/** One year-day schedule entry (Matter DoorLock SetYearDaySchedule, §5.2.10.15): UTC instants. */
export interface YearDayEntry {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * What one user slot on a lock holds: Matter's concepts, which every kind of lock maps from.
 * Compared as canonical JSON to know what changed.
 */
export interface UserSlot {
  readonly userType: keyof typeof UserType;
  readonly expiringTimeoutMinutes: number;
  readonly weekDay: readonly WeekDayEntry[];
  readonly yearDay: readonly YearDayEntry[];
}

/** One open session with one lock. Requests on a session run one at a time (the engine's rule). */
export interface LockSession {
  readonly lockId: LockId;
  readonly capabilities: LockCapabilities;
  /** Reads the lock's condition; also the heartbeat when nothing else was heard. */
  readState(): Promise<LockReport>;
  setClock(utcMs: number): Promise<ResultCode>;
  setTimeZone(timeZone: string): Promise<ResultCode>;
  installRevocationList(signedList: Uint8Array): Promise<ResultCode>;
  /** The lock co-signs a ledger checkpoint (it journals a CheckpointAck event). */
  acknowledgeCheckpoint(treeSize: number, checkpointHash: Uint8Array): Promise<void>;
  /**
   * Takes the lock's unacknowledged events batch by batch: `store` keeps a batch and returns
   * how far the lock may forget (null: nothing new stored, stop).
   */
  pullEvents(store: (records: readonly Uint8Array[]) => Promise<EventAck | null>): Promise<void>;
  /** Sets up a user slot with its type and schedules; null when done, else what refused it. */
  applyUser(userIndex: number, user: UserSlot): Promise<string | null>;
  /** Clears a user slot (an absent one is fine). */
  clearUser(userIndex: number): Promise<ResultCode>;
  setCredential(credential: SealedCredential): Promise<ResultCode>;
  clearCredential(credentialType: number, credentialIndex: number): Promise<ResultCode>;
  /**
   * Throws the bolt (Matter LockDoor). Locking needs no person's authority: anyone who may run the
   * hub may make a door safer. Answers the lock's result ("OK", or why it refused).
   */
  remoteLock(): Promise<ResultCode>;
  /** A fresh challenge for a remote unlock, valid for `validForMs`. */
  requestUnlockChallenge(): Promise<{ readonly challenge: Uint8Array; readonly validForMs: number }>;
  unlockWithPasskey(approval: PasskeyUnlock): Promise<ResultCode>;
  /** The lock answered or spoke on the session (presence). */
  onAnswer(fn: () => void): void;
  /** The lock has new events (pushed, or a change it made). */
  onEvents(fn: () => void): void;
  onClose(fn: () => void): void;
  close(): void;
}

/** What the engine knows of a lock when it opens a session. */
export interface LockAddress {
  readonly lockId: LockId;
  /** The lock's channel public key from commissioning (hex). */
  readonly channelPublicKey: string;
}

export interface OpenOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface LockDriver {
  /** The kind of lock this driver speaks to ("latchkey", later "matter", "zwave", "zigbee"). */
  readonly kind: string;
  /**
   * Opens a session; throws LockUnreachable when the lock does not answer within `timeoutMs`, or
   * at once when `signal` aborts (a hint that the lock has only now started listening: an attempt
   * sent before then is lost, and a new one beats waiting it out).
   */
  open(lock: LockAddress, options: OpenOptions): Promise<LockSession>;
  /**
   * Hints that a lock may be there now (for Latchkey locks, the broker's word that it logged in):
   * never proof of presence, only a reason to try a session now. Returns an unsubscribe.
   */
  onHint(fn: (lockId: LockId) => void): () => void;
  /** The latest hint says the lock is there. */
  hinted(lockId: LockId): boolean;
}

/** No answer from the lock (timeout, closed session, failed handshake). */
export class LockUnreachable extends Error {
  override readonly name = "LockUnreachable";
}

/** The lock answered, but refused (or answered something other than what was asked). */
export class LockRefused extends Error {
  override readonly name = "LockRefused";
  constructor(readonly code: string) {
    super(`lock refused: ${code}`);
  }
}

/** The bolt as people are told of it (the web app, Home Assistant). */
export type BoltState = "locked" | "unlocked" | "not-fully-locked";

/** Matter's LockState (a report's `lockState`) as a BoltState; an unlatched door is unlocked. */
export const BOLT_STATE: Readonly<Record<number, BoltState>> = {
  [LockState.NotFullyLocked]: "not-fully-locked",
  [LockState.Locked]: "locked",
  [LockState.Unlocked]: "unlocked",
  [LockState.Unlatched]: "unlocked",
};
