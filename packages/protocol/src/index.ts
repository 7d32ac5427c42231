export * from "./errors/index.js";
export * from "./encoding/bytes.js";
export * from "./units.js";
export * from "./journal/kinds.js";
export type { LockEvent, SignedLockEvent } from "./journal/event.js";
export { nobleEd25519, type Ed25519 } from "./crypto/ed25519.js";
export * from "./journal/codec.js";
export * from "./journal/verify.js";
export * from "./merkle/index.js";
export * from "./note/index.js";
export * from "./witness/index.js";
export * from "./spake2plus/index.js";
export * from "./commissioning/index.js";
export * from "./messages/index.js";
export * from "./certificates/index.js";
export * from "./webauthn/index.js";
export * from "./authority/index.js";
export * from "./sealed-secret/index.js";
export * from "./credentials/pin-policy.js";
export {
  ChannelSession,
  CHANNEL_CLOSE_REASON,
  DEFAULT_CHANNEL_LIMITS,
  isFrameRefusal,
  type ChannelLimits,
  type ChannelPeer,
  type ChannelReceived,
  type ChannelSessionOptions,
  type ChannelSessionPhase,
  type ChannelSessionStats,
} from "./channel/session.js";
export { SecureConnection, type ConnectionOptions } from "./channel/connection.js";
export { MemoryLink, type LinkConditions, type CapturedFrame } from "./channel/memory-transport.js";
export type { FrameTransport } from "./channel/transport.js";
export {
  ChannelFrame,
  CHANNEL_MAX_FRAME_BYTES,
  TRANSPORT_OVERHEAD,
  type HandshakeFrame,
  type TransportFrame,
} from "./channel/frame.js";
export {
  HandshakePayload,
  type ChannelHello,
  type ResponderHello,
  type HandshakeFinish,
} from "./channel/handshake-payload.js";
export {
  MemoryHandshakeFreshness,
  clockHandshakeCounter,
  type HandshakeFreshness,
} from "./channel/replay-guard.js";
export { nobleX25519, type X25519, type CipherName } from "./noise/suite.js";
export type { PatternName } from "./noise/patterns.js";
export * from "./evidence/index.js";
