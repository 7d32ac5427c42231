import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../errors/error.js";
import { toHex } from "../encoding/bytes.js";
import { decodeCredentialData, encodeCredentialData, lockCredentialType } from "./credential-data.js";

function onlyLatchkeyErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(isLatchkeyError(e)).toBe(true);
  }
}

describe("sealed credential data", () => {
  it("golden layouts per type", () => {
    expect(toHex(encodeCredentialData({ type: "PIN", pin: "583920" }))).toBe("353833393230"); // ASCII digits
    expect(toHex(encodeCredentialData({ type: "RFID", uid: Uint8Array.of(1, 2, 3, 4) }))).toBe(
      "04" + "01020304", // uid length, uid
    );
    expect(toHex(encodeCredentialData({ type: "Fingerprint", templateRef: 0x0102 }))).toBe("0102"); // u16 slot
    expect(lockCredentialType(1)).toBe("PIN");
    expect(lockCredentialType(7)).toBe("PhoneKey");
    expect(lockCredentialType(4)).toBeNull();
    const card = {
      type: "RFID",
      uid: Uint8Array.of(1, 2, 3, 4, 5, 6, 7),
      key: new Uint8Array(16).fill(3),
    } as const;
    expect(decodeCredentialData("RFID", encodeCredentialData(card))).toEqual(card);
  });

  it("decoding random bytes throws only LatchkeyErrors", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("PIN", "RFID", "Fingerprint", "PhoneKey" as const),
        fc.uint8Array({ maxLength: 80 }),
        (t, b) => onlyLatchkeyErrors(() => decodeCredentialData(t, b)),
      ),
      { numRuns: 400 },
    );
  });
});
