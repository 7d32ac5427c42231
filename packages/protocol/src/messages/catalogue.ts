/**
 * The message catalogue: every message between hub and lock and between phone and lock, carried
 * inside the secure channel (or, for commissioning, before one exists). Layout (big-endian):
 *
 *   envelope:  version u8 (=1) ‖ type u16 ‖ requestId u32 ‖ body
 *
 * A reply repeats the request's id. Each body is a fixed sequence of fields (see docs/messages.md);
 * `decodeMessage` checks every length before reading, rejects unknown versions/types and enum
 * values with stable codes, and refuses trailing bytes. Secrets never travel in clear here: PINs
 * and other credential data are opaque blobs sealed to the lock's key by the sender.
 */
import { ByteReader, ByteWriter } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { LOCK_ID_BYTES } from "../journal/codec.js";
import { checkPinPolicyShape, type PinPolicy } from "../credentials/pin-policy.js";
import {
  CredentialRule,
  CredentialType,
  DoorState,
  LockState,
  OperatingMode,
  UserStatus,
  UserType,
  isEnumValue,
} from "./enums.js";

export const MESSAGE_VERSION = 1;
/** version + type + request id. */
export const ENVELOPE_LENGTH = 7;

/** Type numbers: part of the wire format, never renumber or reuse. */
export const MessageType = {
  Result: 0x0001,
  CommHello: 0x0101,
  CommParams: 0x0102,
  CommPake1: 0x0103,
  CommPake2: 0x0104,
  CommPake3: 0x0105,
  CommLockIdentity: 0x0106,
  CommComplete: 0x0107,
  CommAnnounce: 0x0108,
  Lock: 0x0201,
  Unlock: 0x0202,
  UnlockChallengeRequest: 0x0203,
  UnlockChallenge: 0x0204,
  UnlockWithAssertion: 0x0205,
  UnlockWithPhoneKey: 0x0206,
  SetUser: 0x0301,
  ClearUser: 0x0302,
  SetCredential: 0x0303,
  ClearCredential: 0x0304,
  SetWeekDaySchedule: 0x0401,
  ClearWeekDaySchedule: 0x0402,
  SetYearDaySchedule: 0x0403,
  ClearYearDaySchedule: 0x0404,
  SetHolidaySchedule: 0x0405,
  ClearHolidaySchedule: 0x0406,
  SetTime: 0x0501,
  GetState: 0x0502,
  StateReport: 0x0503,
  SetTimeZone: 0x0504,
  EventBatch: 0x0601,
  EventAck: 0x0602,
  CheckpointAck: 0x0603,
  RevocationList: 0x0701,
  FirmwareOffer: 0x0702,
} as const;
export type MessageKind = keyof typeof MessageType;

/** Index value meaning "every entry" in Clear* messages (Matter uses 0xFFFE for users/credentials). */
export const CLEAR_ALL_USERS = 0xfffe;
export const CLEAR_ALL_CREDENTIALS = 0xfffe;
export const CLEAR_ALL_SCHEDULES = 0xfe;
/** Sealed commissioning payloads: 64-byte plaintext + 16-byte Poly1305 tag. */
export const COMM_SEALED_KEYS_LENGTH = 80;
/** Sealed completion: 32-byte hash + 16-byte tag. */
export const COMM_SEALED_COMPLETE_LENGTH = 48;

/**
 * The largest encoded message: one Noise transport frame carries at most 65 535 bytes including
 * the channel's header and tag, and messages are not fragmented. Senders split larger batches.
 */
export const MESSAGE_MAX_BYTES = 65_000;

export const MESSAGE_LIMITS = {
  resultCode: 64,
  sealedPin: 128,
  sealedCredential: 1024,
  userName: 32,
  certificate: 4096,
  authenticatorData: 1024,
  clientDataJSON: 2048,
  derSignature: 72,
  eventRecords: 1024,
  eventRecord: 4096,
  revocationList: MESSAGE_MAX_BYTES,
  firmwareVersion: 32,
  manifest: MESSAGE_MAX_BYTES,
  timeZone: 64,
} as const;

