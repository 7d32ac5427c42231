import type { ErrorDefinition } from "./error.js";

/** Noise handshakes, transport framing and replay protection (prefix `NOISE_`). */
export const NOISE_ERRORS = {
  NOISE_FRAME_TOO_LARGE: {
    status: 413,
    blame: "input",
    description: "A received channel frame is longer than the session's frame size limit.",
  },
  NOISE_FRAME_UNSUPPORTED: {
    status: 400,
    blame: "input",
    description: "A channel frame has an unknown version, frame type, Noise pattern or cipher id.",
  },
  NOISE_UNEXPECTED_FRAME: {
    status: 400,
    blame: "input",
    description:
      "A channel frame arrived in the wrong phase (handshake frame after the handshake, data before it, or a handshake message out of turn).",
  },
  NOISE_PROTOCOL_MISMATCH: {
    status: 400,
    blame: "input",
    description: "A handshake frame names a Noise pattern or cipher other than the one this session runs.",
  },
  NOISE_HANDSHAKE_AUTH_FAILED: {
    status: 401,
    blame: "input",
    description:
      "A Noise handshake message failed authentication (tampered, or encrypted to a different static key).",
  },
  NOISE_HANDSHAKE_BAD_KEY: {
    status: 400,
    blame: "input",
    description:
      "A Noise handshake message carries an X25519 public key that gives no shared secret (low order).",
  },
  NOISE_HANDSHAKE_REPLAYED: {
    status: 409,
    blame: "input",
    description:
      "A first handshake message carries a handshake counter not above the highest this responder has accepted from that initiator (a replay, even across restarts).",
  },
  NOISE_HELLO_INVALID: {
    status: 400,
    blame: "input",
    description:
      "A handshake payload is not the expected hello/identity record (handshake messages carry no commands).",
  },
  NOISE_APP_PROTOCOL_MISMATCH: {
    status: 400,
    blame: "input",
    description: "The peer's hello names a different application protocol than this session speaks.",
  },
  NOISE_PEER_NOT_ALLOWED: {
    status: 403,
    blame: "input",
    description:
      "The peer's static key (and identity proof) was refused by the session's authorisation policy.",
  },
  NOISE_SESSION_MISMATCH: {
    status: 400,
    blame: "input",
    description:
      "A transport frame carries another session's tag (a frame from a previous or parallel session).",
  },
  NOISE_FRAME_REPLAYED: {
    status: 409,
    blame: "input",
    description: "A transport frame's counter was already accepted in this session (replay).",
  },
  NOISE_FRAME_TOO_OLD: {
    status: 409,
    blame: "input",
    description: "A transport frame's counter lies behind the replay window, so freshness cannot be checked.",
  },
  NOISE_EPOCH_OUT_OF_RANGE: {
    status: 400,
    blame: "input",
    description: "A transport frame names a key epoch that is retired or too far ahead of the current one.",
  },
  NOISE_FRAME_AUTH_FAILED: {
    status: 401,
    blame: "input",
    description: "A transport frame failed AEAD authentication (tampered, truncated or from other keys).",
  },
  NOISE_FRAME_AFTER_CLOSE: {
    status: 409,
    blame: "input",
    description: "A frame arrived after the session was closed; nothing is accepted after close.",
  },
  NOISE_SESSION_CLOSED: {
    status: 409,
    blame: "caller",
    description: "The caller tried to send on a session that is closed.",
  },
  NOISE_WRONG_STATE: {
    status: 409,
    blame: "caller",
    description: "The caller used a handshake or session operation in the wrong phase or out of turn.",
  },
  NOISE_PAYLOAD_TOO_LARGE: {
    status: 413,
    blame: "caller",
    description: "A message to send does not fit in one frame under the negotiated frame size limit.",
  },
  NOISE_CONFIG_INVALID: {
    status: 400,
    blame: "caller",
    description:
      "A Noise handshake or session was configured wrongly (key length, missing remote key or policy, bad limit).",
  },
  NOISE_COUNTER_EXHAUSTED: {
    status: 409,
    blame: "caller",
    description:
      "A session's 64-bit frame counter space (limited to 2^53-1) is used up; start a new session.",
  },
} as const satisfies Record<string, ErrorDefinition>;
