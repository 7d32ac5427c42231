/**
 * The whole "what good looks like" story (docs/DESIGN.md), in order, as a newcomer lives it, in
 * real Chromium against a real demo hub (two virtual locks speaking the real protocol):
 *   a. first run with the setup link: the owner account with a passkey (Chromium's virtual
 *      authenticator) and recovery codes; sign out, sign in again with the passkey;
 *   b. the dashboard shows both demo doors online;
 *   c. a cleaner's Friday 10:00–12:00 code, made on the people screens, reaches both locks;
 *   d. codes typed on the demo keypad; the lock-signed events arrive in Door activity, "Sealed by
 *      lock"; a code programmed at a lock by hand and a tamper show on the dashboard's alerts;
 *   e. the front doorbell's webhook asks to open (with a snapshot); the request is approved with
 *      the passkey: the demo lock opens;
 *   f. an evidence bundle for the front door over the last hours, valid on the Verify page and
 *      to `latchkey verify`; with one byte changed, not valid to either.
 * Every main screen is checked with axe-core and photographed ("50-story-…").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import verifyCommand from "../../../hub/src/cli/verify.js";
import {
  addVirtualAuthenticator,
  checkScreen,
  DESKTOP,
  doorstepPng,
  ensureWebBuild,
  launchChromium,
  startHub,
  watchPage,
} from "./harness.js";

const PASSWORD = "a quiet harbour at dawn";

let browser: Browser;

beforeAll(async () => {
  const [, b] = await Promise.all([ensureWebBuild(), launchChromium()]);
  browser = b;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const heading = (page: Page) => page.getByRole("heading", { level: 1 }).textContent();

/** The text of one fact (online, lock, door, battery) on a door's dashboard tile. */
const fact = (page: Page, door: string, name: string) =>
  page.locator(`.door-tile[data-door="${door}"] [data-fact="${name}"]`).textContent();

async function toDashboard(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Dashboard" }).first().click();
  await expect.poll(() => heading(page)).toBe("Dashboard");
}

