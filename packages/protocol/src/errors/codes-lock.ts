import type { ErrorDefinition } from "./error.js";

/** The lock runtime: users, credentials, schedules, access decisions, hardware (prefix `LOCK_`). */
export const LOCK_ERRORS = {} as const satisfies Record<string, ErrorDefinition>;
