import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../encoding/bytes.js";
import { LatchkeyError, isLatchkeyError } from "../errors/error.js";
import {
  MessageType,
  decodeCommAnnounce,
  decodeMessage,
  encodeMessage,
  type Message,
  type MessageKind,
} from "./catalogue.js";
import {
  CredentialRule,
  CredentialType,
  DaysMask,
  DoorState,
  LockState,
  OperatingMode,
  UserStatus,
  UserType,
} from "./enums.js";

const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof LatchkeyError) return e.code;
    throw e;
  }
  return "no error";
}

/** One golden case: a message, its request id, and the expected bytes as [hex, comment] rows. */
interface Golden {
  message: Message;
  requestId: number;
  bytes: [hex: string, comment: string][];
}

const goldens: Golden[] = [
  {
    message: { kind: "Result", code: "COMM_LOCKED_OUT", retryAfterMs: 60_000 },
    requestId: 1,
    bytes: [
      ["01", "envelope version 1"],
      ["0001", "type 0x0001 Result"],
      ["00000001", "request id 1"],
      ["0f", "code length 15"],
      [toHex(ascii("COMM_LOCKED_OUT")), 'code "COMM_LOCKED_OUT" (ASCII)'],
      ["0000ea60", "retryAfterMs 60000"],
    ],
  },
  {
    message: { kind: "CommHello", initiatorRandom: fill(32, 0x11) },
    requestId: 2,
    bytes: [
      ["01", "version 1"],
      ["0101", "type CommHello"],
      ["00000002", "request id 2"],
      ["11".repeat(32), "initiatorRandom: 32 bytes of 0x11"],
    ],
  },
  {
    message: {
      kind: "CommParams",
      responderRandom: fill(32, 0x22),
      iterations: 20_000,
      salt: fill(16, 0x33),
    },
    requestId: 2,
    bytes: [
      ["01", "version 1"],
      ["0102", "type CommParams"],
      ["00000002", "request id 2 (the reply repeats it)"],
      ["22".repeat(32), "responderRandom: 32 bytes of 0x22"],
      ["00004e20", "PBKDF2 iterations 20000"],
      ["10", "salt length 16"],
      ["33".repeat(16), "salt: 16 bytes of 0x33"],
    ],
  },
  {
    message: { kind: "CommPake1", shareP: Uint8Array.of(0x04, ...fill(64, 0x44)) },
    requestId: 3,
    bytes: [
      ["01", "version 1"],
      ["0103", "type CommPake1"],
      ["00000003", "request id 3"],
      ["04", "shareP: SEC1 uncompressed tag"],
      ["44".repeat(64), "shareP: x ‖ y (64 bytes of 0x44 here)"],
    ],
  },
  {
    message: { kind: "CommPake2", shareV: Uint8Array.of(0x04, ...fill(64, 0x55)), confirmV: fill(32, 0x66) },
    requestId: 3,
    bytes: [
      ["01", "version 1"],
      ["0104", "type CommPake2"],
      ["00000003", "request id 3"],
      ["04", "shareV: SEC1 uncompressed tag"],
      ["55".repeat(64), "shareV: x ‖ y"],
      ["66".repeat(32), "confirmV: HMAC-SHA256 tag, 32 bytes"],
    ],
  },
  {
    message: { kind: "CommPake3", confirmP: fill(32, 0x77), sealedKeys: fill(80, 0x88) },
    requestId: 4,
    bytes: [
      ["01", "version 1"],
      ["0105", "type CommPake3"],
      ["00000004", "request id 4"],
      ["77".repeat(32), "confirmP: HMAC-SHA256 tag, 32 bytes"],
      ["88".repeat(80), "sealedKeys: ChaCha20-Poly1305(owner key 32 ‖ hub static key 32) + 16-byte tag"],
    ],
  },
  {
    message: { kind: "CommLockIdentity", sealedIdentity: fill(80, 0x99) },
    requestId: 4,
    bytes: [
      ["01", "version 1"],
      ["0106", "type CommLockIdentity"],
      ["00000004", "request id 4"],
      ["99".repeat(80), "sealedIdentity: sealed(lock signing key 32 ‖ lock channel key 32) + tag"],
    ],
  },
  {
    message: { kind: "CommComplete", sealedConfirmation: fill(48, 0xaa) },
    requestId: 5,
    bytes: [
      ["01", "version 1"],
      ["0107", "type CommComplete"],
      ["00000005", "request id 5"],
      ["aa".repeat(48), "sealedConfirmation: sealed(SHA-256 of the identity) + tag"],
    ],
  },
  {
    message: { kind: "CommAnnounce", lockId: fromHex("000102030405060708090a0b0c0d0e0f") },
    requestId: 0,
    bytes: [
      ["01", "version 1"],
      ["0108", "type CommAnnounce"],
      ["00000000", "request id 0 (unsolicited)"],
      ["000102030405060708090a0b0c0d0e0f", "lockId: 16 bytes (SHA-256 of the lock's signing key, first 16)"],
    ],
  },
  {
    message: { kind: "Lock", sealedPin: new Uint8Array(0) },
    requestId: 0x01020304,
    bytes: [
      ["01", "version 1"],
      ["0201", "type Lock"],
      ["01020304", "request id 0x01020304"],
      ["00", "sealedPin length 0 (no PIN)"],
    ],
  },
  {
    message: { kind: "Unlock", timeoutSeconds: 30, sealedPin: fill(3, 0xbb) },
    requestId: 9,
    bytes: [
      ["01", "version 1"],
      ["0202", "type Unlock"],
      ["00000009", "request id 9"],
      ["001e", "timeoutSeconds 30"],
      ["03", "sealedPin length 3"],
      ["bbbbbb", "sealedPin (opaque, sealed to the lock)"],
    ],
  },
  {
    message: { kind: "UnlockChallengeRequest" },
    requestId: 10,
    bytes: [
      ["01", "version 1"],
      ["0203", "type UnlockChallengeRequest"],
      ["0000000a", "request id 10 (empty body)"],
    ],
  },
  {
    message: { kind: "UnlockChallenge", challenge: fill(32, 0xcc), validForMs: 60_000 },
    requestId: 10,
    bytes: [
      ["01", "version 1"],
      ["0204", "type UnlockChallenge"],
      ["0000000a", "request id 10"],
      ["cc".repeat(32), "challenge: 32 random bytes"],
      ["0000ea60", "validForMs 60000"],
    ],
  },
  {
    message: {
      kind: "UnlockWithAssertion",
      challenge: fill(32, 0x0c),
      proposalId: fill(16, 0x01),
      snapshotHash: fill(32, 0x02),
      certificate: fill(2, 0x03),
      authenticatorData: fill(37, 0x04),
      clientDataJSON: ascii("{}"),
      signature: fill(8, 0x05),
    },
    requestId: 11,
    bytes: [
      ["01", "version 1"],
      ["0205", "type UnlockWithAssertion"],
      ["0000000b", "request id 11"],
      ["0c".repeat(32), "challenge: the lock's nonce the intent was built on, 32 bytes"],
      ["01".repeat(16), "proposalId: 16 bytes (covered by the passkey via the intent)"],
      ["02".repeat(32), "snapshotHash: SHA-256, 32 bytes (covered by the passkey via the intent)"],
      ["0002", "certificate length 2"],
      ["0303", "certificate bytes (a digital key in reality)"],
      ["0025", "authenticatorData length 37"],
      ["04".repeat(37), "authenticatorData"],
      ["0002", "clientDataJSON length 2"],
      ["7b7d", 'clientDataJSON "{}"'],
      ["08", "signature length 8"],
      ["05".repeat(8), "signature (ES256 DER)"],
    ],
  },
  {
    message: {
      kind: "UnlockWithPhoneKey",
      certificate: fill(1, 0x06),
      challenge: fill(32, 0x07),
      signature: fill(64, 0x08),
    },
    requestId: 12,
    bytes: [
      ["01", "version 1"],
      ["0206", "type UnlockWithPhoneKey"],
      ["0000000c", "request id 12"],
      ["0001", "certificate length 1"],
      ["06", "certificate bytes"],
      ["07".repeat(32), "challenge: 32 bytes"],
      ["08".repeat(64), "signature: Ed25519, 64 bytes"],
    ],
  },
  {
    message: {
      kind: "SetUser",
      userIndex: 3,
      userType: UserType.WeekDayScheduleUser,
      userStatus: UserStatus.OccupiedEnabled,
      credentialRule: CredentialRule.Dual,
      uniqueId: null,
      expiringTimeoutMinutes: 0,
      name: "Ana",
    },
    requestId: 13,
    bytes: [
      ["01", "version 1"],
      ["0301", "type SetUser"],
      ["0000000d", "request id 13"],
      ["0003", "userIndex 3"],
      ["02", "userType WeekDayScheduleUser"],
      ["01", "userStatus OccupiedEnabled"],
      ["01", "credentialRule Dual"],
      ["ffffffff", "uniqueId null"],
      ["0000", "expiringTimeoutMinutes 0 (not an ExpiringUser)"],
      ["03", "name length 3"],
      ["416e61", 'name "Ana"'],
    ],
  },
  {
    message: { kind: "ClearUser", userIndex: 0xfffe },
    requestId: 14,
    bytes: [
      ["01", "version 1"],
      ["0302", "type ClearUser"],
      ["0000000e", "request id 14"],
      ["fffe", "userIndex 0xFFFE = all users"],
    ],
  },
  {
    message: {
      kind: "SetCredential",
      credentialType: CredentialType.PIN,
      credentialIndex: 2,
      userIndex: 3,
      sealedData: fill(4, 0xdd),
    },
    requestId: 15,
    bytes: [
      ["01", "version 1"],
      ["0303", "type SetCredential"],
      ["0000000f", "request id 15"],
      ["01", "credentialType PIN"],
      ["0002", "credentialIndex 2"],
      ["0003", "userIndex 3"],
      ["0004", "sealedData length 4"],
      ["dddddddd", "sealedData (PIN sealed to the lock's key; never in clear)"],
    ],
  },
  {
    message: { kind: "ClearCredential", credentialType: CredentialType.RFID, credentialIndex: 7 },
    requestId: 16,
    bytes: [
      ["01", "version 1"],
      ["0304", "type ClearCredential"],
      ["00000010", "request id 16"],
      ["02", "credentialType RFID"],
      ["0007", "credentialIndex 7"],
    ],
  },
  {
    message: {
      kind: "SetWeekDaySchedule",
      weekDayIndex: 1,
      userIndex: 3,
      daysMask: DaysMask.Friday,
      startHour: 10,
      startMinute: 0,
      endHour: 12,
      endMinute: 30,
    },
    requestId: 17,
    bytes: [
      ["01", "version 1"],
      ["0401", "type SetWeekDaySchedule"],
      ["00000011", "request id 17"],
      ["01", "weekDayIndex 1"],
      ["0003", "userIndex 3"],
      ["20", "daysMask Friday"],
      ["0a", "startHour 10"],
      ["00", "startMinute 0"],
      ["0c", "endHour 12"],
      ["1e", "endMinute 30"],
    ],
  },
  {
    message: { kind: "ClearWeekDaySchedule", weekDayIndex: 0xfe, userIndex: 3 },
    requestId: 18,
    bytes: [
      ["01", "version 1"],
      ["0402", "type ClearWeekDaySchedule"],
      ["00000012", "request id 18"],
      ["fe", "weekDayIndex 0xFE = all"],
      ["0003", "userIndex 3"],
    ],
  },
  {
    message: {
      kind: "SetYearDaySchedule",
      yearDayIndex: 2,
      userIndex: 4,
      localStartTime: 1_700_000_000,
      localEndTime: 1_700_086_400,
    },
    requestId: 19,
    bytes: [
      ["01", "version 1"],
      ["0403", "type SetYearDaySchedule"],
      ["00000013", "request id 19"],
      ["02", "yearDayIndex 2"],
      ["0004", "userIndex 4"],
      ["6553f100", "localStartTime 1700000000 s"],
      ["65554280", "localEndTime 1700086400 s"],
    ],
  },
  {
    message: { kind: "ClearYearDaySchedule", yearDayIndex: 2, userIndex: 4 },
    requestId: 20,
    bytes: [
      ["01", "version 1"],
      ["0404", "type ClearYearDaySchedule"],
      ["00000014", "request id 20"],
      ["02", "yearDayIndex 2"],
      ["0004", "userIndex 4"],
    ],
  },
  {
    message: {
      kind: "SetHolidaySchedule",
      holidayIndex: 1,
      localStartTime: 1_700_000_000,
      localEndTime: 1_700_086_400,
      operatingMode: OperatingMode.Vacation,
    },
    requestId: 21,
    bytes: [
      ["01", "version 1"],
      ["0405", "type SetHolidaySchedule"],
      ["00000015", "request id 21"],
      ["01", "holidayIndex 1"],
      ["6553f100", "localStartTime 1700000000 s"],
      ["65554280", "localEndTime 1700086400 s"],
      ["01", "operatingMode Vacation"],
    ],
  },
  {
    message: { kind: "ClearHolidaySchedule", holidayIndex: 1 },
    requestId: 22,
    bytes: [
      ["01", "version 1"],
      ["0406", "type ClearHolidaySchedule"],
      ["00000016", "request id 22"],
      ["01", "holidayIndex 1"],
    ],
  },
  {
    message: { kind: "SetTime", utcMs: 1_700_000_000_000, utcOffsetMinutes: -300 },
    requestId: 23,
    bytes: [
      ["01", "version 1"],
      ["0501", "type SetTime"],
      ["00000017", "request id 23"],
      ["0000018bcfe56800", "utcMs 1700000000000"],
      ["fed4", "utcOffsetMinutes −300 (two's complement)"],
    ],
  },
  {
    message: { kind: "SetTimeZone", timeZone: "Europe/Paris" },
    requestId: 29,
    bytes: [
      ["01", "version 1"],
      ["0504", "type SetTimeZone"],
      ["0000001d", "request id 29"],
      ["0c", "timeZone length 12"],
      [toHex(ascii("Europe/Paris")), 'timeZone "Europe/Paris" (UTF-8)'],
    ],
  },
  {
    message: { kind: "GetState" },
    requestId: 24,
    bytes: [
      ["01", "version 1"],
      ["0502", "type GetState"],
      ["00000018", "request id 24 (empty body)"],
    ],
  },
  {
    message: {
      kind: "StateReport",
      lockState: LockState.Locked,
      doorState: null,
      operatingMode: OperatingMode.Normal,
      batteryPercent: 87,
      lockTimeMs: null,
      lastSeq: 42,
      lastHash: fill(32, 0xee),
      revocationVersion: 5,
      securityCounter: 2,
      firmwareVersion: "1.2",
      pinPolicy: { minLength: 6, maxLength: 12, rejectRepeats: true, rejectRuns: true, rejectCommon: true },
    },
    requestId: 24,
    bytes: [
      ["01", "version 1"],
      ["0503", "type StateReport"],
      ["00000018", "request id 24"],
      ["01", "lockState Locked"],
      ["ff", "doorState null (no door sensor)"],
      ["00", "operatingMode Normal"],
      ["57", "batteryPercent 87"],
      ["0000000000000000", "lockTimeMs null (time unknown)"],
      ["000000000000002a", "lastSeq 42"],
      ["ee".repeat(32), "lastHash: SHA-256 of event 42"],
      ["0000000000000005", "revocationVersion 5"],
      ["00000002", "securityCounter 2"],
      ["03", "firmwareVersion length 3"],
      ["312e32", 'firmwareVersion "1.2"'],
      ["06", "pinPolicy.minLength 6"],
      ["0c", "pinPolicy.maxLength 12"],
      ["07", "pinPolicy flags: rejectRepeats (1) | rejectRuns (2) | rejectCommon (4)"],
    ],
  },
  {
    message: {
      kind: "StateReport",
      lockState: LockState.Unlocked,
      doorState: DoorState.DoorClosed,
      operatingMode: OperatingMode.Normal,
      batteryPercent: 100,
      lockTimeMs: null,
      lastSeq: 0,
      lastHash: fill(32, 0),
      revocationVersion: 0,
      securityCounter: 0,
      firmwareVersion: "",
      pinPolicy: { minLength: 8, maxLength: 12, rejectRepeats: true, rejectRuns: false, rejectCommon: true },
    },
    requestId: 25,
    bytes: [
      ["01", "version 1"],
      ["0503", "type StateReport"],
      ["00000019", "request id 25"],
      ["02", "lockState Unlocked"],
      ["01", "doorState DoorClosed"],
      ["00", "operatingMode Normal"],
      ["64", "batteryPercent 100"],
      ["0000000000000000", "lockTimeMs null (time unknown)"],
      ["0000000000000000", "lastSeq 0 (no event yet)"],
      ["00".repeat(32), "lastHash: none yet"],
      ["0000000000000000", "revocationVersion 0"],
      ["00000000", "securityCounter 0"],
      ["00", "firmwareVersion length 0"],
      ["08", "pinPolicy.minLength 8"],
      ["0c", "pinPolicy.maxLength 12"],
      ["05", "pinPolicy flags: rejectRepeats (1) | rejectCommon (4)"],
    ],
  },
  {
    message: { kind: "EventBatch", records: [fill(2, 0xf1), fill(1, 0xf2)] },
    requestId: 25,
    bytes: [
      ["01", "version 1"],
      ["0601", "type EventBatch"],
      ["00000019", "request id 25"],
      ["0002", "record count 2"],
      ["0002", "records[0] length 2"],
      ["f1f1", "records[0]: an encoded signed journal event (opaque here)"],
      ["0001", "records[1] length 1"],
      ["f2", "records[1]"],
    ],
  },
  {
    message: { kind: "EventAck", upToSeq: 42, hash: fill(32, 0xab) },
    requestId: 25,
    bytes: [
      ["01", "version 1"],
      ["0602", "type EventAck"],
      ["00000019", "request id 25"],
      ["000000000000002a", "upToSeq 42"],
      ["ab".repeat(32), "hash of event 42"],
    ],
  },
  {
    message: { kind: "CheckpointAck", treeSize: 1000, checkpointHash: fill(32, 0xcd) },
    requestId: 26,
    bytes: [
      ["01", "version 1"],
      ["0603", "type CheckpointAck"],
      ["0000001a", "request id 26"],
      ["00000000000003e8", "treeSize 1000"],
      ["cd".repeat(32), "checkpointHash: SHA-256 of the signed checkpoint"],
    ],
  },
  {
    message: { kind: "RevocationList", signedList: fill(3, 0xef) },
    requestId: 27,
    bytes: [
      ["01", "version 1"],
      ["0701", "type RevocationList"],
      ["0000001b", "request id 27"],
      ["00000003", "signedList length 3"],
      ["efefef", "signedList (a signed revocation list in reality)"],
    ],
  },
  {
    message: {
      kind: "FirmwareOffer",
      version: "2.0.1",
      securityCounter: 3,
      imageSize: 524_288,
      imageHash: fill(32, 0x5a),
      signedManifest: fill(2, 0x6b),
    },
    requestId: 28,
    bytes: [
      ["01", "version 1"],
      ["0702", "type FirmwareOffer"],
      ["0000001c", "request id 28"],
      ["05", "version length 5"],
      ["322e302e31", 'version "2.0.1"'],
      ["00000003", "securityCounter 3"],
      ["00080000", "imageSize 524288"],
      ["5a".repeat(32), "imageHash: SHA-256 of the image"],
      ["00000002", "signedManifest length 2"],
      ["6b6b", "signedManifest (opaque)"],
    ],
  },
];

