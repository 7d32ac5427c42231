/**
 * Locks in a real browser against a real demo hub (two virtual locks speaking the real protocol
 * through the hub's own broker): the live dashboard, adding a third lock with its setup code
 * (a wrong code first), a cleaner's PIN and an everyday PIN syncing to every lock, and the demo
 * panel's keypad answering with the lock's own decision. Each screen is checked with axe-core and
 * photographed at desktop and phone widths.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { SimLock } from "../../../hub/src/sim/sim-lock.js";
import {
  checkScreen,
  DESKTOP,
  ensureWebBuild,
  launchChromium,
  startHub,
  watchPage,
  signUpOwner,
} from "./harness.js";

let browser: Browser;

beforeAll(async () => {
  const [, b] = await Promise.all([ensureWebBuild(), launchChromium()]);
  browser = b;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** The text of one fact (online, lock, door, battery) on a door's dashboard tile. */
function fact(page: Page, door: string, name: string) {
  return page.locator(`.door-tile[data-door="${door}"] [data-fact="${name}"]`).textContent();
}

/** Whether `at` falls in Friday 10:00–12:00 in this process's time zone (the demo site's). */
function inFridayWindow(at: number): { inside: boolean; nearEdge: boolean } {
  const parts = new Intl.DateTimeFormat("en-GB", {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const minutes = Number(get("hour")) * 60 + Number(get("minute"));
  const friday = get("weekday") === "Fri";
  const inside = friday && minutes >= 600 && minutes < 720;
  const nearEdge = friday && (Math.abs(minutes - 600) <= 1 || Math.abs(minutes - 720) <= 1);
  return { inside, nearEdge };
}

describe("locks in the web app", () => {
  it("dashboard, adding a lock, sync status per lock and the demo keypad", async () => {
    const hub = await startHub({ demo: true });
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const { problems } = watchPage(page);
    let extra: SimLock | null = null;
    try {
      // First run lands on the dashboard: the demo site's two doors, each with an online lock.
      await signUpOwner(page, hub.setupLink, () => hub.now());
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Dashboard");
      await page.getByRole("heading", { name: "Demo home" }).waitFor();
      for (const door of ["Front door", "Back door"]) {
        await expect.poll(() => fact(page, door, "online")).toBe("Online");
        await expect.poll(() => fact(page, door, "lock")).toMatch(/^(Locked|Unlocked|Not fully locked)$/);
        await expect.poll(() => fact(page, door, "battery")).toMatch(/^\d+%/);
      }
      await checkScreen(page, "20-dashboard");

      // A third door, and a new lock that announces itself to the hub.
      await page.getByRole("link", { name: "Sites & doors" }).click();
      await page.getByRole("button", { name: "Add a door" }).click();
      await page.getByLabel("Door name").fill("Garage door");
      await page.getByRole("button", { name: "Add door" }).click();
      await page.getByRole("list", { name: "Doors of Demo home" }).getByText("Garage door").waitFor();
      extra = await SimLock.start({
        dir: join(hub.dataDir, "extra-lock"),
        url: hub.brokerUrl,
        announceEveryMs: 300,
        commissioning: { pbkdf2Iterations: 1000 },
      });
      const setupCode = extra.setupCode ?? "";
      expect(setupCode).toMatch(/^\d{8}$/);

      await page.getByRole("link", { name: "Dashboard" }).first().click();
      await page.getByRole("link", { name: "Add a lock to Garage door" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Add a lock");
      const waiting = page.getByText(`Lock ${extra.lockId} is waiting`);
      await waiting.waitFor();
      await checkScreen(page, "21-add-lock");

      // A wrong code: the lock refuses, the hub says so in words, nothing is stored.
      const wrong = setupCode === "24681357" ? "13572468" : "24681357";
      await page.getByLabel("Setup code").fill(wrong);
      await page.getByRole("button", { name: "Add lock" }).click();
      await expect.poll(() => page.locator(".field-error").textContent()).toMatch(/setup code is wrong/);
      await checkScreen(page, "22-add-lock-wrong-code");
      await waiting.waitFor();
      await page.getByLabel("Setup code").fill(`${setupCode.slice(0, 4)} ${setupCode.slice(4)}`);
      await page.getByRole("button", { name: "Add lock" }).click();
      await page.getByText(`Garage door now has lock ${extra.lockId}.`).waitFor();
      await page.getByRole("link", { name: "Back to the dashboard" }).click();
      await expect.poll(() => fact(page, "Garage door", "online")).toBe("Online");

      // A cleaner on Fridays 10:00–12:00 with a PIN, made through the people screens.
      await page.getByRole("link", { name: "People", exact: true }).first().click();
      await page.getByRole("link", { name: "Add a person" }).click();
      await page.getByLabel("Name", { exact: true }).fill("Ana Lima");
      await page.getByLabel("Category").selectOption("cleaner");
      await page.getByLabel("Only on certain days and times").check();
      await page.getByLabel("Friday").check();
      await page.getByLabel("from", { exact: true }).fill("10:00");
      await page.getByLabel("to", { exact: true }).fill("12:00");
      await page.getByRole("button", { name: "Add Ana Lima" }).click();
      const anaPin = (await page.getByTestId("new-pin").textContent()) ?? "";
      expect(anaPin).toMatch(/^\d{6}$/);
      await page.getByRole("link", { name: /Done/ }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Ana Lima");

      // Her PIN reaches every lock: the person page follows it live, lock by lock.
      const sync = page.getByTestId("sync-status");
      await expect.poll(() => sync.locator("li").count()).toBe(3);
      await expect.poll(() => sync.locator('li[data-state="set"]').count(), { timeout: 20_000 }).toBe(3);
      for (const door of ["Front door", "Back door", "Garage door"])
        await sync.getByText(`${door}: Set on the lock`).waitFor();
      await checkScreen(page, "23-person-sync");

      // Someone with everyday access, so one keypad answer does not depend on today.
      await page.getByRole("link", { name: /People at/ }).click();
      await page.getByRole("link", { name: "Add a person" }).click();
      await page.getByLabel("Name", { exact: true }).fill("Sam Reed");
      await page.getByLabel("Category").selectOption("family");
      await page.getByLabel("At any time").check();
      await page.getByRole("button", { name: "Add Sam Reed" }).click();
      const samPin = (await page.getByTestId("new-pin").textContent()) ?? "";
      await page.getByRole("link", { name: /Done/ }).click();
      await expect
        .poll(() => page.getByTestId("sync-status").locator('li[data-state="set"]').count(), {
          timeout: 20_000,
        })
        .toBe(3);

      // The demo panel: the cleaner's PIN at the front door, answered by the lock itself.
      await page.getByRole("link", { name: "Dashboard" }).first().click();
      await page.getByRole("link", { name: "Demo lock panel" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Demo lock panel");
      const front = page.locator('section.demo-lock[data-door="Front door"]');
      await front.getByLabel("Digits typed at Front door").fill(anaPin);
      const typedAt = Date.now();
      await front.getByRole("button", { name: "Enter at Front door" }).click();
      const answer = front.getByTestId("demo-answer");
      await expect.poll(() => answer.textContent()).toMatch(/^(Granted|Denied: .+)$/);
      const window = inFridayWindow(typedAt);
      const said = (await answer.textContent()) ?? "";
      if (!window.nearEdge) expect(said).toBe(window.inside ? "Granted" : "Denied: outside schedule");
      else expect(["Granted", "Denied: outside schedule"]).toContain(said);

      // Sam's PIN, typed on the on-screen keys: always granted.
      await front.getByLabel("Digits typed at Front door").fill("");
      for (const digit of samPin)
        await front
          .getByRole("group", { name: "Front door keypad keys" })
          .getByRole("button", { name: digit, exact: true })
          .click();
      await front.getByRole("button", { name: "Enter at Front door" }).click();
      await expect.poll(() => answer.textContent()).toBe("Granted");
      await expect.poll(() => front.getByTestId("demo-state").textContent()).toMatch(/Unlocked/);

      // A wrong PIN is refused with the lock's reason in words.
      await front.getByLabel("Digits typed at Front door").fill("20250");
      await front.getByLabel("Digits typed at Front door").press("Enter");
      await expect.poll(() => answer.textContent()).toBe("Denied: not a code or card this lock knows");

      // The door sensor and battery, then their live state on the dashboard.
      const doorButton = front.getByRole("button", { name: "Door open (Front door)" });
      await doorButton.click();
      await expect.poll(() => doorButton.getAttribute("aria-pressed")).toBe("true");
      const slider = front.getByLabel("Battery level at Front door");
      await slider.focus();
      await slider.press("Home");
      for (let i = 0; i < 15; i++) await slider.press("ArrowRight");
      await expect.poll(() => front.getByTestId("demo-state").textContent()).toMatch(/Battery 15%/);
      await checkScreen(page, "24-demo-panel");

      // The dashboard follows the locks live: the garage lock goes away, its tile says so and a
      // polite live region announces it.
      await page.getByRole("link", { name: "Dashboard" }).first().click();
      await expect.poll(() => fact(page, "Garage door", "online")).toBe("Online");
      await extra.stop();
      extra = null;
      await expect.poll(() => fact(page, "Garage door", "online"), { timeout: 15_000 }).toBe("Offline");
      await expect
        .poll(() => page.getByTestId("live-announcer").textContent(), { timeout: 5_000 })
        .toContain("Garage door: lock offline");
      await expect.poll(() => fact(page, "Front door", "online")).toBe("Online");

      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await extra?.stop();
      await hub.close();
    }
  });
});
