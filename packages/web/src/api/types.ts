/**
 * The hub API's objects as the app uses them: names for the answers the hub's routes declare in
 * its OpenAPI document, read from schema.gen.ts (`npm run api:types` regenerates it), so a change
 * to a route's schema shows up here as a type error rather than as a surprise in the browser.
 */
import type { paths } from "./schema.gen.js";

type Method = "get" | "post" | "patch" | "delete";
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { readonly content: { readonly "application/json": infer T } } ? T : never;

/** The JSON a hub route answers with when it succeeds (`ApiAnswer<"/api/v1/sites", "get">`). */
export type ApiAnswer<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { readonly responses: infer R }
    ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]>
    : never;

/** The JSON body a hub route takes. */
export type ApiBody<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { readonly requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

/** One element of a list answer (`{ items: [...] }`). */
export type ItemOf<L> = L extends { readonly items: readonly (infer I)[] } ? I : never;

/**
 * `list`, when it names every member of the union `T` and nothing else: the compiler refuses a
 * list that misses a value the API can send, so screens that offer every choice stay complete.
 */
const everyOf =
  <T extends string>() =>
  <const L extends readonly T[]>(list: L & ([T] extends [L[number]] ? unknown : never)): L =>
    list;

export type SessionInfo = ApiAnswer<"/api/v1/session", "get">;
export type Stage = SessionInfo["stage"];
export type SetupState = ApiAnswer<"/api/v1/setup", "get">;
export type TotpEnrolment = ApiAnswer<"/api/v1/account/totp/begin", "post">;
/** A first second factor's answer: the session, and recovery codes to show once. */
export type WithRecovery = ApiAnswer<"/api/v1/account/totp/confirm", "post">;

export type Organisation = ApiAnswer<"/api/v1/organisation", "get">;
export type Site = ApiAnswer<"/api/v1/sites/{siteId}", "get">;
export type Door = ApiAnswer<"/api/v1/doors/{doorId}", "get">;
export type Person = ApiAnswer<"/api/v1/people/{personId}", "get">;
export type PeoplePage = ApiAnswer<"/api/v1/sites/{siteId}/people", "get">;
export type Member = ItemOf<ApiAnswer<"/api/v1/sites/{siteId}/members", "get">>;
/** A change of role, or an invitation whose link is shown once. */
export type MemberInvite = ApiAnswer<"/api/v1/sites/{siteId}/members", "post">;
export type AuditPage = ApiAnswer<"/api/v1/sites/{siteId}/audit", "get">;
export type AuditEntry = ItemOf<AuditPage>;

export type Credential = ItemOf<ApiAnswer<"/api/v1/people/{personId}/credentials", "get">>;
export type CredentialKind = Credential["kind"];
/** A new credential, with its PIN when it has one (shown once). */
export type IssuedCredential = ApiAnswer<"/api/v1/people/{personId}/credentials", "post">;
export type ReplacedPin = ApiAnswer<"/api/v1/credentials/{credentialId}/replace-pin", "post">;
/** A guest PIN sent as a one-time link instead of shown. */
export type GuestPinLink = ApiAnswer<"/api/v1/people/{personId}/guest-pin", "post">;

export type Grant = ApiAnswer<"/api/v1/grants/{grantId}", "get">;
export type GrantStatus = Grant["status"];
export type Category = Grant["category"];
export type Schedule = Grant["schedule"];
export type WeeklyWindow = Extract<Schedule, { readonly kind: "weekly" }>["windows"][number];
export type Weekday = WeeklyWindow["days"][number];
/** What a grant allows, apart from whom and which doors: the terms a person sets in the editor. */
export type GrantTerms = Pick<
  Grant,
  "category" | "schedule" | "validFrom" | "validUntil" | "maxUses" | "expiresAfterFirstUseSeconds"
>;

/** In the order a week is shown. */
export const WEEKDAYS = everyOf<Weekday>()(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
/** In the order the editor offers them. */
export const CATEGORIES = everyOf<Category>()([
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
]);

/** A commissioned lock as GET /sites/:siteId/locks and /doors/:doorId/lock show it. */
export type LockView = ApiAnswer<"/api/v1/doors/{doorId}/lock", "get">;
export type LockCondition = NonNullable<LockView["condition"]>;
export type LockStateName = LockCondition["lockState"];
/** A lock that announced itself and waits to be commissioned. */
export type WaitingLock = ItemOf<ApiAnswer<"/api/v1/sites/{siteId}/commissioning", "get">>;
/** A credential's state on one lock. */
export type SyncRow = ItemOf<ApiAnswer<"/api/v1/credentials/{credentialId}/sync", "get">>;
export type SyncStateName = SyncRow["state"];

/** Demo mode: a demo door's virtual lock and what its hardware shows. */
export type DemoDoor = ItemOf<ApiAnswer<"/api/v1/sites/{siteId}/demo", "get">>;
export type DemoInput = ApiBody<"/api/v1/doors/{doorId}/demo", "post">;
export type DemoOutcome = ApiAnswer<"/api/v1/doors/{doorId}/demo", "post">;

/** A page of a site's lock-signed events (GET /sites/:siteId/events). */
export type DoorEventPage = ApiAnswer<"/api/v1/sites/{siteId}/events", "get">;
export type DoorEvent = ItemOf<DoorEventPage>;
export type EventOutcome = DoorEvent["outcome"];

/** The account's own sessions and passkeys (account-devices.ts). */
export type AccountSession = ItemOf<ApiAnswer<"/api/v1/account/sessions", "get">>;
export type AccountPasskey = ItemOf<ApiAnswer<"/api/v1/account/passkeys", "get">>;

/** A site's alert (alerts.ts); its `kind` is a string, so a newer hub's kinds still arrive. */
export type SiteAlert = ItemOf<ApiAnswer<"/api/v1/sites/{siteId}/alerts", "get">>;

/**
 * Unlock requests and the lock's challenge for approving one (approvals.ts). A request's `result`
 * is the lock's last answer ("OK" when it opened, a LOCK_* refusal, or HUB_LOCK_OFFLINE); its
 * `snapshotHash` is only the hub's word: approving hashes the snapshot bytes the page shows.
 */
export type UnlockRequest = ApiAnswer<"/api/v1/doors/{doorId}/unlock-requests", "post">;
export type UnlockRequestStatus = UnlockRequest["status"];
export type ChallengeOffer = ApiAnswer<
  "/api/v1/sites/{siteId}/unlock-requests/{requestId}/challenge",
  "post"
>;

/** A door's doorbell webhook: its state, and the token shown once when it is created. */
export type DoorbellStatus = ApiAnswer<"/api/v1/doors/{doorId}/doorbell", "get">;
export type CreatedDoorbell = ApiAnswer<"/api/v1/doors/{doorId}/doorbell", "post">;

/** What a guest link shows, once (POST /guest/open). */
export type GuestView = ApiAnswer<"/api/v1/guest/open", "post">;
