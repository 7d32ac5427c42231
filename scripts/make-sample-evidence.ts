/**
 * Regenerates the sample evidence under examples/evidence/ from the scripted virtual-lock night
 * (packages/hub/src/evidence/sample-scenario.ts): the bundle, its HTML and JSON reports, and a
 * copy with one byte changed that every verifier must reject. Deterministic: demo-only fixed
 * keys, so the files only change when the formats or the scenario do. The reports are made with
 * the demo's owner and ledger keys pinned (as `latchkey verify --trust
 * examples/evidence/vectors/trust-demo.json` does), so they show a proven verdict.
 *
 *   npx tsx scripts/make-sample-evidence.ts
 */
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildEvidenceReport,
  evidenceVerdict,
  NO_TRUST,
  renderEvidenceReportHtml,
  verifyEvidenceBundle,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { runSampleScenario, tamperedSample } from "../packages/hub/src/evidence/sample-scenario.js";

const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "examples/evidence");
const sample = await runSampleScenario();
const result = verifyEvidenceBundle(sample.bytes, { ed25519: nodeEd25519 });
const { owner, ledger } = sample.bundle;
const report = buildEvidenceReport(
  result,
  evidenceVerdict(result, {
    ...NO_TRUST,
    owners: [owner.publicKey],
    ledgers: [{ origin: ledger.origin, publicKey: ledger.publicKey }],
  }),
);
writeFileSync(join(dir, "sample-bundle.json"), sample.bytes);
writeFileSync(join(dir, "sample-report.html"), renderEvidenceReportHtml(report));
writeFileSync(join(dir, "sample-report.json"), JSON.stringify(report, null, 2) + "\n");
writeFileSync(join(dir, "sample-tampered.json"), tamperedSample(sample.bytes));
console.log(`${report.conclusion.headline}\n${report.doors[0]?.summary ?? ""}`);
console.log(`wrote ${dir}/sample-{bundle.json,report.html,report.json,tampered.json}`);