describe("message catalogue: golden bytes", () => {
  it("covers every message type", () => {
    const covered = new Set(goldens.map((g) => g.message.kind));
    expect([...covered].sort()).toEqual((Object.keys(MessageType) as MessageKind[]).sort());
  });

  for (const g of goldens) {
    it(`${g.message.kind} encodes to its documented bytes and back`, () => {
      const expected = g.bytes.map(([hex]) => hex).join("");
      const encoded = encodeMessage(g.requestId, g.message);
      expect(toHex(encoded)).toBe(expected);
      const decoded = decodeMessage(fromHex(expected));
      expect(decoded.requestId).toBe(g.requestId);
      expect(decoded.version).toBe(1);
      expect(decoded.message).toEqual(g.message);
    });
  }
});

describe("message catalogue: refusals", () => {
  const valid = encodeMessage(7, { kind: "GetState" });

  it("refuses an unknown version with MSG_UNSUPPORTED_VERSION", () => {
    const b = valid.slice();
    b[0] = 2;
    expect(codeOf(() => decodeMessage(b))).toBe("MSG_UNSUPPORTED_VERSION");
  });

  it("refuses an unknown type with MSG_UNKNOWN_TYPE", () => {
    expect(codeOf(() => decodeMessage(fromHex("01" + "7777" + "00000001")))).toBe("MSG_UNKNOWN_TYPE");
  });

  it("refuses truncation and trailing bytes", () => {
    expect(codeOf(() => decodeMessage(valid.subarray(0, 5)))).toBe("LK_DECODE_TRUNCATED");
    expect(codeOf(() => decodeMessage(Uint8Array.of(...valid, 0)))).toBe("LK_DECODE_TRAILING");
  });

  it("refuses unknown enum values and out-of-range fields with MSG_INVALID_FIELD", () => {
    const setUser = goldens.find((g) => g.message.kind === "SetUser")!;
    const b = encodeMessage(1, setUser.message);
    b[9] = 42; // userType
    expect(codeOf(() => decodeMessage(b))).toBe("MSG_INVALID_FIELD");
    const week = encodeMessage(1, goldens.find((g) => g.message.kind === "SetWeekDaySchedule")!.message);
    week[11] = 24; // startHour (after version, type, request id, index, user, days)
    expect(codeOf(() => decodeMessage(week))).toBe("MSG_INVALID_FIELD");
    expect(
      codeOf(() =>
        encodeMessage(1, {
          kind: "CommParams",
          responderRandom: fill(32, 1),
          iterations: 10,
          salt: fill(16, 1),
        }),
      ),
    ).toBe("MSG_INVALID_FIELD");
  });

  it("refuses a StateReport PIN policy that is cut short, out of range or has unknown flags", () => {
    const report = goldens.filter((g) => g.message.kind === "StateReport")[1]!;
    const b = encodeMessage(25, report.message);
    expect(codeOf(() => decodeMessage(b.subarray(0, b.length - 1)))).toBe("LK_DECODE_TRUNCATED");
    for (const [at, value] of [
      [b.length - 3, 3], // minLength below 4
      [b.length - 2, 7], // maxLength below minLength
      [b.length - 1, 8], // an unknown flag
    ] as const) {
      const bad = b.slice();
      bad[at] = value;
      expect(codeOf(() => decodeMessage(bad))).toBe("MSG_INVALID_FIELD");
    }
  });

  it("refuses a CommAnnounce whose lock id is not 16 bytes", () => {
    expect(codeOf(() => encodeMessage(0, { kind: "CommAnnounce", lockId: fill(15, 1) }))).toBe(
      "MSG_INVALID_FIELD",
    );
    expect(codeOf(() => decodeMessage(fromHex("01" + "0108" + "00000000" + "01".repeat(15))))).toBe(
      "LK_DECODE_TRUNCATED",
    );
    expect(codeOf(() => decodeMessage(fromHex("01" + "0108" + "00000000" + "01".repeat(17))))).toBe(
      "LK_DECODE_TRAILING",
    );
  });

  it("decodeCommAnnounce gives the lock id of an announcement and null for anything else", () => {
    const id = fill(16, 0x42);
    expect(decodeCommAnnounce(encodeMessage(0, { kind: "CommAnnounce", lockId: id }))).toEqual(id);
    expect(decodeCommAnnounce(encodeMessage(0, { kind: "GetState" }))).toBeNull();
    expect(decodeCommAnnounce(fromHex("01" + "0108" + "00000000" + "42"))).toBeNull();
    expect(decodeCommAnnounce(new Uint8Array(0))).toBeNull();
  });

  it("refuses a SetTimeZone that is empty, over 64 bytes or not UTF-8", () => {
    expect(codeOf(() => encodeMessage(1, { kind: "SetTimeZone", timeZone: "" }))).toBe("MSG_INVALID_FIELD");
    expect(codeOf(() => encodeMessage(1, { kind: "SetTimeZone", timeZone: "x".repeat(65) }))).toBe(
      "MSG_INVALID_FIELD",
    );
    // 22 × "é" = 44 bytes is fine; 33 × "é" = 66 bytes is not.
    expect(codeOf(() => encodeMessage(1, { kind: "SetTimeZone", timeZone: "é".repeat(22) }))).toBe(
      "no error",
    );
    expect(codeOf(() => encodeMessage(1, { kind: "SetTimeZone", timeZone: "é".repeat(33) }))).toBe(
      "MSG_INVALID_FIELD",
    );
    expect(codeOf(() => decodeMessage(fromHex("01" + "0504" + "00000001" + "00")))).toBe("MSG_INVALID_FIELD");
    expect(codeOf(() => decodeMessage(fromHex("01" + "0504" + "00000001" + "41" + "00".repeat(65))))).toBe(
      "MSG_INVALID_FIELD",
    );
    expect(codeOf(() => decodeMessage(fromHex("01" + "0504" + "00000001" + "02" + "c328")))).toBe(
      "MSG_INVALID_FIELD",
    );
    // A leading byte-order mark is kept, so the message re-encodes to the same bytes.
    const bom = fromHex("01" + "0504" + "00000001" + "04" + "efbbbf41");
    expect(decodeMessage(bom).message).toEqual({ kind: "SetTimeZone", timeZone: "\ufeffA" });
    expect(toHex(encodeMessage(1, decodeMessage(bom).message))).toBe(toHex(bom));
  });

  it("refuses messages larger than one channel frame with MSG_TOO_LARGE, both ways", () => {
    const records = Array.from({ length: 17 }, () => fill(4000, 1));
    expect(codeOf(() => encodeMessage(1, { kind: "EventBatch", records }))).toBe("MSG_TOO_LARGE");
    expect(codeOf(() => decodeMessage(new Uint8Array(65_001)))).toBe("MSG_TOO_LARGE");
    expect(encodeMessage(1, { kind: "EventBatch", records: records.slice(0, 16) }).length).toBeLessThan(
      65_000,
    );
  });

  it("refuses a length prefix larger than the field's limit before reading it", () => {
    // EventBatch claiming 65535 records in a 13-byte message.
    expect(codeOf(() => decodeMessage(fromHex("01" + "0601" + "00000001" + "ffff")))).toBe(
      "MSG_INVALID_FIELD",
    );
    // RevocationList claiming 4 GiB (more than one frame).
    expect(codeOf(() => decodeMessage(fromHex("01" + "0701" + "00000001" + "ffffffff")))).toBe(
      "MSG_INVALID_FIELD",
    );
  });
});

