/** The hub API's objects as the app uses them (see GET /api/v1/openapi.json). */

export type Stage = "enrol" | "mfa" | "full";

export interface SessionInfo {
  readonly stage: Stage;
  readonly csrfToken: string;
  readonly account: { readonly id: string; readonly username: string; readonly isOwner: boolean };
  readonly stepUpUntil: number | null;
}

export interface WithRecovery {
  readonly session: SessionInfo;
  readonly recoveryCodes: string[] | null;
}

export interface Organisation {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface Site {
  readonly id: string;
  readonly name: string;
  readonly timezone: string;
  readonly createdAt: number;
}

export interface Door {
  readonly id: string;
  readonly siteId: string;
  readonly name: string;
  readonly lockId: string | null;
  readonly lockPublicKey: string | null;
  readonly createdAt: number;
}

export interface Person {
  readonly id: string;
  readonly siteId: string;
  readonly name: string;
  readonly email: string | null;
  readonly phone: string | null;
  readonly createdAt: number;
}

export type CredentialKind = "pin" | "card" | "fingerprint" | "phone_key";

export interface Credential {
  readonly id: string;
  readonly personId: string;
  readonly kind: CredentialKind;
  readonly label: string;
  readonly status: "active" | "enrolment_requested" | "revoked";
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly sealedForDoors: string[];
}

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface WeeklyWindow {
  readonly days: Weekday[];
  readonly start: string;
  readonly end: string;
}

export type Schedule =
  { readonly kind: "always" } | { readonly kind: "weekly"; readonly windows: WeeklyWindow[] };

export const CATEGORIES = [
  "family",
  "resident",
  "staff",
  "guest",
  "cleaner",
  "dog_walker",
  "contractor",
  "delivery",
  "caregiver",
  "other",
] as const;
export type Category = (typeof CATEGORIES)[number];

export type GrantStatus = "active" | "scheduled" | "outside_window" | "expired" | "used_up" | "revoked";

export interface GrantTerms {
  readonly category: Category;
  readonly schedule: Schedule;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly maxUses: number | null;
  readonly expiresAfterFirstUseSeconds: number | null;
}

export interface Grant extends GrantTerms {
  readonly id: string;
  readonly personId: string;
  readonly siteId: string;
  readonly doorIds: string[];
  readonly uses: number;
  readonly status: GrantStatus;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly actorAccountId: string | null;
  readonly action: string;
  readonly siteId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly details: Record<string, unknown>;
}

export interface Member {
  readonly accountId: string;
  readonly username: string;
  readonly role: string;
  readonly since: number;
}

export type LockStateName = "locked" | "unlocked" | "not-fully-locked";

export interface LockCondition {
  readonly lockState: LockStateName;
  readonly doorState: "open" | "closed";
  readonly batteryPercent: number | null;
  readonly firmwareVersion: string;
  readonly lastSeq: number;
}

/** A commissioned lock as GET /sites/:siteId/locks and /doors/:doorId/lock show it. */
export interface LockView {
  readonly id: string;
  readonly doorId: string | null;
  readonly online: boolean;
  readonly commissionedAt: number;
  readonly lastSeenAt: number | null;
  readonly clockDriftMs: number | null;
  /** Off by more than the 5-minute step a lock accepts from the hub: left alone, shown to people. */
  readonly clockNeedsAuthorisation: boolean;
  readonly condition: LockCondition | null;
  readonly breakerOpenUntil: number | null;
  /** Credential count per sync state on this lock. */
  readonly sync: Partial<Record<SyncStateName, number>>;
}

/** A lock that announced itself and waits to be commissioned. */
export interface WaitingLock {
  readonly lockId: string;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  /** Sessions announcing this lock id; more than one means at least one is not the lock. */
  readonly announcers: number;
}

export type SyncStateName = "idle" | "pending" | "sending" | "set" | "failed" | "removing" | "removed";

/** A credential's state on one lock. */
export interface SyncRow {
  readonly lockId: string;
  readonly doorId: string | null;
  readonly state: SyncStateName;
  readonly reason: string | null;
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
  readonly updatedAt: number;
}

/** Demo mode: a demo door's virtual lock and what its hardware shows. */
export interface DemoDoor {
  readonly doorId: string;
  readonly lockId: string;
  readonly connected: boolean;
  /** The runtime's bolt state: "Locked", "Unlocked" or "NotFullyLocked". */
  readonly lockState: string;
  readonly doorOpen: boolean;
  readonly batteryPercent: number;
}

export type DemoInput =
  | { readonly action: "keypad"; readonly pin: string }
  | { readonly action: "card"; readonly cardNumber: string }
  | { readonly action: "fingerprint"; readonly templateRef: number | null }
  | { readonly action: "door"; readonly open: boolean }
  | { readonly action: "lock-button" }
  | {
      readonly action: "tamper";
      readonly kind: "escutcheon-removed" | "escutcheon-refitted" | "forced-rotation" | "drilling";
    }
  | { readonly action: "battery"; readonly percent: number };

export interface DemoOutcome {
  readonly result: "granted" | "denied" | "done";
  readonly reason: string | null;
  readonly lockState: string;
  readonly doorOpen: boolean;
  readonly batteryPercent: number;
}

/** One lock-signed event of a site (GET /sites/:siteId/events). */
export type EventOutcome = "granted" | "denied" | "locked" | "alarm" | "alarm-cleared" | "info";
export interface DoorEvent {
  readonly lockId: string;
  readonly doorId: string | null;
  readonly doorName: string | null;
  readonly seq: number;
  readonly kind: string;
  /** The lock's clock when it happened (null: the lock did not know the time). */
  readonly at: number | null;
  readonly personId: string | null;
  readonly personName: string | null;
  readonly userIndex: number | null;
  readonly credentialType: string | null;
  readonly source: string | null;
  readonly operation: string | null;
  readonly outcome: EventOutcome;
  /** A denial's DenyReason ("outside-schedule" …). */
  readonly reason: string | null;
  readonly alarm: string | null;
  readonly ledgerIndex: number;
  readonly sealedByLock: true;
}
export interface DoorEventPage {
  readonly items: DoorEvent[];
  /** Ask again with before=<this> for older events; null when there are no more. */
  readonly nextBefore: string | null;
  /** Every match (asked with count=true). */
  readonly total: number | null;
  /** The newest ledger index when read: later reads pass before=top+1 to keep positions. */
  readonly top: string | null;
}
