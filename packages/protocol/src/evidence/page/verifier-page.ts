/**
 * The offline verifier page's script (bundled into examples/evidence/verifier.html by
 * scripts/build-verifier-page.ts). It reads a dropped or chosen bundle file locally, verifies it
 * with the pure protocol verifier (noble Ed25519 and SHA-256) and shows the report. The page's
 * Content-Security-Policy forbids every network request; nothing leaves the browser.
 */
import { nobleEd25519 } from "../../crypto/ed25519.js";
import { buildEvidenceReport, renderEvidenceReportBody } from "../report.js";
import { verifyEvidenceBundle } from "../verify.js";

function show(html: string, status: string): void {
  const out = document.getElementById("result");
  if (out === null) return;
  out.innerHTML = html; // every value in it is escaped by renderEvidenceReportBody
  document.body.dataset.status = status;
}

async function check(file: File): Promise<void> {
  document.body.dataset.status = "working";
  const bytes = new Uint8Array(await file.arrayBuffer());
  // Let the "verifying…" state paint before the synchronous work starts.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const report = buildEvidenceReport(verifyEvidenceBundle(bytes, { ed25519: nobleEd25519 }));
  const json = document.getElementById("report-json");
  if (json !== null) json.textContent = JSON.stringify(report, null, 2);
  show(renderEvidenceReportBody(report), report.verdict);
}

function start(): void {
  const input = document.getElementById("file") as HTMLInputElement | null;
  const zone = document.getElementById("drop");
  const onError = (e: unknown): void =>
    show(`<p>Could not read the file: ${String(e).replace(/</g, "&lt;")}</p>`, "error");
  input?.addEventListener("change", () => {
    const f = input.files?.[0];
    if (f !== undefined) check(f).catch(onError);
  });
  zone?.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone?.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone?.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const f = e.dataTransfer?.files[0];
    if (f !== undefined) check(f).catch(onError);
  });
  document.body.dataset.status = "ready";
}

start();
