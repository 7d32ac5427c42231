/**
 * The channel's wire frame. One frame is one unit of the underlying transport (a WebSocket or
 * MQTT message, a radio packet, or one length-prefixed record on TCP). All integers big-endian.
 *
 * Handshake frame (type 0x01), header 5 bytes:
 *   0  u8   version (1)
 *   1  u8   type 0x01
 *   2  u8   pattern id (1 XX, 2 IK, 3 KK)
 *   3  u8   cipher id (1 ChaChaPoly, 2 AESGCM)
 *   4  u8   handshake message index (0, 1, 2)
 *   5  …    the Noise handshake message
 *
 * Data frame (0x02) and close frame (0x03), header 18 bytes, all of it AEAD associated data:
 *   0  u8   version (1)
 *   1  u8   type
 *   2  u32  session tag (derived from the handshake hash; both directions use the same tag)
 *   6  u32  key epoch (how many times the sender has rekeyed)
 *  10  u64  counter (the AEAD nonce; strictly increasing per direction, never reset on rekey)
 *  18  …    ciphertext: payload + 16-byte tag (close payload: 1-byte reason)
 */
import { ByteReader, ByteWriter, concatBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import type { PatternName } from "../noise/patterns.js";
import { NOISE_MAX_MESSAGE, TAG_LEN, type CipherName } from "../noise/suite.js";

export const FRAME_VERSION = 1;
export const HANDSHAKE_HEADER_LEN = 5;
export const TRANSPORT_HEADER_LEN = 18;
/** Bytes a data frame adds to its payload: header + AEAD tag. */
export const TRANSPORT_OVERHEAD = TRANSPORT_HEADER_LEN + TAG_LEN;
/** The largest frame any session accepts (so every Noise message inside fits Noise's 65535 bytes). */
export const CHANNEL_MAX_FRAME_BYTES = NOISE_MAX_MESSAGE;

export const FRAME_TYPE = { handshake: 0x01, data: 0x02, close: 0x03 } as const;
export const PATTERN_ID: Readonly<Record<PatternName, number>> = { XX: 1, IK: 2, KK: 3 };
export const CIPHER_ID: Readonly<Record<CipherName, number>> = { ChaChaPoly: 1, AESGCM: 2 };

export interface HandshakeFrame {
  readonly type: "handshake";
  readonly pattern: PatternName;
  readonly cipher: CipherName;
  readonly index: number;
  readonly message: Uint8Array;
}

export interface TransportFrame {
  readonly type: "data" | "close";
  readonly sessionTag: number;
  readonly epoch: number;
  /** Carried as u64; values above 2^53-1 are refused (LK_DECODE_INVALID), no sender reaches them. */
  readonly counter: number;
  readonly ciphertext: Uint8Array;
}

export type ChannelFrame = HandshakeFrame | TransportFrame;

function lookup<K extends string>(table: Readonly<Record<K, number>>, id: number, field: string): K {
  for (const [name, value] of Object.entries(table) as [K, number][]) if (value === id) return name;
  throw new LatchkeyError("NOISE_FRAME_UNSUPPORTED", `channel frame: unknown ${field} ${id}`, { field, id });
}

export const ChannelFrame = {
  decode(bytes: Uint8Array): ChannelFrame {
    if (bytes.length > CHANNEL_MAX_FRAME_BYTES) {
      throw new LatchkeyError("NOISE_FRAME_TOO_LARGE", `channel frame is ${bytes.length} bytes`, {
        length: bytes.length,
        max: CHANNEL_MAX_FRAME_BYTES,
      });
    }
    const r = new ByteReader(bytes, "channel frame");
    const version = r.u8("version");
    if (version !== FRAME_VERSION) {
      throw new LatchkeyError("NOISE_FRAME_UNSUPPORTED", `channel frame: unknown version ${version}`, {
        field: "version",
        id: version,
      });
    }
    const type = r.u8("type");
    if (type === FRAME_TYPE.handshake) {
      const pattern = lookup(PATTERN_ID, r.u8("pattern"), "pattern");
      const cipher = lookup(CIPHER_ID, r.u8("cipher"), "cipher");
      const index = r.u8("handshake index");
      if (index > 2) {
        throw new LatchkeyError("LK_DECODE_INVALID", `channel frame: handshake index ${index} is above 2`, {
          field: "handshake index",
        });
      }
      return {
        type: "handshake",
        pattern,
        cipher,
        index,
        message: r.bytesFixed(r.remaining, "handshake message"),
      };
    }
    if (type === FRAME_TYPE.data || type === FRAME_TYPE.close) {
      const sessionTag = r.u32("session tag");
      const epoch = r.u32("key epoch");
      const counter = r.u64Number("counter");
      // The tag is mandatory; a shorter body is a truncated frame, not a forgery.
      const ciphertext = r.bytesFixed(Math.max(TAG_LEN, r.remaining), "ciphertext");
      r.end();
      return { type: type === FRAME_TYPE.data ? "data" : "close", sessionTag, epoch, counter, ciphertext };
    }
    throw new LatchkeyError("NOISE_FRAME_UNSUPPORTED", `channel frame: unknown type ${type}`, {
      field: "type",
      id: type,
    });
  },

  encode(frame: ChannelFrame): Uint8Array {
    if (frame.type === "handshake") {
      return new ByteWriter()
        .u8(FRAME_VERSION)
        .u8(FRAME_TYPE.handshake)
        .u8(PATTERN_ID[frame.pattern])
        .u8(CIPHER_ID[frame.cipher])
        .u8(frame.index)
        .bytes(frame.message)
        .finish();
    }
    return concatBytes(transportHeader(frame), frame.ciphertext);
  },
};

/** The 18-byte header of a data/close frame: written on the wire and used as AEAD associated data. */
export function transportHeader(frame: Omit<TransportFrame, "ciphertext">): Uint8Array {
  return new ByteWriter()
    .u8(FRAME_VERSION)
    .u8(FRAME_TYPE[frame.type])
    .u32(frame.sessionTag)
    .u32(frame.epoch)
    .u64(frame.counter)
    .finish();
}
