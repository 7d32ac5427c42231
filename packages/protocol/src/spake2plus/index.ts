/** SPAKE2+ (RFC 9383) building blocks; most callers want `commissioning/` instead. */
export * as spake2plus from "./spake2plus.js";
