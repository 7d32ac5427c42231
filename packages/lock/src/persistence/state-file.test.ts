/**
 * A damaged or tampered state directory is refused with LOCK_STATE_CORRUPT — never another kind
 * of error, never a half-trusted lock. Fuzzed by replacing any node of state.json or
 * counters.json with random JSON, and by cutting the files short.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isLatchkeyError, OperatingMode, UserType } from "@latchkey/protocol";
import { memoryJournalFactory } from "../journal/journal-factory.js";
import { startTempLock, tempLockDir } from "../virtual/scenario.js";
import { VirtualLock } from "../virtual/virtual-lock.js";
import { KEYS_FILE } from "./lock-keys.js";
import { COUNTERS_FILE, STATE_FILE } from "./state-file.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function template(): string {
  const dir = tempLockDir();
  const lock = startTempLock({ dir, journal: memoryJournalFactory });
  const rt = lock.runtime;
  const u = rt.addUser({ type: UserType.ExpiringUser, expiringTimeoutMinutes: 10, maxUses: 3 });
  rt.setPin(u, "58392047");
  rt.setCard(u, Uint8Array.from([1, 2, 3, 4]), new Uint8Array(16).fill(7));
  rt.setFingerprint(u, 5);
  rt.setWeekDaySchedule(u, { index: 1, daysMask: 3, startMinute: 60, endMinute: 120 });
  rt.setYearDaySchedule(u, { index: 1, fromMs: 1, toMs: 2 });
  rt.setHolidaySchedule({ index: 1, fromMs: 1, toMs: 2, operatingMode: OperatingMode.Vacation });
  lock.enterPin("58392047");
  lock.enterPin("40718263");
  rt.shutdown();
  return dir;
}

function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function replaceAt(root: Json, path: (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root)) return root.map((x, i) => (i === head ? replaceAt(x, rest, value) : x));
  if (root !== null && typeof root === "object") {
    return Object.fromEntries(
      Object.entries(root).map(([k, x]) => [k, k === head ? replaceAt(x, rest, value) : x]),
    );
  }
  return root;
}

function startOutcome(dir: string): string {
  try {
    const lock = VirtualLock.start({ dir, journal: memoryJournalFactory });
    lock.runtime.shutdown();
    return "started";
  } catch (e) {
    if (isLatchkeyError(e, "LOCK_STATE_CORRUPT")) return "refused";
    throw e;
  }
}

describe("state file fuzzing", () => {
  const source = template();
  const files = [STATE_FILE, COUNTERS_FILE] as const;
  const fresh = (): string => {
    const dir = tempLockDir();
    mkdirSync(dir, { recursive: true });
    for (const f of [...files, KEYS_FILE]) copyFileSync(join(source, f), join(dir, f));
    return dir;
  };

  it("the untouched directory starts", () => {
    expect(startOutcome(fresh())).toBe("started");
  });

  it("any node replaced by random JSON: starts or LOCK_STATE_CORRUPT, nothing else", () => {
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (file, pick, value) => {
        const dir = fresh();
        const original = JSON.parse(readFileSync(join(dir, file), "utf8")) as Json;
        const all = paths(original);
        const path = all[pick % all.length] ?? [];
        writeFileSync(join(dir, file), JSON.stringify(replaceAt(original, path, value as Json)));
        expect(["started", "refused"]).toContain(startOutcome(dir));
      }),
      { numRuns: 60 },
    );
  });

  it("files cut short are refused", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (file, fraction) => {
          const dir = fresh();
          const bytes = readFileSync(join(dir, file));
          const content = bytes.toString("utf8").trimEnd().length; // a cut trailing newline is no damage
          writeFileSync(
            join(dir, file),
            bytes.subarray(0, Math.min(content - 1, Math.floor(bytes.length * fraction))),
          );
          expect(startOutcome(dir)).toBe("refused");
        },
      ),
      { numRuns: 20 },
    );
  });

  it("enum values are stored by name (the file reads as before the lock used Matter's numbers)", () => {
    const dir = fresh();
    const state = JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as {
      settings: { operatingMode: unknown };
      users: { type: unknown; credentialRule: unknown }[];
      holidays: { operatingMode: unknown }[];
    };
    expect(state.settings.operatingMode).toBe("Normal");
    expect(state.users.map((u) => [u.type, u.credentialRule])).toEqual([["ExpiringUser", "Single"]]);
    expect(state.holidays.map((h) => h.operatingMode)).toEqual(["Vacation"]);

    const lock = VirtualLock.start({ dir, journal: memoryJournalFactory });
    expect(lock.runtime.users().map((u) => u.type)).toEqual([UserType.ExpiringUser]);
    lock.runtime.shutdown();

    // A name the protocol does not have is damage, not a new mode.
    state.holidays[0]!.operatingMode = "Party";
    writeFileSync(join(dir, STATE_FILE), JSON.stringify(state));
    expect(startOutcome(dir)).toBe("refused");
  });

  it("a sealed card key that was tampered with is refused", () => {
    const dir = fresh();
    const state = readFileSync(join(dir, STATE_FILE), "utf8");
    const tampered = state.replace(
      /"sealedKey": "([0-9a-f])/,
      (_m, c: string) => `"sealedKey": "${c === "0" ? "1" : "0"}`,
    );
    expect(tampered).not.toBe(state);
    writeFileSync(join(dir, STATE_FILE), tampered);
    expect(startOutcome(dir)).toBe("refused");
  });
});
