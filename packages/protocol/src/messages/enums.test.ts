import { describe, expect, it } from "vitest";
import { CredentialRule, enumName, enumValue, OperatingMode, UserType } from "./enums.js";

describe("enum names map", () => {
  it("names every value and maps every name back", () => {
    for (const e of [UserType, CredentialRule, OperatingMode]) {
      for (const [name, value] of Object.entries(e)) {
        expect(enumName(e, value)).toBe(name);
        expect(enumValue(e, name)).toBe(value);
      }
    }
  });

  it("has no name for an unknown value and no value for an unknown name", () => {
    expect(enumName(OperatingMode, 99)).toBeUndefined();
    expect(enumValue(OperatingMode, "Party")).toBeUndefined();
    // Only the enum's own names: nothing inherited from Object.prototype.
    expect(enumValue(UserType, "toString")).toBeUndefined();
    expect(enumValue(UserType, "__proto__")).toBeUndefined();
  });
});
