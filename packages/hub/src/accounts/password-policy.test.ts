import { describe, it, expect } from "vitest";
import { isLatchkeyError } from "@latchkey/protocol";
import { checkPasswordPolicy, isCommonPassword, PasswordHasher } from "./password-policy.js";

function policyCode(pw: string): string | null {
  try {
    checkPasswordPolicy(pw, "owner");
    return null;
  } catch (e) {
    return isLatchkeyError(e) ? e.code : "other";
  }
}

describe("password policy (ASVS 5 L2)", () => {
  it("refuses short, overlong and common passwords, with no composition rules", () => {
    expect(policyCode("abc1234")).toBe("AUTH_PASSWORD_POLICY");
    expect(policyCode("x".repeat(129))).toBe("AUTH_PASSWORD_POLICY");
    expect(policyCode("password")).toBe("AUTH_PASSWORD_POLICY");
    expect(policyCode("PASSWORD1")).toBe("AUTH_PASSWORD_POLICY");
    expect(policyCode("Owner")).toBe("AUTH_PASSWORD_POLICY");
    // All lower-case letters, no digits or symbols: fine if long and uncommon.
    expect(policyCode("correct horse battery staple")).toBeNull();
    expect(policyCode("x".repeat(128))).toBeNull();
    // Code points, not UTF-16 units: 8 emoji are 8 characters.
    expect(policyCode("🔑🚪🔒🏠🔑🚪🔒🏠")).toBeNull();
  });

  it("uses the first 100,000 entries of the SecLists list, not more", () => {
    expect(isCommonPassword("123456")).toBe(true);
    expect(isCommonPassword("qwertyuiop")).toBe(true);
    expect(isCommonPassword("vH7#kq2!Lm9z")).toBe(false);
  });

  it("hashes with argon2id and verifies", async () => {
    const h = new PasswordHasher({ memoryCost: 256, timeCost: 1, parallelism: 1 });
    const stored = await h.hash("a long enough passphrase");
    expect(stored.startsWith("$argon2id$")).toBe(true);
    expect(await h.verify(stored, "a long enough passphrase")).toBe(true);
    expect(await h.verify(stored, "a long enough passphrasE")).toBe(false);
    expect(await h.verify("garbage", "x")).toBe(false);
  });
});
