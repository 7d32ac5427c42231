import type { ErrorDefinition } from "./error.js";

/** Merkle ledger, signed notes, checkpoints and evidence bundles (prefix `LEDGER_`, `NOTE_`, `EVIDENCE_`). */
export const LEDGER_ERRORS = {} as const satisfies Record<string, ErrorDefinition>;
