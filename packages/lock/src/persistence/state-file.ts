/**
 * What the lock must remember across reboots besides its keys and journal, in two files:
 *  - `state.json`: configuration — settings, users, credentials (PINs only as keyed hashes, card
 *    keys sealed), schedules. Written on administrative changes.
 *  - `counters.json`: small, written on every grant or counted denial — use counts and first-use
 *    times, the wrong-code counter and lockout, the bolt position, the battery stage, boot count. Loaded through the same validators as the admin API, so a damaged file is
 * refused (LOCK_STATE_CORRUPT) rather than half-trusted.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CredentialRule,
  enumName,
  enumValue,
  LatchkeyError,
  OperatingMode,
  UserType,
  type CredentialIndex,
  type UserIndex,
} from "@latchkey/protocol";
import { writeFileAtomic } from "./atomic-file.js";
import { openSecret, sealSecret } from "./secret-wrap.js";
import type { LockoutState } from "../access/lockout.js";
import type { Credential } from "../credentials/credential.js";
import type { BoltState } from "../hardware/hal.js";
import type { BatteryStage } from "../hardware/sensor-alarms.js";
import type { ScheduleSnapshot } from "../schedules/schedule-book.js";
import type { LockSettings } from "../settings/settings.js";
import type { UserUsageEntry } from "../users/user-book.js";
import type { User } from "../users/user.js";

export const STATE_FILE = "state.json";
export const COUNTERS_FILE = "counters.json";
const STATE_VERSION = 1;

export interface LockCounters {
  readonly bootCount: number;
  readonly bolt: BoltState;
  readonly usage: readonly UserUsageEntry[];
  readonly lockout: LockoutState;
  readonly batteryStage: BatteryStage;
}

export interface LockStateSnapshot extends LockCounters, ScheduleSnapshot {
  readonly settings: LockSettings;
  readonly users: readonly User[];
  readonly credentials: readonly Credential[];
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function credentialToJson(c: Credential, wrapKey: Uint8Array): Json {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
  switch (c.type) {
    case "PIN":
      return { type: c.type, index: c.index, userIndex: c.userIndex, hash: hex(c.hash) };
    case "RFID":
      return {
        type: c.type,
        index: c.index,
        userIndex: c.userIndex,
        uid: hex(c.uid),
        sealedKey: c.key === undefined ? null : hex(sealSecret(wrapKey, c.uid, c.key)),
      };
    case "Fingerprint":
      return { type: c.type, index: c.index, userIndex: c.userIndex, templateRef: c.templateRef };
    case "PhoneKey":
      return {
        type: c.type,
        index: c.index,
        userIndex: c.userIndex,
        algorithm: c.algorithm,
        publicKey: hex(c.publicKey),
      };
  }
}

/** Enum values are written by name, so the file reads as it always has and as people read it. */
function nameOf(e: Readonly<Record<string, number>>, value: number): string {
  return enumName(e, value) ?? corrupt(`enum value ${value} has no name`);
}

function record<T>(v: T, what: string): T {
  return typeof v === "object" && v !== null ? v : corrupt(`${what} is not an object`);
}

function valueOf<E extends Readonly<Record<string, number>>>(e: E, name: unknown, field: string): E[keyof E] {
  const value = typeof name === "string" ? enumValue(e, name) : undefined;
  return value ?? corrupt(`${field} is unknown`);
}

function corrupt(message: string, cause?: unknown): never {
  throw new LatchkeyError("LOCK_STATE_CORRUPT", `lock state: ${message}`, { file: STATE_FILE }, { cause });
}

function fromHexField(v: unknown, field: string): Uint8Array {
  if (typeof v !== "string" || !/^([0-9a-f]{2})*$/.test(v)) corrupt(`${field} is not hex`);
  return new Uint8Array(Buffer.from(v, "hex"));
}

