/** Everything a route needs: the domain's context plus what only the HTTP side holds. */
import type { Ledger } from "../ledger/index.js";
import type { PasswordHasher } from "../accounts/password-policy.js";
import type { LockService } from "../locks/service.js";
import type { DemoSite } from "../demo/demo-site.js";
import type { HubContext } from "../runtime/context.js";
import type { UnlockRequests } from "../approvals/service.js";
import type { Outbox } from "../outbound/outbox.js";

export interface ApiContext extends HubContext {
  readonly passwords: PasswordHasher;
  /** Cookies carry Secure (and the __Host- prefix) when the hub is reached over HTTPS. */
  readonly secureCookies: boolean;
  /** Locks, commissioning and sync; set once the device gateway runs (null before and in tools). */
  readonly devices: { service: LockService | null; demo: DemoSite | null; ledger: Ledger | null };
  /** Remote unlocks waiting for an approver (kept in memory, one store per hub). */
  readonly unlockRequests: UnlockRequests;
  /** Notifications on their way out (outbound/outbox.ts). */
  readonly outbox: Outbox;
}
