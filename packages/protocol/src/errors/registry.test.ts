import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_AREAS, ERROR_CODES, ERROR_DEFINITIONS, renderErrorsDoc } from "./registry.js";
import { LatchkeyError } from "./error.js";

const docs = readFileSync(new URL("../../../../docs/errors.md", import.meta.url), "utf8");

describe("error registry", () => {
  it("has codes made of an area prefix and upper-case words", () => {
    for (const code of ERROR_CODES) expect(code).toMatch(/^[A-Z]+(_[A-Z0-9]+)+$/);
  });

  it("gives every code an HTTP status, a blame and a description", () => {
    for (const code of ERROR_CODES) {
      const def = ERROR_DEFINITIONS[code];
      expect(def.status, code).toBeGreaterThanOrEqual(400);
      expect(def.status, code).toBeLessThan(600);
      expect(["input", "caller", "internal"], code).toContain(def.blame);
      expect(def.description.length, code).toBeGreaterThan(10);
      // internal faults are never blamed on the caller and vice versa
      if (def.blame === "internal") expect(def.status, code).toBeGreaterThanOrEqual(500);
      else expect(def.status, code).toBeLessThan(500);
    }
  });

  it("never defines a code in two areas", () => {
    const seen = new Map<string, string>();
    for (const area of ERROR_AREAS) {
      for (const code of Object.keys(area.errors)) {
        expect(seen.get(code), `${code} in ${area.title}`).toBeUndefined();
        seen.set(code, area.title);
      }
    }
    expect(seen.size).toBe(ERROR_CODES.length);
  });

  it("keeps docs/errors.md equal to the registry (run `npm run docs:errors`)", () => {
    expect(docs).toBe(renderErrorsDoc());
  });

  it("builds errors that serialise without their cause", () => {
    const e = new LatchkeyError(
      "LK_DECODE_TRUNCATED",
      "frame too short",
      { needed: 4, have: 2 },
      { cause: new Error("x") },
    );
    expect(e.status).toBe(400);
    expect(e.blame).toBe("input");
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: "LK_DECODE_TRUNCATED",
      message: "frame too short",
      details: { needed: 4, have: 2 },
    });
  });
});
