/**
 * The offline verifier page's script (bundled into examples/evidence/verifier.html by
 * scripts/build-verifier-page.ts). It reads a dropped or chosen bundle file locally, verifies it
 * with the pure protocol verifier (noble Ed25519 and SHA-256) and shows the verdict — the same
 * rule as `latchkey verify` (verdict.ts) — given the keys the user pinned: a trust file (chosen
 * or pasted) and/or full owner and ledger keys. The Content-Security-Policy forbids every network
 * request; nothing leaves the browser.
 */
import { nobleEd25519 } from "../../crypto/ed25519.js";
import { isLatchkeyError } from "../../errors/error.js";
import { buildEvidenceReport, renderEvidenceReportBody, renderVerdictBanner } from "../report.js";
import { mergeTrust, NO_TRUST, parsePinnedKey, parseTrustFile, type EvidenceTrust } from "../trust.js";
import { evidenceVerdict, unreadableVerdict } from "../verdict.js";
import { keyFingerprint, verifyEvidenceBundle } from "../verify.js";

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const byId = <T extends HTMLElement>(id: string): T | null => document.getElementById(id) as T | null;

/** The trust file loaded from disk (its text), kept until another is chosen. */
let trustFileText = "";
/** The last bundle checked, verified again whenever the pinned keys change. */
let bundle: Uint8Array | null = null;

/** The pins from every trust input, or the error that makes them unusable. */
function currentTrust(): { trust: EvidenceTrust } | { error: string } {
  try {
    let trust = NO_TRUST;
    if (trustFileText.trim() !== "") trust = mergeTrust(trust, parseTrustFile(trustFileText));
    const pasted = byId<HTMLTextAreaElement>("trust-text")?.value ?? "";
    if (pasted.trim() !== "") trust = mergeTrust(trust, parseTrustFile(pasted));
    const owner = byId<HTMLInputElement>("owner-key")?.value.trim() ?? "";
    if (owner !== "")
      trust = mergeTrust(trust, { ...NO_TRUST, owners: [parsePinnedKey(owner, "owner key")] });
    const ledger = byId<HTMLInputElement>("ledger-key")?.value.trim() ?? "";
    if (ledger !== "")
      trust = mergeTrust(trust, {
        ...NO_TRUST,
        ledgers: [{ origin: null, publicKey: parsePinnedKey(ledger, "ledger key") }],
      });
    return { trust };
  } catch (e) {
    return { error: isLatchkeyError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
}

function showTrust(): ReturnType<typeof currentTrust> {
  const t = currentTrust();
  const out = byId("trust-status");
  if (out !== null) {
    if ("error" in t) {
      out.innerHTML = `<span data-trust-error>${esc(t.error)}</span>`;
    } else {
      const { owners, ledgers } = t.trust;
      const parts = [
        ...owners.map((k) => `owner key ${keyFingerprint(k)}`),
        ...ledgers.map(
          (l) => `ledger key ${keyFingerprint(l.publicKey)}${l.origin === null ? "" : ` (${l.origin})`}`,
        ),
      ];
      out.textContent = parts.length === 0 ? "Nothing pinned." : `Pinned: ${parts.join("; ")}.`;
    }
  }
  return t;
}

function show(html: string, status: string): void {
  const out = byId("result");
  if (out === null) return;
  out.innerHTML = html; // every value in it is escaped by the renderers
  document.body.dataset.status = status;
}

async function check(): Promise<void> {
  if (bundle === null) return;
  document.body.dataset.status = "working";
  // Let the "verifying…" state paint before the synchronous work starts.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const pins = showTrust();
  const json = byId("report-json");
  if ("error" in pins) {
    // Like the CLI: an unusable trust file is refused before anything is verified.
    const verdict = unreadableVerdict("trust-invalid", "trust", pins.error);
    if (json !== null) json.textContent = JSON.stringify({ conclusion: verdict }, null, 2);
    show(renderVerdictBanner(verdict), verdict.verdict);
    return;
  }
  const result = verifyEvidenceBundle(bundle, {
    ed25519: nobleEd25519,
    // Pinned witnesses must have cosigned the head, as in the CLI.
    ...(pins.trust.witnesses.length > 0 ? { witnessKeys: pins.trust.witnesses } : {}),
  });
  const report = buildEvidenceReport(result, evidenceVerdict(result, pins.trust));
  if (json !== null) json.textContent = JSON.stringify(report, null, 2);
  show(renderEvidenceReportBody(report), report.conclusion.verdict);
}

function start(): void {
  const input = byId<HTMLInputElement>("file");
  const zone = byId("drop");
  const onError = (e: unknown): void => show(`<p>Could not read the file: ${esc(String(e))}</p>`, "error");
  const load = (f: File): void => {
    f.arrayBuffer()
      .then((b) => {
        bundle = new Uint8Array(b);
        return check();
      })
      .catch(onError);
  };
  input?.addEventListener("change", () => {
    const f = input.files?.[0];
    if (f !== undefined) load(f);
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
    if (f !== undefined) load(f);
  });
  const trustFile = byId<HTMLInputElement>("trust-file");
  trustFile?.addEventListener("change", () => {
    const f = trustFile.files?.[0];
    if (f === undefined) return;
    f.text()
      .then((text) => {
        trustFileText = text;
        showTrust();
        return check();
      })
      .catch(onError);
  });
  for (const id of ["trust-text", "owner-key", "ledger-key"])
    byId(id)?.addEventListener("change", () => {
      showTrust();
      check().catch(onError);
    });
  showTrust();
  document.body.dataset.status = "ready";
}

start();