export type Message =
  /** Generic reply: "OK" or a stable error code (e.g. COMM_LOCKED_OUT), with an optional retry hint. */
  | { kind: "Result"; code: string; retryAfterMs: number }
  | { kind: "CommHello"; initiatorRandom: Uint8Array }
  | { kind: "CommParams"; responderRandom: Uint8Array; iterations: number; salt: Uint8Array }
  | { kind: "CommPake1"; shareP: Uint8Array }
  | { kind: "CommPake2"; shareV: Uint8Array; confirmV: Uint8Array }
  | { kind: "CommPake3"; confirmP: Uint8Array; sealedKeys: Uint8Array }
  | { kind: "CommLockIdentity"; sealedIdentity: Uint8Array }
  | { kind: "CommComplete"; sealedConfirmation: Uint8Array }
  /**
   * Lock → hub, in clear on the commissioning topic, from a lock waiting to be commissioned: "I am
   * here" (request id 0). Carries only the lock id, so the hub can list the lock; it proves
   * nothing (anyone can send one) — the setup code does, during commissioning.
   */
  | { kind: "CommAnnounce"; lockId: Uint8Array }
  | { kind: "Lock"; sealedPin: Uint8Array }
  | { kind: "Unlock"; timeoutSeconds: number; sealedPin: Uint8Array }
  | { kind: "UnlockChallengeRequest" }
  | { kind: "UnlockChallenge"; challenge: Uint8Array; validForMs: number }
  /**
   * A person's passkey approval of one proposal. The assertion's challenge is SHA-256 of the
   * remote-unlock intent built from `challenge` (the lock's nonce), `proposalId`, `snapshotHash`
   * and the lock's id (webauthn/unlock-intent.ts), so all three fields are covered by the signature.
   */
  | {
      kind: "UnlockWithAssertion";
      challenge: Uint8Array;
      proposalId: Uint8Array;
      snapshotHash: Uint8Array;
      certificate: Uint8Array;
      authenticatorData: Uint8Array;
      clientDataJSON: Uint8Array;
      signature: Uint8Array;
    }
  | { kind: "UnlockWithPhoneKey"; certificate: Uint8Array; challenge: Uint8Array; signature: Uint8Array }
  | {
      kind: "SetUser";
      userIndex: number;
      userType: UserType;
      userStatus: UserStatus;
      credentialRule: CredentialRule;
      /** Matter UserUniqueID; null when absent (0xFFFFFFFF on the wire). */
      uniqueId: number | null;
      /** ExpiringUser timeout in minutes (1–2880); 0 when the user is not an ExpiringUser. */
      expiringTimeoutMinutes: number;
      name: string;
    }
  | { kind: "ClearUser"; userIndex: number }
  | {
      kind: "SetCredential";
      credentialType: CredentialType;
      credentialIndex: number;
      userIndex: number;
      /** Credential data sealed to the lock's channel key; never a PIN in clear. */
      sealedData: Uint8Array;
    }
  | { kind: "ClearCredential"; credentialType: CredentialType; credentialIndex: number }
  | {
      kind: "SetWeekDaySchedule";
      weekDayIndex: number;
      userIndex: number;
      daysMask: number;
      startHour: number;
      startMinute: number;
      endHour: number;
      endMinute: number;
    }
  | { kind: "ClearWeekDaySchedule"; weekDayIndex: number; userIndex: number }
  | {
      kind: "SetYearDaySchedule";
      yearDayIndex: number;
      userIndex: number;
      /** Local time, seconds since 1970-01-01T00:00 local. */
      localStartTime: number;
      localEndTime: number;
    }
  | { kind: "ClearYearDaySchedule"; yearDayIndex: number; userIndex: number }
  | {
      kind: "SetHolidaySchedule";
      holidayIndex: number;
      localStartTime: number;
      localEndTime: number;
      operatingMode: OperatingMode;
    }
  | { kind: "ClearHolidaySchedule"; holidayIndex: number }
  | { kind: "SetTime"; utcMs: number; utcOffsetMinutes: number }
  /** The IANA time zone week-day schedules are evaluated in (e.g. "Europe/Paris"); 1–64 UTF-8 bytes. */
  | { kind: "SetTimeZone"; timeZone: string }
  | { kind: "GetState" }
  | {
      kind: "StateReport";
      lockState: LockState | null;
      doorState: DoorState | null;
      operatingMode: OperatingMode;
      batteryPercent: number | null;
      /** The lock's clock; null when it does not know the time. */
      lockTimeMs: number | null;
      lastSeq: number;
      lastHash: Uint8Array;
      revocationVersion: number;
      securityCounter: number;
      firmwareVersion: string;
      /** The PIN policy the lock applies when a PIN is set (the hub refuses a PIN it would refuse). */
      pinPolicy: PinPolicy;
    }
  | { kind: "EventBatch"; records: Uint8Array[] }
  | { kind: "EventAck"; upToSeq: number; hash: Uint8Array }
  | { kind: "CheckpointAck"; treeSize: number; checkpointHash: Uint8Array }
  | { kind: "RevocationList"; signedList: Uint8Array }
  | {
      kind: "FirmwareOffer";
      version: string;
      securityCounter: number;
      imageSize: number;
      imageHash: Uint8Array;
      signedManifest: Uint8Array;
    };

export type MessageOf<K extends MessageKind> = Extract<Message, { kind: K }>;

export interface Envelope<M extends Message = Message> {
  readonly version: number;
  readonly requestId: number;
  readonly message: M;
}

// ---------------------------------------------------------------------------------------------
// field helpers

function invalid(field: string, why: string, details: Record<string, string | number> = {}): never {
  throw new LatchkeyError("MSG_INVALID_FIELD", `message: ${field} ${why}`, { field, ...details });
}

function checkFixed(b: Uint8Array, n: number, field: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n)
    invalid(field, `must be ${n} bytes`, { length: b?.length ?? -1 });
}

function checkRange(v: number, min: number, max: number, field: string): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) invalid(field, `must be an integer in ${min}..${max}`);
}

function checkEnum(e: Readonly<Record<string, number>>, v: number, field: string): void {
  if (!isEnumValue(e, v)) invalid(field, "has an unknown value", { value: v });
}

function checkLength(b: Uint8Array, min: number, max: number, field: string): void {
  if (!(b instanceof Uint8Array) || b.length < min || b.length > max)
    invalid(field, `must be ${min}..${max} bytes`, { length: b?.length ?? -1 });
}

