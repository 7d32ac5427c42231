/**
 * What the hub's domain modules share at run time, built once per hub by `buildHub`: the
 * database, configuration, keys, clock and the guards against guessing. Nothing here knows of
 * HTTP; the API adds what only routes need (`ApiContext` in api/context.ts).
 */
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../db/schema.js";
import type { Dialect } from "../db/migrations.js";
import type { HubConfig } from "../config/config.js";
import type { HubSecret } from "../keys/hub-secret.js";
import type { Throttle } from "../abuse/rate-limit.js";
import type { Metrics } from "./metrics.js";

/**
 * Told when what a site's locks should hold may have changed (grants, credentials, people,
 * doors), so the site is reconciled; the caller does not wait for the locks.
 */
export interface DesiredStateNotifier {
  siteChanged(siteId: string): void;
}

export interface HubContext {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly config: HubConfig;
  readonly secret: HubSecret;
  readonly throttle: Throttle;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The browser-facing origin, e.g. "https://hub.local:8080" (links the hub hands out). */
  readonly origin: string;
  /** The WebAuthn relying-party id (the origin's host name). */
  readonly rpId: string;
  now(): number;
  /** Told by each change to what a site's locks should hold, once the change has committed. */
  readonly desiredState: DesiredStateNotifier;
}
