export * from "./errors/index.js";
export * from "./encoding/bytes.js";
export * from "./units.js";
export * from "./journal/kinds.js";
export type { LockEvent, SignedLockEvent } from "./journal/event.js";
export { nobleEd25519, type Ed25519 } from "./crypto/ed25519.js";
