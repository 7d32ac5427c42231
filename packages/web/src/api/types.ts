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