function readVar8(r: ByteReader, field: string, max: number): Uint8Array {
  const len = r.u8(`${field} length`);
  if (len > max) invalid(field, `is ${len} bytes, at most ${max} allowed`, { length: len });
  return r.bytesFixed(len, field);
}

function writeVar8(w: ByteWriter, b: Uint8Array): void {
  w.u8(b.length).bytes(b);
}

function readVar32(r: ByteReader, field: string, max: number): Uint8Array {
  const len = r.u32(`${field} length`);
  if (len > max) invalid(field, `is ${len} bytes, at most ${max} allowed`, { length: len });
  return r.bytesFixed(len, field);
}

function writeVar32(w: ByteWriter, b: Uint8Array): void {
  w.u32(b.length).bytes(b);
}

const utf8Encoder = new TextEncoder();

/** minLength u8 ‖ maxLength u8 ‖ flags u8 (1 repeats, 2 runs, 4 common; other bits zero). */
function readPinPolicy(r: ByteReader): PinPolicy {
  const minLength = r.u8("pinPolicy.minLength");
  const maxLength = r.u8("pinPolicy.maxLength");
  const flags = r.u8("pinPolicy.flags");
  if (flags > 7) invalid("pinPolicy", "unknown flag bits");
  const policy = {
    minLength,
    maxLength,
    rejectRepeats: (flags & 1) !== 0,
    rejectRuns: (flags & 2) !== 0,
    rejectCommon: (flags & 4) !== 0,
  };
  const shape = checkPinPolicyShape(policy);
  if (shape !== null) invalid("pinPolicy", shape);
  return policy;
}

function readUtf8Var8(r: ByteReader, field: string, max: number): string {
  const raw = readVar8(r, field, max);
  try {
    // ignoreBOM keeps a leading U+FEFF in the string, so every accepted body re-encodes identically.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return invalid(field, "is not valid UTF-8");
  }
}

const u16Max = 0xffff;
const u32Max = 0xffffffff;
const safeMax = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// per-type codecs: `check` validates a message (used on encode and after decode), `write` and
// `read` handle the body.

interface Codec<K extends MessageKind> {
  check(m: MessageOf<K>): void;
  write(w: ByteWriter, m: MessageOf<K>): void;
  read(r: ByteReader): MessageOf<K>;
}

type CodecTable = { [K in MessageKind]: Codec<K> };

const RESULT_CODE = /^(OK|[A-Z][A-Z0-9]*(_[A-Z0-9]+)+)$/;

