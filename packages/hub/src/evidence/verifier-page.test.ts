/**
 * The offline verifier page in a real browser (Debian chromium, headless): built with esbuild,
 * loaded from file://, given pinned keys (a trust file, pasted or chosen, or single keys) and fed
 * bundles through its file input; it must give every test vector (examples/evidence/vectors) the
 * same verdict as the CLI, and make no network request at all.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceVector } from "../../../../scripts/make-evidence-vectors.js";

const root = join(import.meta.dirname, "../../../..");
const CHROMIUM = "/usr/bin/chromium";
const vectors = join(root, "examples/evidence/vectors");
const demoTrust = join(vectors, "trust-demo.json");
const DONE = ["proven", "not-conclusive", "invalid", "unreadable"]
  .map((s) => `body[data-status=${s}]`)
  .join(", ");

describe.skipIf(!existsSync(CHROMIUM))("offline verifier page", () => {
  let browser: Browser;
  let page: string;

  beforeAll(async () => {
    page = join(mkdtempSync(join(tmpdir(), "latchkey-page-")), "verifier.html");
    const built = spawnSync(
      process.execPath,
      ["--import", "tsx", join(root, "scripts/build-verifier-page.ts"), page],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(built.status, built.stderr).toBe(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  interface Shown {
    status: string;
    verdict: string;
    reasons: string[];
    elements: string[];
    element: string;
    summary: string;
    requests: string[];
  }

  async function verdictOf(file: string, pagePath = page, trust: string | null = null): Promise<Shown> {
    const context = await browser.newContext();
    const requests: string[] = [];
    context.on("request", (r) => {
      if (!r.url().startsWith("file://")) requests.push(r.url());
    });
    const tab = await context.newPage();
    tab.on("request", (r) => requests.push(r.url()));
    await tab.goto(pathToFileURL(pagePath).href);
    await tab.waitForSelector("body[data-status=ready]");
    if (trust !== null) {
      await tab.setInputFiles("#trust-file", trust);
      await tab.waitForFunction(() => {
        const status = document.getElementById("trust-status");
        return (
          status?.textContent?.startsWith("Pinned") === true || status?.querySelector("[data-trust-error]")
        );
      });
    }
    await tab.setInputFiles("#file", file);
    await tab.waitForSelector(DONE, { timeout: 30_000 });
    const shown = await readVerdict(tab);
    await context.close();
    // The page itself is the only file:// request.
    return { ...shown, requests: requests.filter((u) => u !== pathToFileURL(pagePath).href) };
  }

  async function readVerdict(tab: Page): Promise<Omit<Shown, "requests">> {
    const status = (await tab.getAttribute("body", "data-status")) ?? "";
    const verdict = (await tab.getAttribute("[data-verdict]", "data-verdict")) ?? "";
    const reasons = await tab
      .locator("[data-reason-code]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-reason-code") ?? ""));
    const elements = await tab
      .locator("[data-reason-code]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-reason-element") ?? ""));
    const element =
      (await tab.locator("[data-element]").count()) > 0
        ? await tab.locator("[data-element]").innerText()
        : "";
    const summary =
      (await tab.locator("[data-summary]").count()) > 0
        ? await tab.locator("[data-summary]").first().innerText()
        : "";
    return { status, verdict, reasons, elements, element, summary };
  }

  it("verifies a bundle dropped onto it", async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(pathToFileURL(page).href);
    await tab.waitForSelector("body[data-status=ready]");
    const text = readFileSync(join(root, "examples/evidence/sample-bundle.json"), "utf8");
    await tab.evaluate((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], "bundle.json", { type: "application/json" }));
      document
        .getElementById("drop")
        ?.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    await tab.waitForSelector(DONE, { timeout: 30_000 });
    expect(await tab.getAttribute("body", "data-status")).toBe("not-conclusive");
    await context.close();
  });

  it("proves the sample with its keys pinned, shows the summary, and makes no network request", async () => {
    const r = await verdictOf(join(root, "examples/evidence/sample-bundle.json"), page, demoTrust);
    expect([r.status, r.verdict]).toEqual(["proven", "proven"]);
    expect(r.summary).toContain(
      "locked 22:00:14 by auto-lock; no valid credential used until 03:12:40, when DoorForcedOpen was raised",
    );
    expect(r.requests).toEqual([]);
  });

  it("the committed page (examples/evidence/verifier.html) proves the committed sample", async () => {
    const r = await verdictOf(
      join(root, "examples/evidence/sample-bundle.json"),
      join(root, "examples/evidence/verifier.html"),
      demoTrust,
    );
    expect(r.status).toBe("proven");
    expect(r.requests).toEqual([]);
  });

  it("rejects the tampered sample, naming the failing element, with no network request", async () => {
    const r = await verdictOf(join(root, "examples/evidence/sample-tampered.json"));
    expect([r.status, r.verdict]).toEqual(["invalid", "invalid"]);
    expect(r.element).toBe("locks[0].events[0]");
    expect(r.requests).toEqual([]);
  });

  it("takes pasted or single pinned keys, re-verifies when they change, and refuses a bad trust file", async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(pathToFileURL(page).href);
    await tab.waitForSelector("body[data-status=ready]");
    await tab.setInputFiles("#file", join(vectors, "valid.json"));
    await tab.waitForSelector("body[data-status=not-conclusive]", { timeout: 30_000 });
    const shown = await readVerdict(tab);
    expect(shown.reasons).toEqual(["owner-key-not-pinned", "ledger-key-not-pinned"]);
    expect(await tab.locator("[data-owner-fingerprint]").innerText()).toMatch(
      /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/,
    );
    const demo = JSON.parse(readFileSync(demoTrust, "utf8")) as {
      owners: { publicKey: string }[];
      ledgers: { publicKey: string }[];
    };
    await tab.fill("#owner-key", demo.owners[0]!.publicKey);
    await tab.dispatchEvent("#owner-key", "change");
    await tab.waitForFunction(() => document.querySelectorAll("[data-reason-code]").length === 1);
    expect((await readVerdict(tab)).reasons).toEqual(["ledger-key-not-pinned"]);
    await tab.fill("#ledger-key", Buffer.from(demo.ledgers[0]!.publicKey, "base64").toString("hex"));
    await tab.dispatchEvent("#ledger-key", "change");
    await tab.waitForSelector("body[data-status=proven]", { timeout: 30_000 });
    // A pasted trust file with a fingerprint for a key: unreadable, like the CLI's exit 2.
    await tab.fill("#trust-text", readFileSync(join(vectors, "trust-invalid.json"), "utf8"));
    await tab.dispatchEvent("#trust-text", "change");
    await tab.waitForSelector("body[data-status=unreadable]", { timeout: 30_000 });
    expect(await tab.locator("[data-trust-error]").innerText()).toContain("EVIDENCE_TRUST_INVALID");
    expect((await readVerdict(tab)).reasons).toEqual(["trust-invalid"]);
    await context.close();
  });

  it(
    "gives every test vector its expected verdict, reasons and failing element",
    { timeout: 300_000 },
    async () => {
      const manifest = JSON.parse(readFileSync(join(vectors, "manifest.json"), "utf8")) as {
        vectors: EvidenceVector[];
      };
      for (const v of manifest.vectors) {
        const label = `${v.file} with ${v.trust ?? "nothing pinned"}`;
        const r = await verdictOf(
          join(vectors, v.file),
          page,
          v.trust === null ? null : join(vectors, v.trust),
        );
        expect([r.status, r.verdict], label).toEqual([v.verdict, v.verdict]);
        expect(r.reasons, label).toEqual(v.reasons);
        expect(r.elements[0] ?? null, label).toBe(v.element);
        expect(r.requests, label).toEqual([]);
      }
    },
  );
});