function credentialFromJson(v: unknown, wrapKey: Uint8Array): Credential {
  if (typeof v !== "object" || v === null) corrupt("credential is not an object");
  const o = v as Record<string, unknown>;
  const index = o.index as CredentialIndex;
  const userIndex = o.userIndex as UserIndex;
  if (!Number.isInteger(index) || !Number.isInteger(userIndex)) corrupt("credential index is not an integer");
  switch (o.type) {
    case "PIN":
      return { type: "PIN", index, userIndex, hash: fromHexField(o.hash, "hash") };
    case "RFID": {
      const uid = fromHexField(o.uid, "uid");
      return o.sealedKey === null || o.sealedKey === undefined
        ? { type: "RFID", index, userIndex, uid }
        : {
            type: "RFID",
            index,
            userIndex,
            uid,
            key: openSecret(wrapKey, uid, fromHexField(o.sealedKey, "sealedKey")),
          };
    }
    case "Fingerprint":
      return { type: "Fingerprint", index, userIndex, templateRef: Number(o.templateRef) };
    case "PhoneKey":
      if (o.algorithm !== "Ed25519" && o.algorithm !== "P-256") corrupt("phone key algorithm unknown");
      return {
        type: "PhoneKey",
        index,
        userIndex,
        algorithm: o.algorithm,
        publicKey: fromHexField(o.publicKey, "publicKey"),
      };
    default:
      return corrupt("credential type unknown");
  }
}

/** `wrapKey` seals challenge-card keys (see secret-wrap.ts). */
export function saveState(dir: string, s: LockStateSnapshot, wrapKey: Uint8Array): void {
  const json = {
    version: STATE_VERSION,
    settings: { ...s.settings, operatingMode: nameOf(OperatingMode, s.settings.operatingMode) },
    users: s.users.map((u) => ({
      ...u,
      type: nameOf(UserType, u.type),
      credentialRule: nameOf(CredentialRule, u.credentialRule),
    })),
    credentials: s.credentials.map((c) => credentialToJson(c, wrapKey)),
    weekDay: s.weekDay,
    yearDay: s.yearDay,
    holidays: s.holidays.map((h) => ({ ...h, operatingMode: nameOf(OperatingMode, h.operatingMode) })),
  };
  writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(json, null, 1) + "\n");
}

export function saveCounters(dir: string, c: LockCounters): void {
  const json = {
    version: STATE_VERSION,
    bootCount: c.bootCount,
    bolt: c.bolt,
    usage: c.usage,
    lockout: c.lockout,
    batteryStage: c.batteryStage,
  };
  writeFileAtomic(join(dir, COUNTERS_FILE), JSON.stringify(json) + "\n");
}

function readJson(path: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    return corrupt(`${name} is not valid JSON`, e);
  }
  if (typeof parsed !== "object" || parsed === null) corrupt(`${name} is not an object`);
  const o = parsed as Record<string, unknown>;
  if (o.version !== STATE_VERSION) corrupt(`${name} has an unknown version`);
  return o;
}

/** The raw snapshot (not yet validated field by field; the runtime rebuilds it through its validators). */
export function loadState(dir: string, wrapKey: Uint8Array): LockStateSnapshot | null {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return null;
  const config = readJson(path, STATE_FILE);
  const countersPath = join(dir, COUNTERS_FILE);
  // Counters are written after the first state.json; a crash in between leaves fresh counters.
  const counters = existsSync(countersPath)
    ? readJson(countersPath, COUNTERS_FILE)
    : {
        bootCount: 0,
        bolt: "Locked",
        usage: [],
        lockout: { failedAttempts: 0, endsAtWallMs: null, durationMs: 0 },
        batteryStage: 0,
      };
  const o = { ...config, ...counters };
  for (const key of ["users", "credentials", "weekDay", "yearDay", "holidays", "usage"]) {
    if (!Array.isArray(o[key])) corrupt(`${key} is not a list`);
  }
  if (
    typeof o.settings !== "object" ||
    o.settings === null ||
    typeof o.lockout !== "object" ||
    typeof o.bootCount !== "number"
  ) {
    corrupt("settings, lockout or bootCount missing");
  }
  if (
    !["Locked", "Unlocked", "NotFullyLocked"].includes(String(o.bolt)) ||
    ![0, 1, 2, 3].includes(Number(o.batteryStage))
  ) {
    corrupt("bolt or batteryStage out of range");
  }
  const snapshot = o as unknown as LockStateSnapshot;
  return {
    ...snapshot,
    settings: {
      ...snapshot.settings,
      operatingMode: valueOf(OperatingMode, snapshot.settings.operatingMode, "operatingMode"),
    },
    users: snapshot.users.map((u) => ({
      ...record(u, "user"),
      type: valueOf(UserType, u.type, "user type"),
      credentialRule: valueOf(CredentialRule, u.credentialRule, "credential rule"),
    })),
    holidays: snapshot.holidays.map((h) => ({
      ...record(h, "holiday"),
      operatingMode: valueOf(OperatingMode, h.operatingMode, "holiday operatingMode"),
    })),
    credentials: (o.credentials as unknown[]).map((c) => credentialFromJson(c, wrapKey)),
  };
}
