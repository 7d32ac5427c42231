import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../errors/error.js";
import {
  encodeEvidenceBundle,
  parseEvidenceBundle,
  parseEvidenceBundleGeneral,
  type EvidenceBundle,
} from "./bundle.js";
import { scanEvidenceBundle } from "./bundle-scan.js";

const examples = join(import.meta.dirname, "../../../../examples/evidence");
const files = [
  join(examples, "sample-bundle.json"),
  join(examples, "sample-tampered.json"),
  ...readdirSync(join(examples, "vectors"))
    .filter((f) => f.endsWith(".json") && f !== "manifest.json")
    .map((f) => join(examples, "vectors", f)),
].map((f) => new Uint8Array(readFileSync(f)));
const sample = files[0]!;

/** What the general parser makes of the bytes: the bundle, or the error code it names. */
function general(file: Uint8Array): EvidenceBundle | string {
  try {
    return parseEvidenceBundleGeneral(file);
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return e.code;
  }
}

/** The fast path may decline anything, but what it accepts must be exactly what the general parser makes. */
function agrees(file: Uint8Array): void {
  const fast = scanEvidenceBundle(file);
  if (fast === null) return;
  expect(fast).toEqual(general(file));
}

describe("the one-pass bundle reader", () => {
  it("reads the sample and every vector exactly as the general parser does", () => {
    expect(scanEvidenceBundle(sample)).not.toBeNull();
    for (const f of files) agrees(f);
  });

  it("reads bundles the serialiser wrote, with escapes and non-ASCII text, as the general parser does", () => {
    const base = parseEvidenceBundleGeneral(sample);
    const odd = { ...base, ledger: { ...base.ledger, origin: 'hub.example/ledger "α"\\\n\u0001' } };
    const bytes = encodeEvidenceBundle(odd);
    expect(scanEvidenceBundle(bytes)).toEqual(parseEvidenceBundleGeneral(bytes));
  });

  it("accepts nothing the general parser refuses or reads differently (fast-check mutations)", () => {
    const text = new TextDecoder().decode(sample);
    fc.assert(
      fc.property(
        fc.nat({ max: sample.length - 1 }),
        fc.constantFrom("flip", "space", "delete", "duplicate", "digit", "escape"),
        fc.nat({ max: 255 }),
        (at, how, value) => {
          let mutated: Uint8Array;
          if (how === "flip") {
            mutated = sample.slice();
            mutated[at] = value;
          } else {
            const insert = {
              space: " ",
              delete: "",
              duplicate: text[at] ?? "",
              digit: "0",
              escape: "\\u0041",
            }[how];
            const cut = how === "delete" || how === "escape" ? 1 : 0;
            mutated = new TextEncoder().encode(text.slice(0, at) + insert + text.slice(at + cut));
          }
          agrees(mutated);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("declines reordered members, whitespace, leading zeros and non-canonical base64", () => {
    const text = new TextDecoder().decode(sample);
    const json = JSON.parse(text) as Record<string, unknown>;
    const reordered = JSON.stringify({ version: json.version, ...json });
    const cases = [
      reordered,
      text.replace('{"checkpoints"', '{ "checkpoints"'),
      text.replace(/"generatedAt":(\d)/, '"generatedAt":0$1'),
      text.replace(/"seal":"([^"]*)=="/, (_m, b: string) => `"seal":"${b.slice(0, -1)}B=="`),
      text.replace(/"seal":"([^"]*)=="/, (_m, b: string) => `"seal":"${b}=A"`),
      text.replace(/"seal":"([^"]*)=="/, (_m, b: string) => `"seal":"${b.slice(0, 4)}=${b.slice(5)}=="`),
    ];
    for (const c of cases) {
      const bytes = new TextEncoder().encode(c);
      expect(scanEvidenceBundle(bytes)).toBeNull();
      expect(() => parseEvidenceBundle(bytes)).toThrow();
    }
  });
});
