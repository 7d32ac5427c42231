/** Everything a route needs, built once per hub by `buildHub`. */
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../db/schema.js";
import type { Dialect } from "../db/migrations.js";
import type { HubConfig } from "../config/config.js";
import type { HubSecret } from "../keys/hub-secret.js";
import type { PasswordHasher } from "../accounts/password-policy.js";
import type { Throttle } from "../abuse/rate-limit.js";
import type { Metrics } from "./metrics.js";
import type { LockService } from "../locks/service.js";
import type { DemoSite } from "../demo/demo-site.js";
import type { Ledger } from "../ledger/index.js";

export interface HubContext {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly config: HubConfig;
  readonly secret: HubSecret;
  readonly passwords: PasswordHasher;
  readonly throttle: Throttle;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The browser-facing origin, e.g. "https://hub.local:8080". */
  readonly origin: string;
  /** The WebAuthn relying-party id (the origin's host name). */
  readonly rpId: string;
  /** Cookies carry Secure (and the __Host- prefix) when the hub is reached over HTTPS. */
  readonly secureCookies: boolean;
  now(): number;
  /** Locks, commissioning and sync; set once the device gateway runs (null before and in tools). */
  readonly devices: { service: LockService | null; demo: DemoSite | null; ledger: Ledger | null };
}
