/** The ledger's start options: defaults, flags, variables, and refusals naming the option. */
import { describe, it, expect } from "vitest";
import { helpText, LEDGER_FLAGS, parseConfig } from "../config/config.js";

describe("ledger options", () => {
  it("defaults to a checkpoint every 256 leaves or 60 seconds and no fixed origin", () => {
    const c = parseConfig([], {});
    expect(c.checkpointEvery).toEqual({ entries: 256, seconds: 60 });
    expect(c.ledgerOrigin).toBeUndefined();
  });

  it("reads flags and variables (flags win) and lists them in --help", () => {
    const env = {
      LATCHKEY_CHECKPOINT_ENTRIES: "10",
      LATCHKEY_CHECKPOINT_SECONDS: "5",
      LATCHKEY_LEDGER_ORIGIN: "a.example/log",
    };
    const c = parseConfig(["--checkpoint-seconds", "7"], env);
    expect(c.checkpointEvery).toEqual({ entries: 10, seconds: 7 });
    expect(c.ledgerOrigin).toBe("a.example/log");
    for (const f of LEDGER_FLAGS) expect(helpText()).toContain(f.env);
  });

  it("refuses out-of-range or non-numeric values, naming the option", () => {
    for (const [flag, value] of [
      ["--checkpoint-entries", "0"],
      ["--checkpoint-entries", "1e3"],
      ["--checkpoint-seconds", "86401"],
      ["--checkpoint-seconds", "-1"],
    ] as const) {
      expect(() => parseConfig([flag, value], {})).toThrow(flag);
    }
  });
});
