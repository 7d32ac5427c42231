export { LatchkeyError, isLatchkeyError, type Blame, type ErrorDefinition } from "./error.js";
export { ERROR_DEFINITIONS, ERROR_CODES, type ErrorCode } from "./registry.js";