describe("message catalogue: fuzzing", () => {
  const samples = goldens.map((g) => encodeMessage(g.requestId, g.message));

  /** Decoding never throws anything but a LatchkeyError, and anything accepted re-encodes identically. */
  function decodeSafely(bytes: Uint8Array): void {
    let env;
    try {
      env = decodeMessage(bytes);
    } catch (e) {
      if (!isLatchkeyError(e)) throw e;
      return;
    }
    expect(toHex(encodeMessage(env.requestId, env.message))).toBe(toHex(bytes));
  }

  it("survives random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => decodeSafely(b)),
      { numRuns: 2000 },
    );
  });

  it("survives random bodies behind every valid header", () => {
    const types = Object.values(MessageType);
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 200 }), (type, body) => {
        const b = new Uint8Array(7 + body.length);
        b[0] = 1;
        b[1] = type >> 8;
        b[2] = type & 0xff;
        b.set(body, 7);
        decodeSafely(b);
      }),
      { numRuns: 2000 },
    );
  });

  it("survives every truncation of every valid message", () => {
    for (const s of samples) {
      for (let n = 0; n < s.length; n++) {
        expect(() => decodeMessage(s.subarray(0, n))).toThrow(LatchkeyError);
      }
    }
  });

  it("survives extensions and bit flips of valid messages", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.nat(7),
        (s, extra, at, bit) => {
          expect(() => decodeMessage(Uint8Array.of(...s, ...extra))).toThrow(LatchkeyError);
          const flipped = s.slice();
          const i = at % flipped.length;
          flipped[i] = (flipped[i] ?? 0) ^ (1 << bit);
          decodeSafely(flipped);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