const codecs: CodecTable = {
  Result: {
    check: (m) => {
      if (
        typeof m.code !== "string" ||
        !RESULT_CODE.test(m.code) ||
        m.code.length > MESSAGE_LIMITS.resultCode
      )
        invalid("code", "must be OK or an upper-case error code");
      checkRange(m.retryAfterMs, 0, u32Max, "retryAfterMs");
    },
    write: (w, m) => {
      writeVar8(w, utf8Encoder.encode(m.code));
      w.u32(m.retryAfterMs);
    },
    read: (r) => ({
      kind: "Result",
      code: readUtf8Var8(r, "code", MESSAGE_LIMITS.resultCode),
      retryAfterMs: r.u32("retryAfterMs"),
    }),
  },
  CommHello: {
    check: (m) => checkFixed(m.initiatorRandom, 32, "initiatorRandom"),
    write: (w, m) => void w.bytes(m.initiatorRandom),
    read: (r) => ({ kind: "CommHello", initiatorRandom: r.bytesFixed(32, "initiatorRandom") }),
  },
  CommParams: {
    check: (m) => {
      checkFixed(m.responderRandom, 32, "responderRandom");
      checkRange(m.iterations, 1000, 100_000, "iterations");
      checkLength(m.salt, 16, 32, "salt");
    },
    write: (w, m) => {
      w.bytes(m.responderRandom).u32(m.iterations);
      writeVar8(w, m.salt);
    },
    read: (r) => ({
      kind: "CommParams",
      responderRandom: r.bytesFixed(32, "responderRandom"),
      iterations: r.u32("iterations"),
      salt: readVar8(r, "salt", 32),
    }),
  },
  CommPake1: {
    check: (m) => checkFixed(m.shareP, 65, "shareP"),
    write: (w, m) => void w.bytes(m.shareP),
    read: (r) => ({ kind: "CommPake1", shareP: r.bytesFixed(65, "shareP") }),
  },
  CommPake2: {
    check: (m) => {
      checkFixed(m.shareV, 65, "shareV");
      checkFixed(m.confirmV, 32, "confirmV");
    },
    write: (w, m) => void w.bytes(m.shareV).bytes(m.confirmV),
    read: (r) => ({
      kind: "CommPake2",
      shareV: r.bytesFixed(65, "shareV"),
      confirmV: r.bytesFixed(32, "confirmV"),
    }),
  },
  CommPake3: {
    check: (m) => {
      checkFixed(m.confirmP, 32, "confirmP");
      checkFixed(m.sealedKeys, COMM_SEALED_KEYS_LENGTH, "sealedKeys");
    },
    write: (w, m) => void w.bytes(m.confirmP).bytes(m.sealedKeys),
    read: (r) => ({
      kind: "CommPake3",
      confirmP: r.bytesFixed(32, "confirmP"),
      sealedKeys: r.bytesFixed(COMM_SEALED_KEYS_LENGTH, "sealedKeys"),
    }),
  },
  CommLockIdentity: {
    check: (m) => checkFixed(m.sealedIdentity, COMM_SEALED_KEYS_LENGTH, "sealedIdentity"),
    write: (w, m) => void w.bytes(m.sealedIdentity),
    read: (r) => ({
      kind: "CommLockIdentity",
      sealedIdentity: r.bytesFixed(COMM_SEALED_KEYS_LENGTH, "sealedIdentity"),
    }),
  },
  CommComplete: {
    check: (m) => checkFixed(m.sealedConfirmation, COMM_SEALED_COMPLETE_LENGTH, "sealedConfirmation"),
    write: (w, m) => void w.bytes(m.sealedConfirmation),
    read: (r) => ({
      kind: "CommComplete",
      sealedConfirmation: r.bytesFixed(COMM_SEALED_COMPLETE_LENGTH, "sealedConfirmation"),
    }),
  },
  CommAnnounce: {
    check: (m) => checkFixed(m.lockId, LOCK_ID_BYTES, "lockId"),
    write: (w, m) => void w.bytes(m.lockId),
    read: (r) => ({ kind: "CommAnnounce", lockId: r.bytesFixed(LOCK_ID_BYTES, "lockId") }),
  },
  Lock: {
    check: (m) => checkLength(m.sealedPin, 0, MESSAGE_LIMITS.sealedPin, "sealedPin"),
    write: (w, m) => writeVar8(w, m.sealedPin),
    read: (r) => ({ kind: "Lock", sealedPin: readVar8(r, "sealedPin", MESSAGE_LIMITS.sealedPin) }),
  },
  Unlock: {
    check: (m) => {
      checkRange(m.timeoutSeconds, 0, u16Max, "timeoutSeconds");
      checkLength(m.sealedPin, 0, MESSAGE_LIMITS.sealedPin, "sealedPin");
    },
    write: (w, m) => {
      w.u16(m.timeoutSeconds);
      writeVar8(w, m.sealedPin);
    },
    read: (r) => ({
      kind: "Unlock",
      timeoutSeconds: r.u16("timeoutSeconds"),
      sealedPin: readVar8(r, "sealedPin", MESSAGE_LIMITS.sealedPin),
    }),
  },
  UnlockChallengeRequest: {
    check: () => undefined,
    write: () => undefined,
    read: () => ({ kind: "UnlockChallengeRequest" }),
  },
  UnlockChallenge: {
    check: (m) => {
      checkFixed(m.challenge, 32, "challenge");
      checkRange(m.validForMs, 1, u32Max, "validForMs");
    },
    write: (w, m) => void w.bytes(m.challenge).u32(m.validForMs),
    read: (r) => ({
      kind: "UnlockChallenge",
      challenge: r.bytesFixed(32, "challenge"),
      validForMs: r.u32("validForMs"),
    }),
  },
  UnlockWithAssertion: {
    check: (m) => {
      checkFixed(m.challenge, 32, "challenge");
      checkFixed(m.proposalId, 16, "proposalId");
      checkFixed(m.snapshotHash, 32, "snapshotHash");
      checkLength(m.certificate, 1, MESSAGE_LIMITS.certificate, "certificate");
      checkLength(m.authenticatorData, 37, MESSAGE_LIMITS.authenticatorData, "authenticatorData");
      checkLength(m.clientDataJSON, 1, MESSAGE_LIMITS.clientDataJSON, "clientDataJSON");
      checkLength(m.signature, 8, MESSAGE_LIMITS.derSignature, "signature");
    },
    write: (w, m) => {
      w.bytes(m.challenge).bytes(m.proposalId).bytes(m.snapshotHash);
      w.bytesVar16(m.certificate).bytesVar16(m.authenticatorData).bytesVar16(m.clientDataJSON);
      writeVar8(w, m.signature);
    },
    read: (r) => ({
      kind: "UnlockWithAssertion",
      challenge: r.bytesFixed(32, "challenge"),
      proposalId: r.bytesFixed(16, "proposalId"),
      snapshotHash: r.bytesFixed(32, "snapshotHash"),
      certificate: r.bytesVar16("certificate", MESSAGE_LIMITS.certificate),
      authenticatorData: r.bytesVar16("authenticatorData", MESSAGE_LIMITS.authenticatorData),
      clientDataJSON: r.bytesVar16("clientDataJSON", MESSAGE_LIMITS.clientDataJSON),
      signature: readVar8(r, "signature", MESSAGE_LIMITS.derSignature),
    }),
  },
  UnlockWithPhoneKey: {
    check: (m) => {
      checkLength(m.certificate, 1, MESSAGE_LIMITS.certificate, "certificate");
      checkFixed(m.challenge, 32, "challenge");
      checkFixed(m.signature, 64, "signature");
    },
    write: (w, m) => void w.bytesVar16(m.certificate).bytes(m.challenge).bytes(m.signature),
    read: (r) => ({
      kind: "UnlockWithPhoneKey",
      certificate: r.bytesVar16("certificate", MESSAGE_LIMITS.certificate),
      challenge: r.bytesFixed(32, "challenge"),
      signature: r.bytesFixed(64, "signature"),
    }),
  },
  SetUser: {
    check: (m) => {
      checkRange(m.userIndex, 1, 0xfffd, "userIndex");
      checkEnum(UserType, m.userType, "userType");
      checkEnum(UserStatus, m.userStatus, "userStatus");
      checkEnum(CredentialRule, m.credentialRule, "credentialRule");
      if (m.uniqueId !== null) checkRange(m.uniqueId, 0, u32Max - 1, "uniqueId");
      if (m.userType === UserType.ExpiringUser)
        checkRange(m.expiringTimeoutMinutes, 1, 2880, "expiringTimeoutMinutes");
      else checkRange(m.expiringTimeoutMinutes, 0, 0, "expiringTimeoutMinutes");
      if (typeof m.name !== "string" || utf8Encoder.encode(m.name).length > MESSAGE_LIMITS.userName)
        invalid("name", `must be at most ${MESSAGE_LIMITS.userName} UTF-8 bytes`);
    },
    write: (w, m) => {
      w.u16(m.userIndex).u8(m.userType).u8(m.userStatus).u8(m.credentialRule);
      w.u32(m.uniqueId ?? u32Max).u16(m.expiringTimeoutMinutes);
      writeVar8(w, utf8Encoder.encode(m.name));
    },
    read: (r) => {
      const userIndex = r.u16("userIndex");
      const userType = r.u8("userType") as UserType;
      const userStatus = r.u8("userStatus") as UserStatus;
      const credentialRule = r.u8("credentialRule") as CredentialRule;
      const rawUniqueId = r.u32("uniqueId");
      return {
        kind: "SetUser",
        userIndex,
        userType,
        userStatus,
        credentialRule,
        uniqueId: rawUniqueId === u32Max ? null : rawUniqueId,
        expiringTimeoutMinutes: r.u16("expiringTimeoutMinutes"),
        name: readUtf8Var8(r, "name", MESSAGE_LIMITS.userName),
      };
    },
  },
  ClearUser: {
    check: (m) => checkRange(m.userIndex, 1, CLEAR_ALL_USERS, "userIndex"),
    write: (w, m) => void w.u16(m.userIndex),
    read: (r) => ({ kind: "ClearUser", userIndex: r.u16("userIndex") }),
  },
  SetCredential: {
    check: (m) => {
      checkEnum(CredentialType, m.credentialType, "credentialType");
      checkRange(m.credentialIndex, 1, 0xfffd, "credentialIndex");
      checkRange(m.userIndex, 1, 0xfffd, "userIndex");
      checkLength(m.sealedData, 1, MESSAGE_LIMITS.sealedCredential, "sealedData");
    },
    write: (w, m) =>
      void w.u8(m.credentialType).u16(m.credentialIndex).u16(m.userIndex).bytesVar16(m.sealedData),
    read: (r) => ({
      kind: "SetCredential",
      credentialType: r.u8("credentialType") as CredentialType,
      credentialIndex: r.u16("credentialIndex"),
      userIndex: r.u16("userIndex"),
      sealedData: r.bytesVar16("sealedData", MESSAGE_LIMITS.sealedCredential),
    }),
  },
  ClearCredential: {
    check: (m) => {
      checkEnum(CredentialType, m.credentialType, "credentialType");
      checkRange(m.credentialIndex, 1, CLEAR_ALL_CREDENTIALS, "credentialIndex");
    },
    write: (w, m) => void w.u8(m.credentialType).u16(m.credentialIndex),
    read: (r) => ({
      kind: "ClearCredential",
      credentialType: r.u8("credentialType") as CredentialType,
      credentialIndex: r.u16("credentialIndex"),
    }),
  },
  SetWeekDaySchedule: {
    check: (m) => {
      checkRange(m.weekDayIndex, 1, 0xfd, "weekDayIndex");
      checkRange(m.userIndex, 1, 0xfffd, "userIndex");
      checkRange(m.daysMask, 1, 0x7f, "daysMask");
      checkRange(m.startHour, 0, 23, "startHour");
      checkRange(m.startMinute, 0, 59, "startMinute");
      checkRange(m.endHour, 0, 23, "endHour");
      checkRange(m.endMinute, 0, 59, "endMinute");
      // Matter: the end must be after the start on the same day.
      if (m.endHour * 60 + m.endMinute <= m.startHour * 60 + m.startMinute)
        invalid("endHour", "must be after start");
    },
    write: (w, m) =>
      void w
        .u8(m.weekDayIndex)
        .u16(m.userIndex)
        .u8(m.daysMask)
        .u8(m.startHour)
        .u8(m.startMinute)
        .u8(m.endHour)
        .u8(m.endMinute),
    read: (r) => ({
      kind: "SetWeekDaySchedule",
      weekDayIndex: r.u8("weekDayIndex"),
      userIndex: r.u16("userIndex"),
      daysMask: r.u8("daysMask"),
      startHour: r.u8("startHour"),
      startMinute: r.u8("startMinute"),
      endHour: r.u8("endHour"),
      endMinute: r.u8("endMinute"),
    }),
  },
  ClearWeekDaySchedule: {
    check: (m) => {
      checkRange(m.weekDayIndex, 1, CLEAR_ALL_SCHEDULES, "weekDayIndex");
      checkRange(m.userIndex, 1, 0xfffd, "userIndex");
    },
    write: (w, m) => void w.u8(m.weekDayIndex).u16(m.userIndex),
    read: (r) => ({
      kind: "ClearWeekDaySchedule",
      weekDayIndex: r.u8("weekDayIndex"),
      userIndex: r.u16("userIndex"),
    }),
  },
  SetYearDaySchedule: {
    check: (m) => {
      checkRange(m.yearDayIndex, 1, 0xfd, "yearDayIndex");
      checkRange(m.userIndex, 1, 0xfffd, "userIndex");
      checkRange(m.localStartTime, 0, u32Max, "localStartTime");
      checkRange(m.localEndTime, 0, u32Max, "localEndTime");
      if (m.localEndTime <= m.localStartTime) invalid("localEndTime", "must be after localStartTime");
    },
    write: (w, m) => void w.u8(m.yearDayIndex).u16(m.userIndex).u32(m.localStartTime).u32(m.localEndTime),
    read: (r) => ({
      kind: "SetYearDaySchedule",
      yearDayIndex: r.u8("yearDayIndex"),
      userIndex: r.u16("userIndex"),
      localStartTime: r.u32("localStartTime"),
      localEndTime: r.u32("localEndTime"),
    }),
  },
  ClearYearDaySchedule: {
    check: (m) => {
      checkRange(m.yearDayIndex, 1, CLEAR_ALL_SCHEDULES, "yearDayIndex");
      checkRange(m.userIndex, 1, 0xfffd, "userIndex");
    },
    write: (w, m) => void w.u8(m.yearDayIndex).u16(m.userIndex),
    read: (r) => ({
      kind: "ClearYearDaySchedule",
      yearDayIndex: r.u8("yearDayIndex"),
      userIndex: r.u16("userIndex"),
    }),
  },
  SetHolidaySchedule: {
    check: (m) => {
      checkRange(m.holidayIndex, 1, 0xfd, "holidayIndex");
      checkRange(m.localStartTime, 0, u32Max, "localStartTime");
      checkRange(m.localEndTime, 0, u32Max, "localEndTime");
      if (m.localEndTime <= m.localStartTime) invalid("localEndTime", "must be after localStartTime");
      checkEnum(OperatingMode, m.operatingMode, "operatingMode");
    },
    write: (w, m) => void w.u8(m.holidayIndex).u32(m.localStartTime).u32(m.localEndTime).u8(m.operatingMode),
    read: (r) => ({
      kind: "SetHolidaySchedule",
      holidayIndex: r.u8("holidayIndex"),
      localStartTime: r.u32("localStartTime"),
      localEndTime: r.u32("localEndTime"),
      operatingMode: r.u8("operatingMode") as OperatingMode,
    }),
  },
  ClearHolidaySchedule: {
    check: (m) => checkRange(m.holidayIndex, 1, CLEAR_ALL_SCHEDULES, "holidayIndex"),
    write: (w, m) => void w.u8(m.holidayIndex),
    read: (r) => ({ kind: "ClearHolidaySchedule", holidayIndex: r.u8("holidayIndex") }),
  },
  SetTime: {
    check: (m) => {
      checkRange(m.utcMs, 0, safeMax, "utcMs");
      // UTC−12:00 … UTC+14:00, daylight saving included.
      checkRange(m.utcOffsetMinutes, -720, 840, "utcOffsetMinutes");
    },
    write: (w, m) => void w.u64(m.utcMs).u16(m.utcOffsetMinutes & 0xffff),
    read: (r) => {
      const utcMs = r.u64Number("utcMs");
      const raw = r.u16("utcOffsetMinutes");
      return { kind: "SetTime", utcMs, utcOffsetMinutes: raw >= 0x8000 ? raw - 0x10000 : raw };
    },
  },
  SetTimeZone: {
    check: (m) => {
      if (typeof m.timeZone !== "string") invalid("timeZone", "must be a string");
      const n = utf8Encoder.encode(m.timeZone).length;
      if (n < 1 || n > MESSAGE_LIMITS.timeZone)
        invalid("timeZone", `must be 1..${MESSAGE_LIMITS.timeZone} UTF-8 bytes`, { length: n });
    },
    write: (w, m) => writeVar8(w, utf8Encoder.encode(m.timeZone)),
    read: (r) => ({ kind: "SetTimeZone", timeZone: readUtf8Var8(r, "timeZone", MESSAGE_LIMITS.timeZone) }),
  },
  GetState: {
    check: () => undefined,
    write: () => undefined,
    read: () => ({ kind: "GetState" }),
  },
  StateReport: {
    check: (m) => {
      if (m.lockState !== null) checkEnum(LockState, m.lockState, "lockState");
      if (m.doorState !== null) checkEnum(DoorState, m.doorState, "doorState");
      checkEnum(OperatingMode, m.operatingMode, "operatingMode");
      if (m.batteryPercent !== null) checkRange(m.batteryPercent, 0, 100, "batteryPercent");
      if (m.lockTimeMs !== null) checkRange(m.lockTimeMs, 1, safeMax, "lockTimeMs");
      checkRange(m.lastSeq, 0, safeMax, "lastSeq");
      checkFixed(m.lastHash, 32, "lastHash");
      checkRange(m.revocationVersion, 0, safeMax, "revocationVersion");
      checkRange(m.securityCounter, 0, u32Max, "securityCounter");
      if (
        typeof m.firmwareVersion !== "string" ||
        utf8Encoder.encode(m.firmwareVersion).length > MESSAGE_LIMITS.firmwareVersion
      )
        invalid("firmwareVersion", `must be at most ${MESSAGE_LIMITS.firmwareVersion} UTF-8 bytes`);
      const shape = checkPinPolicyShape(m.pinPolicy);
      if (shape !== null) invalid("pinPolicy", shape);
    },
    write: (w, m) => {
      w.u8(m.lockState ?? 0xff)
        .u8(m.doorState ?? 0xff)
        .u8(m.operatingMode)
        .u8(m.batteryPercent ?? 0xff);
      w.u64(m.lockTimeMs ?? 0)
        .u64(m.lastSeq)
        .bytes(m.lastHash)
        .u64(m.revocationVersion)
        .u32(m.securityCounter);
      writeVar8(w, utf8Encoder.encode(m.firmwareVersion));
      const p = m.pinPolicy;
      w.u8(p.minLength)
        .u8(p.maxLength)
        .u8((p.rejectRepeats ? 1 : 0) | (p.rejectRuns ? 2 : 0) | (p.rejectCommon ? 4 : 0));
    },
    read: (r) => {
      const lockState = r.u8("lockState");
      const doorState = r.u8("doorState");
      const operatingMode = r.u8("operatingMode") as OperatingMode;
      const battery = r.u8("batteryPercent");
      const lockTimeMs = r.u64Number("lockTimeMs");
      return {
        kind: "StateReport",
        lockState: lockState === 0xff ? null : (lockState as LockState),
        doorState: doorState === 0xff ? null : (doorState as DoorState),
        operatingMode,
        batteryPercent: battery === 0xff ? null : battery,
        lockTimeMs: lockTimeMs === 0 ? null : lockTimeMs,
        lastSeq: r.u64Number("lastSeq"),
        lastHash: r.bytesFixed(32, "lastHash"),
        revocationVersion: r.u64Number("revocationVersion"),
        securityCounter: r.u32("securityCounter"),
        firmwareVersion: readUtf8Var8(r, "firmwareVersion", MESSAGE_LIMITS.firmwareVersion),
        pinPolicy: readPinPolicy(r),
      };
    },
  },
  EventBatch: {
    check: (m) => {
      if (!Array.isArray(m.records) || m.records.length > MESSAGE_LIMITS.eventRecords)
        invalid("records", `must hold at most ${MESSAGE_LIMITS.eventRecords} records`);
      m.records.forEach((rec, i) => checkLength(rec, 1, MESSAGE_LIMITS.eventRecord, `records[${i}]`));
    },
    write: (w, m) => {
      w.u16(m.records.length);
      for (const rec of m.records) w.bytesVar16(rec);
    },
    read: (r) => {
      const count = r.u16("record count");
      if (count > MESSAGE_LIMITS.eventRecords)
        invalid("records", `count ${count} exceeds ${MESSAGE_LIMITS.eventRecords}`);
      const records: Uint8Array[] = [];
      for (let i = 0; i < count; i++) records.push(r.bytesVar16(`records[${i}]`, MESSAGE_LIMITS.eventRecord));
      return { kind: "EventBatch", records };
    },
  },
  EventAck: {
    check: (m) => {
      checkRange(m.upToSeq, 1, safeMax, "upToSeq");
      checkFixed(m.hash, 32, "hash");
    },
    write: (w, m) => void w.u64(m.upToSeq).bytes(m.hash),
    read: (r) => ({ kind: "EventAck", upToSeq: r.u64Number("upToSeq"), hash: r.bytesFixed(32, "hash") }),
  },
  CheckpointAck: {
    check: (m) => {
      checkRange(m.treeSize, 1, safeMax, "treeSize");
      checkFixed(m.checkpointHash, 32, "checkpointHash");
    },
    write: (w, m) => void w.u64(m.treeSize).bytes(m.checkpointHash),
    read: (r) => ({
      kind: "CheckpointAck",
      treeSize: r.u64Number("treeSize"),
      checkpointHash: r.bytesFixed(32, "checkpointHash"),
    }),
  },
  RevocationList: {
    check: (m) => checkLength(m.signedList, 1, MESSAGE_LIMITS.revocationList, "signedList"),
    write: (w, m) => writeVar32(w, m.signedList),
    read: (r) => ({
      kind: "RevocationList",
      signedList: readVar32(r, "signedList", MESSAGE_LIMITS.revocationList),
    }),
  },
  FirmwareOffer: {
    check: (m) => {
      if (
        typeof m.version !== "string" ||
        m.version.length === 0 ||
        utf8Encoder.encode(m.version).length > MESSAGE_LIMITS.firmwareVersion
      )
        invalid("version", `must be 1..${MESSAGE_LIMITS.firmwareVersion} UTF-8 bytes`);
      checkRange(m.securityCounter, 0, u32Max, "securityCounter");
      checkRange(m.imageSize, 1, u32Max, "imageSize");
      checkFixed(m.imageHash, 32, "imageHash");
      checkLength(m.signedManifest, 1, MESSAGE_LIMITS.manifest, "signedManifest");
    },
    write: (w, m) => {
      writeVar8(w, utf8Encoder.encode(m.version));
      w.u32(m.securityCounter).u32(m.imageSize).bytes(m.imageHash);
      writeVar32(w, m.signedManifest);
    },
    read: (r) => ({
      kind: "FirmwareOffer",
      version: readUtf8Var8(r, "version", MESSAGE_LIMITS.firmwareVersion),
      securityCounter: r.u32("securityCounter"),
      imageSize: r.u32("imageSize"),
      imageHash: r.bytesFixed(32, "imageHash"),
      signedManifest: readVar32(r, "signedManifest", MESSAGE_LIMITS.manifest),
    }),
  },
};

