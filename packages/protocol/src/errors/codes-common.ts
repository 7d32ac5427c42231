import type { ErrorDefinition } from "./error.js";

/** Errors shared by every area (prefix `LK_`). */
export const COMMON_ERRORS = {
  LK_INTERNAL: {
    status: 500,
    blame: "internal",
    description: "An unexpected failure inside Latchkey; a bug to report.",
  },
  LK_DECODE_TRUNCATED: {
    status: 400,
    blame: "input",
    description: "A binary record or frame ended before all of its declared fields were read.",
  },
  LK_DECODE_TRAILING: {
    status: 400,
    blame: "input",
    description: "A binary record or frame has bytes after its last field.",
  },
  LK_DECODE_INVALID: {
    status: 400,
    blame: "input",
    description: "A binary record or frame has a field with a value outside its allowed range.",
  },
} as const satisfies Record<string, ErrorDefinition>;
