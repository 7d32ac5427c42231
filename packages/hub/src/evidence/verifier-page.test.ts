/**
 * The offline verifier page in a real browser (Debian chromium, headless): built with esbuild,
 * loaded from file://, fed the sample and a tampered copy through its file input; it must give
 * the same verdicts as the CLI and make no network request at all.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../../..");
const CHROMIUM = "/usr/bin/chromium";

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

  async function verdictOf(
    file: string,
    pagePath = page,
  ): Promise<{ status: string; element: string; summary: string; requests: string[] }> {
    const context = await browser.newContext();
    const requests: string[] = [];
    context.on("request", (r) => {
      if (!r.url().startsWith("file://")) requests.push(r.url());
    });
    const tab = await context.newPage();
    tab.on("request", (r) => requests.push(r.url()));
    await tab.goto(pathToFileURL(pagePath).href);
    await tab.waitForSelector("body[data-status=ready]");
    await tab.setInputFiles("#file", file);
    await tab.waitForSelector(
      "body[data-status=valid], body[data-status=invalid], body[data-status=unreadable]",
      { timeout: 30_000 },
    );
    const status = (await tab.getAttribute("body", "data-status")) ?? "";
    const element =
      (await tab.locator("[data-element]").count()) > 0
        ? await tab.locator("[data-element]").innerText()
        : "";
    const summary =
      (await tab.locator("[data-summary]").count()) > 0
        ? await tab.locator("[data-summary]").first().innerText()
        : "";
    await context.close();
    // The page itself is the only file:// request.
    return { status, element, summary, requests: requests.filter((u) => u !== pathToFileURL(pagePath).href) };
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
    await tab.waitForSelector(
      "body[data-status=valid], body[data-status=invalid], body[data-status=unreadable]",
      {
        timeout: 30_000,
      },
    );
    expect(await tab.getAttribute("body", "data-status")).toBe("valid");
    await context.close();
  });

  it("accepts the sample, shows the summary, and makes no network request", async () => {
    const r = await verdictOf(join(root, "examples/evidence/sample-bundle.json"));
    expect(r.status).toBe("valid");
    expect(r.summary).toContain(
      "locked 22:00:14 by auto-lock; no valid credential used until 03:12:40, when DoorForcedOpen was raised",
    );
    expect(r.requests).toEqual([]);
  });

  it("the committed page (examples/evidence/verifier.html) verifies the committed sample", async () => {
    const r = await verdictOf(
      join(root, "examples/evidence/sample-bundle.json"),
      join(root, "examples/evidence/verifier.html"),
    );
    expect(r.status).toBe("valid");
    expect(r.requests).toEqual([]);
  });

  it("rejects the tampered sample, naming the failing element, with no network request", async () => {
    const r = await verdictOf(join(root, "examples/evidence/sample-tampered.json"));
    expect(r.status).toBe("invalid");
    expect(r.element).toBe("locks[0].events[0]");
    expect(r.requests).toEqual([]);
  });
});