const kindByType = new Map<number, MessageKind>(
  (Object.entries(MessageType) as [MessageKind, number][]).map(([k, t]) => [t, k]),
);

/** The table seen through one signature: each entry handles exactly the kind it is keyed by. */
interface AnyCodec {
  check(m: Message): void;
  write(w: ByteWriter, m: Message): void;
  read(r: ByteReader): Message;
}
const anyCodecs = codecs as unknown as Record<MessageKind, AnyCodec>;

/** Encodes a message in its envelope; throws MSG_INVALID_FIELD for a field out of range. */
export function encodeMessage(requestId: number, message: Message): Uint8Array {
  checkRange(requestId, 0, u32Max, "requestId");
  const kind = message.kind;
  const type = MessageType[kind];
  if (type === undefined)
    throw new LatchkeyError("MSG_UNKNOWN_TYPE", "message: unknown kind", { kind: String(kind) });
  const codec = anyCodecs[kind];
  codec.check(message);
  const w = new ByteWriter().u8(MESSAGE_VERSION).u16(type).u32(requestId);
  codec.write(w, message);
  const out = w.finish();
  if (out.length > MESSAGE_MAX_BYTES) {
    throw new LatchkeyError("MSG_TOO_LARGE", `message: ${kind} is ${out.length} bytes`, {
      kind,
      length: out.length,
      max: MESSAGE_MAX_BYTES,
    });
  }
  return out;
}

