/**
 * PIN rules checked when a PIN is set: digits only, length within the lock's range, and not easy
 * to guess. Errors name the rule, never the PIN.
 */
import { LatchkeyError } from "@latchkey/protocol";

export interface PinPolicy {
  /** 4–12; default 6. */
  readonly minLength: number;
  /** minLength–12; default 12. */
  readonly maxLength: number;
  /** Refuse one digit or one block repeated (1111, 1212, 123123). */
  readonly rejectRepeats: boolean;
  /** Refuse ascending or descending runs (1234, 98765, 0123). */
  readonly rejectRuns: boolean;
  /** Refuse PINs from the common-PIN list (and any extra ones configured). */
  readonly rejectCommon: boolean;
}

export const DEFAULT_PIN_POLICY: PinPolicy = {
  minLength: 6,
  maxLength: 12,
  rejectRepeats: true,
  rejectRuns: true,
  rejectCommon: true,
};

/** Frequently chosen PINs that are neither repeats nor runs (dates, keypad patterns, words). */
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
  "1470",
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
  "696969",
  "131313",
  "520520",
  "102030",
  "101010",
  "123654",
  "753951",
  "852456",
  "111222",
  "123456789",
  "1234567890",
  "0987654321",
  "123123123",
  "147258369",
  "741852963",
  "12344321",
  "11223344",
  "159357",
  "789456",
  "456123",
]);

export function checkPinPolicyShape(policy: PinPolicy): string | null {
  const { minLength, maxLength } = policy;
  if (!Number.isInteger(minLength) || minLength < 4 || minLength > 12) return "minPinLength must be 4–12";
  if (!Number.isInteger(maxLength) || maxLength < minLength || maxLength > 12) {
    return "maxPinLength must be from minPinLength to 12";
  }
  return null;
}

function isRepeat(pin: string): boolean {
  for (let block = 1; block <= pin.length / 2; block++) {
    if (pin.length % block !== 0) continue;
    const unit = pin.slice(0, block);
    if (unit.repeat(pin.length / block) === pin) return true;
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

/** Throws LOCK_PIN_FORMAT or LOCK_PIN_WEAK; returns nothing for an acceptable PIN. */
export function checkPin(pin: string, policy: PinPolicy): void {
  if (typeof pin !== "string" || !/^[0-9]+$/.test(pin)) {
    throw new LatchkeyError("LOCK_PIN_FORMAT", "PIN must contain digits only");
  }
  if (pin.length < policy.minLength || pin.length > policy.maxLength) {
    throw new LatchkeyError(
      "LOCK_PIN_FORMAT",
      `PIN length ${pin.length} is outside ${policy.minLength}–${policy.maxLength} digits`,
      { length: pin.length, minLength: policy.minLength, maxLength: policy.maxLength },
    );
  }
  if (policy.rejectRepeats && isRepeat(pin)) {
    throw new LatchkeyError("LOCK_PIN_WEAK", "PIN is one digit or block repeated", { rule: "repeat" });
  }
  if (policy.rejectRuns && isRun(pin)) {
    throw new LatchkeyError("LOCK_PIN_WEAK", "PIN is an ascending or descending run", { rule: "run" });
  }
  if (policy.rejectCommon && COMMON_PINS.has(pin)) {
    throw new LatchkeyError("LOCK_PIN_WEAK", "PIN is on the common-PIN list", { rule: "common" });
  }
}