/** Adds a person with a PIN on the people screens; returns the PIN shown once. */
async function addPerson(
  page: Page,
  name: string,
  category: string,
  when: "always" | "friday-morning",
): Promise<string> {
  await page.getByRole("link", { name: "People", exact: true }).first().click();
  await page.getByRole("link", { name: "Add a person" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Category").selectOption(category);
  if (when === "always") await page.getByLabel("At any time").check();
  else {
    await page.getByLabel("Only on certain days and times").check();
    await page.getByLabel("Friday").check();
    await page.getByLabel("from", { exact: true }).fill("10:00");
    await page.getByLabel("to", { exact: true }).fill("12:00");
  }
  await page.getByRole("button", { name: `Add ${name}` }).click();
  const pin = (await page.getByTestId("new-pin").textContent()) ?? "";
  expect(pin).toMatch(/^\d{6}$/);
  await page.getByRole("link", { name: /Done/ }).click();
  await expect.poll(() => heading(page)).toBe(name);
  return pin;
}

/** Runs `latchkey verify FILE` in this process; its exit status. */
async function cliVerify(bytes: Uint8Array, pins: readonly string[] = []): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-story-"));
  try {
    const file = join(dir, "evidence.json");
    writeFileSync(file, bytes);
    return await verifyCommand.run([file, ...pins]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the Latchkey story in the web app", () => {
  it("first run with a passkey → dashboard → cleaner's code on both locks → keypad → sealed event → alerts → passkey-approved unlock → evidence verified, then refused after one byte", async () => {
    const started = Date.now();
    const hub = await startHub({ demo: true });
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const { problems } = watchPage(page);
    const demo = hub.hub.ctx.devices.demo;
    try {
      if (demo === null) throw new Error("demo site missing");
      const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);

      // a. First run: the owner account, a passkey as the second factor, recovery codes saved.
      await page.goto(hub.setupLink);
      await page.getByLabel("Name of your home or organisation").fill("Demo household");
      await page.getByLabel("User name").fill("owner");
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await checkScreen(page, "50-story-01-setup");
      await page.getByRole("button", { name: "Create owner account" }).click();
      await page.getByLabel(/Passkey/).check();
      await checkScreen(page, "50-story-02-enrol-passkey");
      await page.getByRole("button", { name: "Create a passkey" }).click();
      const codes = page.getByRole("list", { name: "Recovery codes" }).locator("li");
      await expect.poll(() => codes.count()).toBe(10);
      await checkScreen(page, "50-story-03-recovery-codes");
      await page.getByLabel("I have saved these recovery codes somewhere safe").check();
      await page.getByRole("button", { name: "Continue" }).click();
      await expect.poll(() => heading(page)).toBe("Dashboard");
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);

      // Sign out, and in again with password and passkey.
      await page.getByRole("button", { name: "Sign out" }).click();
      await expect.poll(() => heading(page)).toBe("Sign in to Latchkey");
      await page.getByLabel("User name").fill("owner");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect.poll(() => heading(page)).toBe("Confirm it is you");
      await checkScreen(page, "50-story-04-sign-in-passkey");
      await page.getByRole("button", { name: "Use your passkey" }).click();

      // b. The dashboard: the demo site's two doors, each lock online.
      await expect.poll(() => heading(page)).toBe("Dashboard");
      await page.getByRole("heading", { name: "Demo home" }).waitFor();
      for (const door of ["Front door", "Back door"]) {
        await expect.poll(() => fact(page, door, "online")).toBe("Online");
        await expect.poll(() => fact(page, door, "lock")).toMatch(/^(Locked|Unlocked|Not fully locked)$/);
      }
      await page.getByText("No open alerts: nothing needs your attention.").waitFor();
      await checkScreen(page, "50-story-05-dashboard");

      // c. The cleaner's Friday-morning code reaches both locks.
      const anaPin = await addPerson(page, "Ana Lima", "cleaner", "friday-morning");
      await page
        .getByText(/Every Friday 10:00–12:00/)
        .first()
        .waitFor();
      const sync = page.getByTestId("sync-status");
      await expect.poll(() => sync.locator("li").count()).toBe(2);
      await expect.poll(() => sync.locator('li[data-state="set"]').count(), { timeout: 30_000 }).toBe(2);
      for (const door of ["Front door", "Back door"])
        await sync.getByText(`${door}: Set on the lock`).waitFor();
      await checkScreen(page, "50-story-06-cleaner-on-both-locks");
      // Someone with an "always" code, so one keypad answer does not depend on today's date.
      const samPin = await addPerson(page, "Sam Reed", "family", "always");
      await expect
        .poll(() => page.getByTestId("sync-status").locator('li[data-state="set"]').count(), {
          timeout: 30_000,
        })
        .toBe(2);

      // d. The keypad: Sam is let in; the cleaner by her schedule; the lock's own answer each time.
      await toDashboard(page);
      await page.getByRole("link", { name: "Demo lock panel" }).click();
      await expect.poll(() => heading(page)).toBe("Demo lock panel");
      const front = page.locator('section.demo-lock[data-door="Front door"]');
      const answer = front.getByTestId("demo-answer");
      const keypad = front.getByLabel("Digits typed at Front door");
      await keypad.fill(samPin);
      await front.getByRole("button", { name: "Enter at Front door" }).click();
      await expect.poll(() => answer.textContent()).toBe("Granted");
      await keypad.fill(anaPin);
      await front.getByRole("button", { name: "Enter at Front door" }).click();
      await expect.poll(() => answer.textContent()).toMatch(/^(Granted|Denied: outside schedule)$/);
      const anaGranted = (await answer.textContent()) === "Granted";
      // And someone takes the front cover off: the lock raises a tamper alarm.
      await front.getByLabel("What happens at Front door").selectOption("escutcheon-removed");
      await front.getByRole("button", { name: "Trigger tamper at Front door" }).click();
      await expect.poll(() => answer.textContent()).toBe("Tamper: front cover removed");
      await checkScreen(page, "50-story-07-demo-keypad");

      // The dashboard's recent activity shows them as they arrive…
      await toDashboard(page);
      await page
        .getByTestId("recent-activity")
        .getByText("Front door · Sam Reed unlocked with a PIN")
        .first()
        .waitFor({ timeout: 30_000 });
      await checkScreen(page, "50-story-07b-dashboard-activity");
      // …and Door activity has every signed event, each sealed by the lock.
      await page.getByRole("link", { name: "Recent activity" }).click();
      const rows = page.locator("[data-windowed-list] li");
      const row = (text: string | RegExp) => rows.filter({ hasText: text }).first();
      const samRow = row("Front door · Sam Reed unlocked with a PIN");
      await expect
        .poll(
          async () => {
            if ((await samRow.count()) > 0) return true;
            await page.reload();
            await page.locator("[data-activity-status]").waitFor({ state: "attached" });
            return (await samRow.count()) > 0;
          },
          { timeout: 30_000, interval: 1000 },
        )
        .toBe(true);
      await samRow.getByText("Sealed by lock").waitFor();
      const anaRow = row(
        anaGranted
          ? "Front door · Ana Lima unlocked with a PIN"
          : /Front door · Refused( Ana Lima)? with a PIN: outside schedule/,
      );
      await anaRow.getByText("Sealed by lock").waitFor();
      await row("Front door · Alarm: the front cover was removed").getByText("Sealed by lock").waitFor();
      await checkScreen(page, "50-story-08-door-activity");

      // Someone programs a code at the front lock's keypad by hand: the hub notices the drift.
      const doors = await hub.hub.ledger.db
        .selectFrom("doors")
        .select(["id", "name"])
        .where("site_id", "=", demo.siteId)
        .execute();
      const frontDoorId = doors.find((d) => d.name === "Front door")?.id ?? "";
      const frontLock = demo.locks.get(frontDoorId);
      if (frontLock === undefined) throw new Error("no demo lock at the front door");
      frontLock.lock.runtime.addUser({ name: "" }, 40);
      frontLock.lock.runtime.setPin(40, "493817", 77);
      await toDashboard(page);
      const alerts = page.getByTestId("site-alerts");
      const drift = alerts.locator('li[data-kind="sync-drift"]');
      await expect
        .poll(() => drift.locator("[data-alert-text]").first().textContent(), { timeout: 30_000 })
        .toBe("Front door: a code was added at the lock itself (slot 77), not by Latchkey");
      await alerts.getByText("Front door · Alarm: the front cover was removed").waitFor();
      await checkScreen(page, "50-story-09-dashboard-alerts");
      await drift
        .first()
        .getByRole("button", { name: /^Acknowledge/ })
        .click();
      await expect.poll(() => drift.count()).toBe(0);

      // e. The front doorbell rings — its webhook, called as a camera or NVR would, with a
      //    snapshot — and the request is approved with the passkey: the demo lock opens.
      await page.goto(`${hub.origin}/#/sites`);
      await page.getByRole("button", { name: "Doorbell for Front door" }).click();
      // Past the 5-minute step-up window: connecting a doorbell asks for the passkey. The six
      // minutes pass for the front lock too (a lock refuses a clock step over 5 min from the hub).
      hub.advance(6 * 60_000);
      frontLock.lock.hardware.clock.advance(6 * 60_000);
      await page.getByRole("button", { name: "Connect a doorbell" }).click();
      await page
        .getByRole("dialog", { name: "Confirm it is you" })
        .getByRole("button", { name: "Use your passkey" })
        .click();
      const webhookUrl = (await page.locator("[data-doorbell-url]").textContent()) ?? "";
      const authorization = ((await page.locator("[data-doorbell-token]").textContent()) ?? "").replace(
        /^Authorization: /,
        "",
      );
      await checkScreen(page, "50-story-10a-doorbell");
      // Someone locks the door; its signed event makes the hub read the lock's state (and set its
      // clock if it were more than 30 s off), so the approval's certificate is current.
      frontLock.lock.runtime.lockButton();
      expect(frontLock.lock.runtime.boltState).toBe("Locked");
      await expect
        .poll(() => Math.abs((frontLock.lock.hardware.clock.wallMs() ?? 0) - hub.now()))
        .toBeLessThan(30_000);
      const rung = await fetch(webhookUrl, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify({
          note: "Parcel delivery at the door",
          snapshot: `data:image/png;base64,${doorstepPng().toString("base64")}`,
        }),
      });
      expect(rung.status).toBe(202);
      await toDashboard(page);
      await page.getByRole("link", { name: "Unlock requests" }).click();
      await expect.poll(() => heading(page)).toBe("Unlock requests");
      const waiting = page.getByRole("list", { name: "Waiting requests" }).locator("li").first();
      await waiting.getByRole("heading", { name: "the doorbell asks to open Front door" }).waitFor();
      await waiting.getByRole("img").waitFor();
      const requestId = (await waiting.getAttribute("data-request")) ?? "";
      await checkScreen(page, "50-story-10b-unlock-request");
      await waiting.getByRole("button", { name: "Unlock Front door with my passkey" }).click();
      const done = page
        .getByRole("list", { name: "Decided requests" })
        .locator(`li[data-request="${requestId}"]`);
      await expect.poll(() => done.getAttribute("data-status")).toBe("approved");
      await done.getByText("The lock checked your passkey and opened.").waitFor();
      expect(frontLock.lock.runtime.boltState).toBe("Unlocked");
      await toDashboard(page);
      await page.getByRole("link", { name: "Demo lock panel" }).click();
      await expect.poll(() => front.getByTestId("demo-state").textContent()).toMatch(/Unlocked/);

      // f. Evidence for the front door over the last hours: step-up with the passkey, download.
      await page.goto(`${hub.origin}/#/sites/${demo.siteId}/evidence`);
      await page.getByLabel("Front door").check();
      const local = (ms: number) => {
        const d = new Date(ms);
        return new Date(ms - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      };
      await page.getByLabel("From").fill(local(hub.now() - 3 * 3600_000));
      await page.getByLabel("Until").fill(local(hub.now() + 3600_000));
      await checkScreen(page, "50-story-11-evidence");
      // Past the 5-minute step-up window, so exporting asks for the passkey again.
      hub.advance(6 * 60_000);
      await page.getByRole("button", { name: "Export and download" }).click();
      const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
      const downloading = page.waitForEvent("download");
      await dialog.getByRole("button", { name: "Use your passkey" }).click();
      const download = await downloading;
      expect(download.suggestedFilename()).toMatch(/^latchkey-evidence-.*\.json$/);
      const bytes = new Uint8Array(readFileSync(await download.path()));

      // The Verify page (in the browser, nothing sent to the hub): valid.
      await page.goto(`${hub.origin}/#/verify`);
      await page.getByLabel("Evidence file").setInputFiles({
        name: "evidence.json",
        mimeType: "application/json",
        buffer: Buffer.from(bytes),
      });
      await page.locator('[data-verdict="valid"]').waitFor();
      await page.getByText("What this proves").waitFor();
      await checkScreen(page, "50-story-12-verify-valid");

      // One byte changed inside the first event record: not valid, the failing element named.
      const text = new TextDecoder().decode(bytes);
      const at = text.indexOf('"record":"') + '"record":"'.length + 40;
      const tampered = new Uint8Array(bytes);
      tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
      await page.getByLabel("Evidence file").setInputFiles({
        name: "tampered.json",
        mimeType: "application/json",
        buffer: Buffer.from(tampered),
      });
      await page.locator('[data-verdict="invalid"]').waitFor();
      expect((await page.locator("[data-failing-element]").textContent()) ?? "").not.toBe("");
      await checkScreen(page, "50-story-13-verify-invalid");

      // The same two files to `latchkey verify`: with nothing pinned, consistent but not proof
      // (exit 3); with the owner and ledger keys of the site's key card pinned, proof (exit 0);
      // the changed byte, invalid (exit 1).
      const site = await hub.hub.ledger.db
        .selectFrom("site_keys")
        .select("owner_public_key")
        .where("site_id", "=", demo.siteId)
        .executeTakeFirstOrThrow();
      // The C2SP verifier key is <origin>+<key id>+base64(0x01 ‖ Ed25519 key); base64 may hold "+".
      const ledgerKey = Buffer.from(
        hub.hub.ledger.verifierKey.split("+").slice(2).join("+"),
        "base64",
      ).subarray(1);
      const pins = ["--owner-key", site.owner_public_key, "--ledger-key", ledgerKey.toString("hex")];
      expect(await cliVerify(bytes)).toBe(3);
      expect(await cliVerify(bytes, pins)).toBe(0);
      expect(await cliVerify(tampered, pins)).toBe(1);

      expect(problems).toEqual([]);
      console.log(`the story took ${Math.round((Date.now() - started) / 1000)} s`);
    } finally {
      await context.close();
      await hub.close();
    }
  }, 300_000);
});