/**
 * Decodes one enveloped message. Never throws anything but a LatchkeyError: LK_DECODE_TRUNCATED /
 * LK_DECODE_TRAILING for lengths, MSG_UNSUPPORTED_VERSION, MSG_UNKNOWN_TYPE, MSG_INVALID_FIELD.
 */
export function decodeMessage(bytes: Uint8Array): Envelope {
  if (bytes.length > MESSAGE_MAX_BYTES) {
    throw new LatchkeyError("MSG_TOO_LARGE", `message is ${bytes.length} bytes`, {
      length: bytes.length,
      max: MESSAGE_MAX_BYTES,
    });
  }
  const r = new ByteReader(bytes, "message");
  const version = r.u8("version");
  if (version !== MESSAGE_VERSION) {
    throw new LatchkeyError("MSG_UNSUPPORTED_VERSION", `message: version ${version} is not supported`, {
      version,
    });
  }
  const type = r.u16("type");
  const requestId = r.u32("requestId");
  const kind = kindByType.get(type);
  if (kind === undefined)
    throw new LatchkeyError("MSG_UNKNOWN_TYPE", `message: unknown type ${type}`, { type });
  const codec = anyCodecs[kind];
  const message = codec.read(r);
  r.end();
  codec.check(message);
  return { version, requestId, message };
}

