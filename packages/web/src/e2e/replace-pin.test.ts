/**
 * A chosen PIN that someone else already uses, in a real browser against a real demo hub: the hub
 * answers exactly as for any PIN (it keeps nothing it could compare), each virtual lock refuses
 * the duplicate, the person page says so in words with the fix, and **Replace PIN** shows a new
 * random PIN once, which then reaches both locks while the refused one is removed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import {
  checkScreen,
  DESKTOP,
  ensureWebBuild,
  launchChromium,
  signUpOwner,
  startHub,
  watchPage,
} from "./harness.js";

let browser: Browser;

beforeAll(async () => {
  const [, b] = await Promise.all([ensureWebBuild(), launchChromium()]);
  browser = b;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Adds a person with everyday access to every door; `pin` chosen, or generated when null. */
async function addPerson(page: Page, name: string, pin: string | null): Promise<string> {
  await page.getByRole("link", { name: "People", exact: true }).first().click();
  await page.getByRole("link", { name: "Add a person" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Category").selectOption("family");
  await page.getByLabel("At any time").check();
  if (pin !== null) {
    await page.getByLabel("Choose the PIN").check();
    await page.getByLabel(/^PIN \(/).fill(pin);
  }
  await page.getByRole("button", { name: `Add ${name}` }).click();
  const shown = (await page.getByTestId("new-pin").textContent()) ?? "";
  await page.getByRole("link", { name: /Done/ }).click();
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(name);
  return shown;
}

describe("a PIN the locks already have", () => {
  it("is refused by each lock, said in words, and replaced by a new PIN that reaches both", async () => {
    const hub = await startHub({ demo: true });
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const { problems } = watchPage(page);
    try {
      await signUpOwner(page, hub.setupLink, () => hub.now());
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Dashboard");

      const samPin = await addPerson(page, "Sam Reed", null);
      expect(samPin).toMatch(/^\d{6}$/);
      const samSync = page.getByTestId("sync-status");
      await expect.poll(() => samSync.locator('li[data-state="set"]').count(), { timeout: 20_000 }).toBe(2);

      // Kim's chosen PIN is Sam's: the hub answers as for any PIN; the locks refuse it.
      const kimPin = await addPerson(page, "Kim Park", samPin);
      expect(kimPin).toBe(samPin);
      const active = page.locator("li.list-row:not(.ended)").filter({ has: page.getByTestId("sync-status") });
      const kimSync = active.getByTestId("sync-status");
      await expect
        .poll(() => kimSync.locator('li[data-state="failed"]').count(), { timeout: 20_000 })
        .toBe(2);
      for (const door of ["Front door", "Back door"])
        await kimSync
          .locator('li[data-state="failed"]')
          .filter({ hasText: `${door}:` })
          .getByText(/the lock already has this PIN or card for another user; replace the PIN/)
          .waitFor();
      await checkScreen(page, "60-pin-refused-as-duplicate");

      // Replace PIN: a new random PIN, shown once, set on both locks; the refused one is revoked.
      await active.getByRole("button", { name: "Replace PIN" }).click();
      const newPin = (await page.getByTestId("new-pin").textContent()) ?? "";
      expect(newPin).toMatch(/^\d{6}$/);
      expect(newPin).not.toBe(samPin);
      await expect
        .poll(() => active.getByTestId("sync-status").locator('li[data-state="set"]').count(), {
          timeout: 20_000,
        })
        .toBe(2);
      await expect.poll(() => page.locator("li.list-row.ended .status-revoked").count()).toBe(1);
      await checkScreen(page, "61-pin-replaced");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
    }
  });
});
