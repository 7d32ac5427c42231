/**
 * The lock's side of the one PIN policy (`@latchkey/protocol`'s pin-policy, which the hub and
 * the web app use too): checked when a PIN is set. Errors name the rule, never the PIN.
 */
import { LatchkeyError, pinWeakness, type PinPolicy } from "@latchkey/protocol";

export { checkPinPolicyShape, DEFAULT_PIN_POLICY, type PinPolicy } from "@latchkey/protocol";

/** Throws LOCK_PIN_FORMAT or LOCK_PIN_WEAK; returns nothing for an acceptable PIN. */
export function checkPin(pin: string, policy: PinPolicy): void {
  const weakness = pinWeakness(pin, policy);
  if (weakness === null) return;
  if (weakness.rule === "format") throw new LatchkeyError("LOCK_PIN_FORMAT", `PIN ${weakness.reason}`);
  if (weakness.rule === "length") {
    throw new LatchkeyError(
      "LOCK_PIN_FORMAT",
      `PIN length ${pin.length} is outside ${policy.minLength}–${policy.maxLength} digits`,
      { length: pin.length, minLength: policy.minLength, maxLength: policy.maxLength },
    );
  }
  throw new LatchkeyError("LOCK_PIN_WEAK", `PIN ${weakness.reason}`, { rule: weakness.rule });
}