/** Decodes and insists on one kind (e.g. a commissioning step); MSG_UNKNOWN_TYPE otherwise. */
export function decodeMessageOf<K extends MessageKind>(
  bytes: Uint8Array,
  ...kinds: K[]
): Envelope<MessageOf<K>> {
  const env = decodeMessage(bytes);
  if (!(kinds as MessageKind[]).includes(env.message.kind)) {
    throw new LatchkeyError(
      "MSG_UNKNOWN_TYPE",
      `message: expected ${kinds.join(" or ")}, got ${env.message.kind}`,
      {
        expected: kinds.join(","),
        got: env.message.kind,
      },
    );
  }
  return env as Envelope<MessageOf<K>>;
}

/**
 * A lock's announcement on the commissioning topic → its 16-byte lock id, or null when `bytes`
 * are not a well-formed CommAnnounce (never throws). The id is a claim, not a proof.
 */
export function decodeCommAnnounce(bytes: Uint8Array): Uint8Array | null {
  try {
    const env = decodeMessage(bytes);
    return env.message.kind === "CommAnnounce" ? env.message.lockId : null;
  } catch (e) {
    if (e instanceof LatchkeyError) return null;
    throw e;
  }
}

/** The generic reply: "OK" or a stable error code. */
export function resultMessage(code: string, retryAfterMs = 0): MessageOf<"Result"> {
  return { kind: "Result", code, retryAfterMs };
}
