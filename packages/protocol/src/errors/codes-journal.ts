import type { ErrorDefinition } from "./error.js";

/** Signed lock journal events: encoding, chain and signature verification, storage (prefix `JOURNAL_`). */
export const JOURNAL_ERRORS = {} as const satisfies Record<string, ErrorDefinition>;
