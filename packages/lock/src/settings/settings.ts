/**
 * Lock settings with Matter names where Matter has them, their defaults and their ranges.
 * `applySettings` validates a whole patch before anything changes.
 */
import { isEnumValue, LatchkeyError, OperatingMode, PIN_LENGTH_LIMITS } from "@latchkey/protocol";
import { checkPinPolicyShape, DEFAULT_PIN_POLICY, type PinPolicy } from "../credentials/pin-policy.js";
import { checkTimeZone } from "../schedules/local-time.js";

export type PowerLossBehaviour = "fail-secure" | "fail-safe";

export interface LockSettings {
  /** IANA zone for week-day schedules. Default "UTC". */
  readonly timeZone: string;
  readonly operatingMode: OperatingMode;
  /** Matter WrongCodeEntryLimit: failed presentations before lockout, 1–255. Default 5. */
  readonly wrongCodeEntryLimit: number;
  /** Matter UserCodeTemporaryDisableTime: lockout length in seconds, 1–255. Default 60. */
  readonly userCodeTemporaryDisableTime: number;
  /** Matter AutoRelockTime in seconds, 0 = off, up to 86400. Default 30. */
  readonly autoRelockTime: number;
  /** Seconds the door may stay open before DoorAjar, 5–3600. Default 60. */
  readonly doorAjarTime: number;
  /** Seconds within which Dual/Tri credentials must all be presented, 3–120. Default 15. */
  readonly multiCredentialWindow: number;
  /** Matter RequirePINforRemoteOperation. Default false. */
  readonly requirePinForRemoteOperation: boolean;
  /** Battery warning thresholds (%), first and second. Defaults 20 and 10. */
  readonly batteryLowPercent: number;
  readonly batteryWarningPercent: number;
  /** Below this (%) the motor is not driven (emergency power still works). Default 5. */
  readonly batteryCriticalPercent: number;
  /** What the bolt does when power is lost. Default "fail-secure" (stays/gets locked). */
  readonly powerLossBehaviour: PowerLossBehaviour;
  /** Seconds a phone-key challenge stays valid, 5–300. Default 30. */
  readonly phoneChallengeTime: number;
  /**
   * Seconds of silence after which the lock signs a Heartbeat, 60–900. Default 300. Evidence
   * needs events at most 15 minutes apart to prove that nothing happened in between.
   */
  readonly heartbeatInterval: number;
  readonly minPinLength: number;
  readonly maxPinLength: number;
  readonly rejectRepeatedPins: boolean;
  readonly rejectRunPins: boolean;
  readonly rejectCommonPins: boolean;
}

export const DEFAULT_SETTINGS: LockSettings = {
  timeZone: "UTC",
  operatingMode: OperatingMode.Normal,
  wrongCodeEntryLimit: 5,
  userCodeTemporaryDisableTime: 60,
  autoRelockTime: 30,
  doorAjarTime: 60,
  multiCredentialWindow: 15,
  requirePinForRemoteOperation: false,
  batteryLowPercent: 20,
  batteryWarningPercent: 10,
  batteryCriticalPercent: 5,
  powerLossBehaviour: "fail-secure",
  phoneChallengeTime: 30,
  heartbeatInterval: 300,
  minPinLength: DEFAULT_PIN_POLICY.minLength,
  maxPinLength: DEFAULT_PIN_POLICY.maxLength,
  rejectRepeatedPins: true,
  rejectRunPins: true,
  rejectCommonPins: true,
};

export function pinPolicyOf(s: LockSettings): PinPolicy {
  return {
    minLength: s.minPinLength,
    maxLength: s.maxPinLength,
    rejectRepeats: s.rejectRepeatedPins,
    rejectRuns: s.rejectRunPins,
    rejectCommon: s.rejectCommonPins,
  };
}

function bad(setting: string, message: string): never {
  throw new LatchkeyError("LOCK_SETTING_INVALID", message, { setting });
}

const INT_RANGES: Partial<Record<keyof LockSettings, readonly [number, number]>> = {
  wrongCodeEntryLimit: [1, 255],
  userCodeTemporaryDisableTime: [1, 255],
  autoRelockTime: [0, 86400],
  doorAjarTime: [5, 3600],
  multiCredentialWindow: [3, 120],
  batteryLowPercent: [1, 100],
  batteryWarningPercent: [1, 100],
  batteryCriticalPercent: [0, 100],
  phoneChallengeTime: [5, 300],
  heartbeatInterval: [60, 900],
  minPinLength: [PIN_LENGTH_LIMITS.min, PIN_LENGTH_LIMITS.max],
  maxPinLength: [PIN_LENGTH_LIMITS.min, PIN_LENGTH_LIMITS.max],
};
const BOOLEANS = new Set<keyof LockSettings>([
  "requirePinForRemoteOperation",
  "rejectRepeatedPins",
  "rejectRunPins",
  "rejectCommonPins",
]);

/** Returns the settings with `patch` applied, or throws LOCK_SETTING_INVALID (nothing changes). */
export function applySettings(current: LockSettings, patch: Partial<LockSettings>): LockSettings {
  for (const key of Object.keys(patch)) {
    if (!(key in DEFAULT_SETTINGS)) bad(key, `unknown setting ${key}`);
  }
  const next = { ...current, ...patch };
  for (const [key, range] of Object.entries(INT_RANGES) as [
    keyof LockSettings,
    readonly [number, number],
  ][]) {
    const v = next[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      bad(key, `${key} must be an integer from ${range[0]} to ${range[1]}`);
    }
  }
  for (const key of BOOLEANS) if (typeof next[key] !== "boolean") bad(key, `${key} must be true or false`);
  if (typeof next.operatingMode !== "number" || !isEnumValue(OperatingMode, next.operatingMode))
    bad("operatingMode", "unknown operating mode");
  if (next.powerLossBehaviour !== "fail-secure" && next.powerLossBehaviour !== "fail-safe") {
    bad("powerLossBehaviour", "powerLossBehaviour must be fail-secure or fail-safe");
  }
  checkTimeZone(next.timeZone);
  const shape = checkPinPolicyShape(pinPolicyOf(next));
  if (shape !== null) bad("minPinLength", shape);
  if (!(
    next.batteryLowPercent > next.batteryWarningPercent &&
    next.batteryWarningPercent > next.batteryCriticalPercent
  )) {
    bad("batteryWarningPercent", "battery thresholds must satisfy low > warning > critical");
  }
  return next;
}
