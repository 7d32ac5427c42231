/**
 * PIN rules: 4 to 12 digits, and not easy to guess — one repeated digit, a run up or down
 * (1234, 9876), a repeated short pattern (1212, 123123), the most common 4-digit PINs
 * (DataGenetics' analysis of 3.4 million PINs) and straight keypad lines (2580), or digits taken from the person's phone number.
 * Generated PINs are uniformly random and re-drawn until they pass the same rules.
 */
import { randomInt } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";

export const PIN_MIN = 4;
export const PIN_MAX = 12;

const COMMON_PINS = new Set([
  "1234",
  "1111",
  "0000",
  "1212",
  "7777",
  "1004",
  "2000",
  "4444",
  "2222",
  "6969",
  "9999",
  "3333",
  "5555",
  "6666",
  "1122",
  "1313",
  "8888",
  "4321",
  "2001",
  "1010",
  "2580",
  "0852",
  "1379",
  "1397",
  "1470",
  "0741",
  "3690",
  "0963",
  "1590",
  "7410",
  "123456",
  "654321",
  "111111",
  "000000",
  "121212",
  "112233",
  "123123",
  "159753",
  "696969",
  "102030",
]);

/** Why a PIN is weak, or null. Reasons name the rule, never the PIN. */
export function pinWeakness(pin: string, phone: string | null = null): string | null {
  if (!/^[0-9]+$/.test(pin)) return "must contain digits only";
  if (pin.length < PIN_MIN || pin.length > PIN_MAX) return `must have ${PIN_MIN} to ${PIN_MAX} digits`;
  if (COMMON_PINS.has(pin)) return "is one of the most common PINs";
  if (/^(\d)\1+$/.test(pin)) return "repeats one digit";
  const digits = [...pin].map(Number);
  const steps = digits.slice(1).map((d, i) => (d - (digits[i] ?? 0) + 10) % 10);
  if (steps.every((s) => s === 1) || steps.every((s) => s === 9)) return "is a run of consecutive digits";
  for (let len = 1; len <= pin.length / 2; len++) {
    if (pin.length % len === 0 && pin.slice(0, len).repeat(pin.length / len) === pin)
      return "repeats a short pattern";
  }
  if (phone !== null) {
    const phoneDigits = phone.replace(/\D/g, "");
    if (phoneDigits.length >= pin.length && phoneDigits.includes(pin))
      return "is taken from the person's phone number";
  }
  return null;
}

export function assertStrongPin(pin: string, phone: string | null): void {
  const reason = pinWeakness(pin, phone);
  if (reason !== null)
    throw new LatchkeyError("HUB_PIN_WEAK", `PIN ${reason}`, { field: "pin", length: pin.length });
}

export function generatePin(
  length: number,
  phone: string | null,
  acceptable: (pin: string) => boolean = () => true,
): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    let pin = "";
    for (let i = 0; i < length; i++) pin += String(randomInt(10));
    if (pinWeakness(pin, phone) === null && acceptable(pin)) return pin;
  }
  throw new LatchkeyError(
    "HUB_PIN_DUPLICATE",
    "could not generate a free PIN of this length; choose a longer one",
    { length },
  );
}
