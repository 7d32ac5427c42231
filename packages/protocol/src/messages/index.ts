export * from "./enums.js";
export {
  CLEAR_ALL_CREDENTIALS,
  CLEAR_ALL_SCHEDULES,
  CLEAR_ALL_USERS,
  ENVELOPE_LENGTH,
  MESSAGE_LIMITS,
  MESSAGE_MAX_BYTES,
  MESSAGE_VERSION,
  MessageType,
  decodeMessage,
  decodeMessageOf,
  encodeMessage,
  resultMessage,
  type Envelope,
  type Message,
  type MessageKind,
  type MessageOf,
} from "./catalogue.js";
