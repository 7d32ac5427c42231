import type { ErrorDefinition } from "./error.js";

/** The hub server: HTTP API, accounts, sessions and the access model (prefix `HUB_`, `AUTH_`). */
export const HUB_ERRORS = {} as const satisfies Record<string, ErrorDefinition>;
