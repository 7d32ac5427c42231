/**
 * Builds the offline evidence verifier page: one self-contained HTML file (no network, works from
 * file://) with the protocol verifier bundled in by esbuild.
 *
 *   npm run build:verifier                      → examples/evidence/verifier.html
 *   tsx scripts/build-verifier-page.ts OUT.html → elsewhere
 */
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { REPORT_CSS } from "../packages/protocol/src/evidence/report.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_VERIFIER_PAGE = join(root, "examples/evidence/verifier.html");

export async function buildVerifierPage(out = DEFAULT_VERIFIER_PAGE): Promise<string> {
  const result = await build({
    entryPoints: [join(root, "packages/protocol/src/evidence/page/verifier-page.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    write: false,
    charset: "utf8",
  });
  const script = result.outputFiles[0]?.text ?? "";
  // "</script" inside the bundle would end the element early.
  const safe = script.replace(/<\/script/gi, "<\\/script");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>Latchkey evidence verifier (offline)</title>
<style>${REPORT_CSS}
#drop{border:2px dashed #888;border-radius:8px;padding:2rem;text-align:center;margin:1rem 0}#drop.over{background:#eef}
body[data-status=working] #result::before{content:"Verifying…"}
details{margin-top:2rem}pre{white-space:pre-wrap;font-size:.8rem}
fieldset{border:1px solid #bbb;border-radius:8px;margin:1rem 0}[data-trust-error]{color:#b3261e;font-weight:600}</style></head>
<body data-status="loading">
<h1>Latchkey evidence verifier</h1>
<p>Checks a Latchkey evidence bundle entirely in this browser: the lock's signatures on every event, the unbroken
sequence, the ledger proofs and checkpoints, the owner's commissioning record and the hub's seal, and gives the same
verdict as <code>latchkey verify</code>: proven, not conclusive (with the reasons), invalid or unreadable. This page makes no
network requests (its security policy forbids them) and works saved to disk and opened offline.</p>
<fieldset id="pins"><legend>Keys you pinned (from the owner's key card, obtained before the incident)</legend>
<p>Without them a bundle can at best be <b>not conclusive</b>: anyone can make a consistent bundle with keys of their own.
Compare fingerprints by eye, but pin full keys.</p>
<p><label for="trust-file">Trust file (<code>latchkey keys --out trust.json</code>):</label> <input type="file" id="trust-file" accept=".json,application/json"></p>
<p><label for="trust-text">or paste a trust file:</label><br><textarea id="trust-text" rows="3" cols="70" spellcheck="false"></textarea></p>
<p><label for="owner-key">or the owner key (hex or base64):</label> <input id="owner-key" size="66" spellcheck="false"></p>
<p><label for="ledger-key">and the ledger key (hex or base64):</label> <input id="ledger-key" size="66" spellcheck="false"></p>
<p id="trust-status" aria-live="polite"></p></fieldset>
<div id="drop"><p>Drop a bundle file here, or choose one:</p><input type="file" id="file" accept=".json,application/json"></div>
<div id="result"></div>
<details><summary>Report as JSON</summary><pre id="report-json"></pre></details>
<script>${safe}</script>
</body></html>
`;
  writeFileSync(out, html);
  return out;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildVerifierPage(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
  console.log(`wrote ${out}`);
}
