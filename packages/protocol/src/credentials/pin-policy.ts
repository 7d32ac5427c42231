/**
 * The one PIN policy, used by the lock when a PIN is set, by the hub before it accepts a chosen
 * PIN or generates one, and by the web app for its length choices: digits only, a length within
 * the policy's range, and not easy to guess (one digit or block repeated, a run up or down, a
 * common PIN or keypad line, digits from the person's phone number). The hub applies the same
 * policy as its locks, so it never accepts a PIN a lock would refuse. Reasons name the rule,
 * never the PIN.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { LatchkeyError } from "../errors/error.js";

export interface PinPolicy {
  /** PIN_LENGTH_LIMITS.min–PIN_LENGTH_LIMITS.max; default 6. */
  readonly minLength: number;
  /** minLength–PIN_LENGTH_LIMITS.max; default 12. */
  readonly maxLength: number;
  /** Refuse one digit or one block repeated (111111, 121212, 123123). */
  readonly rejectRepeats: boolean;
  /** Refuse ascending or descending runs, wrapping past 9 (123456, 987654, 890123). */
  readonly rejectRuns: boolean;
  /** Refuse PINs from the common-PIN list (dates, keypad lines, popular choices). */
  readonly rejectCommon: boolean;
}

/** The range any lock setting may choose its lengths from. */
export const PIN_LENGTH_LIMITS = { min: 4, max: 12 } as const;

/** The reference lock's defaults, and therefore the hub's: a 6-digit minimum. */
export const DEFAULT_PIN_POLICY: PinPolicy = {
  minLength: 6,
  maxLength: 12,
  rejectRepeats: true,
  rejectRuns: true,
  rejectCommon: true,
};

/**
 * Frequently chosen PINs that are neither repeats nor runs: dates, keypad lines and shapes,
 * popular choices (DataGenetics' analysis of 3.4 million 4-digit PINs, and 6- to 10-digit lists).
 */
const COMMON_PINS = new Set([
  "1004",
  "2000",
  "1122",
  "1313",
  "2001",
  "1010",
  "6969",
  "1999",
  "2580",
  "0852",
  "1369",
  "1379",
  "1397",
  "1470",
  "0741",
  "3690",
  "0963",
  "1590",
  "7410",
  "2468",
  "1357",
  "0007",
  "1230",
  "1001",
  "2002",
  "1969",
  "1984",
  "1991",
  "2525",
  "5683",
  "0911",
  "112233",
  "123321",
  "159753",
  "147258",
  "147852",
  "258369",
  "654123",
  "131313",
  "520520",
  "102030",
  "101010",
  "123654",
  "753951",
  "852456",
  "111222",
  "159357",
  "789456",
  "456123",
  "12344321",
  "11223344",
  "147258369",
  "741852963",
  "123456789",
  "1234567890",
  "0987654321",
]);

export type PinRule = "format" | "length" | "repeat" | "run" | "common" | "phone";

export interface PinWeakness {
  readonly rule: PinRule;
  /** Completes "PIN …"; names the rule, never the PIN. */
  readonly reason: string;
}

/** Why a policy's shape is invalid (lengths out of range or crossed), or null. */
export function checkPinPolicyShape(policy: PinPolicy): string | null {
  const { minLength, maxLength } = policy;
  const { min, max } = PIN_LENGTH_LIMITS;
  if (!Number.isInteger(minLength) || minLength < min || minLength > max)
    return `minPinLength must be ${min}–${max}`;
  if (!Number.isInteger(maxLength) || maxLength < minLength || maxLength > max)
    return `maxPinLength must be from minPinLength to ${max}`;
  return null;
}

function isRepeat(pin: string): boolean {
  for (let block = 1; block <= pin.length / 2; block++) {
    if (pin.length % block === 0 && pin.slice(0, block).repeat(pin.length / block) === pin) return true;
  }
  return false;
}

function isRun(pin: string): boolean {
  const step = (pin.charCodeAt(1) - pin.charCodeAt(0) + 10) % 10;
  if (step !== 1 && step !== 9) return false;
  for (let i = 1; i < pin.length; i++) {
    if ((pin.charCodeAt(i) - pin.charCodeAt(i - 1) + 10) % 10 !== step) return false;
  }
  return true;
}

/**
 * Why `pin` breaks `policy`, or null when it is acceptable. `phone` (the hub knows it, a lock
 * does not) refuses a PIN taken from the person's phone number.
 */
export function pinWeakness(
  pin: string,
  policy: PinPolicy = DEFAULT_PIN_POLICY,
  phone: string | null = null,
): PinWeakness | null {
  if (typeof pin !== "string" || !/^[0-9]+$/.test(pin))
    return { rule: "format", reason: "must contain digits only" };
  if (pin.length < policy.minLength || pin.length > policy.maxLength)
    return { rule: "length", reason: `must have ${policy.minLength} to ${policy.maxLength} digits` };
  if (policy.rejectRepeats && isRepeat(pin))
    return { rule: "repeat", reason: "is one digit or block repeated" };
  if (policy.rejectRuns && isRun(pin)) return { rule: "run", reason: "is an ascending or descending run" };
  if (policy.rejectCommon && COMMON_PINS.has(pin))
    return { rule: "common", reason: "is on the common-PIN list" };
  if (phone !== null) {
    const digits = phone.replace(/\D/g, "");
    if (digits.length >= pin.length && digits.includes(pin))
      return { rule: "phone", reason: "is taken from the person's phone number" };
  }
  return null;
}

/** Lengths a generated PIN may have under `policy` (what the web app offers). */
export function pinLengthChoices(policy: PinPolicy = DEFAULT_PIN_POLICY): number[] {
  const out: number[] = [];
  for (let n = policy.minLength; n <= policy.maxLength; n++) out.push(n);
  return out;
}

/** One uniformly random digit (rejection sampling: no modulo bias). */
function randomDigit(): number {
  for (;;) {
    const b = randomBytes(1)[0] ?? 255;
    if (b < 250) return b % 10;
  }
}

/**
 * A uniformly random PIN of `length` digits that passes `policy` (re-drawn until it does), or
 * null when `length` is outside the policy's range.
 */
export function generatePin(
  length: number,
  policy: PinPolicy = DEFAULT_PIN_POLICY,
  phone: string | null = null,
): string | null {
  if (!Number.isInteger(length) || length < policy.minLength || length > policy.maxLength) return null;
  // Weak PINs are a tiny fraction of any allowed length: this ends after a draw or two.
  for (let attempt = 0; attempt < 10_000; attempt++) {
    let pin = "";
    for (let i = 0; i < length; i++) pin += String(randomDigit());
    if (pinWeakness(pin, policy, phone) === null) return pin;
  }
  throw new LatchkeyError("LK_INTERNAL", "no acceptable PIN was drawn", { length });
}
