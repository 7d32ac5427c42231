import type { ErrorDefinition } from "./error.js";

/** Evidence bundles, their verifier and the `latchkey verify` command (prefix `EVIDENCE_`). */
export const EVIDENCE_ERRORS = {} as const satisfies Record<string, ErrorDefinition>;
