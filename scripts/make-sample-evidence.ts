/**
 * Regenerates the sample evidence under examples/evidence/ from the scripted virtual-lock night
 * (packages/hub/src/evidence/sample-scenario.ts): the bundle, its HTML and JSON reports, and a
 * copy with one byte changed that every verifier must reject. Deterministic: demo-only fixed
 * keys, so the files only change when the formats or the scenario do.
 *
 *   npx tsx scripts/make-sample-evidence.ts
 */
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runSampleScenario, tamperedSample } from "../packages/hub/src/evidence/sample-scenario.js";

const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "examples/evidence");
const sample = await runSampleScenario();
writeFileSync(join(dir, "sample-bundle.json"), sample.bytes);
writeFileSync(join(dir, "sample-report.html"), sample.html);
writeFileSync(join(dir, "sample-report.json"), JSON.stringify(sample.report, null, 2) + "\n");
writeFileSync(join(dir, "sample-tampered.json"), tamperedSample(sample.bytes));
console.log(`${sample.report.verdict}: ${sample.report.doors[0]?.summary ?? ""}`);
console.log(`wrote ${dir}/sample-{bundle.json,report.html,report.json,tampered.json}`);
