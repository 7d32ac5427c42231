/**
 * The web app in a real browser against a real hub: first run with TOTP, recovery codes, a site
 * and doors, a cleaner on Fridays 10:00–12:00 with a PIN shown once, step-up, sign-out and
 * sign-in; then first run and sign-in with a passkey on Chromium's virtual authenticator.
 * Every main screen is checked with axe-core and photographed at desktop and phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import {
  addVirtualAuthenticator,
  checkScreen,
  ensureWebBuild,
  freshPage,
  launchChromium,
  OWNER_PASSWORD,
  type RunningHub,
  startHub,
  totpAt,
} from "./harness.js";

const PASSWORD = OWNER_PASSWORD;

let browser: Browser;

beforeAll(async () => {
  const [, b] = await Promise.all([ensureWebBuild(), launchChromium()]);
  browser = b;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe("web app", () => {
  it("first run with TOTP, a cleaner on Fridays with a PIN shown once, step-up, sign-out and sign-in", async () => {
    const hub: RunningHub = await startHub();
    const { context, page, problems } = await freshPage(browser);
    try {
      // The hub serves the app with a strict CSP and the right caching.
      const res = await page.goto(hub.setupLink);
      expect(res?.status()).toBe(200);
      const headers = res?.headers() ?? {};
      expect(headers["content-security-policy"]).toContain("script-src 'self'");
      expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
      expect(headers["cache-control"]).toBe("no-cache");
      await expect
        .poll(() => page.getByRole("heading", { level: 1 }).textContent())
        .toBe("Welcome to Latchkey");
      await checkScreen(page, "01-setup");

      await page.getByLabel("Name of your home or organisation").fill("Harbour Street");
      await page.getByLabel("User name").fill("owner");
      // A common password is refused with a message that says why; the link stays usable.
      await page.getByLabel("Password", { exact: true }).fill("qwertyuiop");
      await page.getByRole("button", { name: "Create owner account" }).click();
      await expect
        .poll(() => page.locator(".field-error").textContent())
        .toMatch(/100,000 most common passwords/);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await expect.poll(() => page.getByText(/a good length/).count()).toBe(1);
      await page.getByRole("button", { name: "Create owner account" }).click();

      // Second factor: the authenticator app, with the secret read off the screen.
      await page.getByLabel(/Authenticator app/).check();
      const secretBox = page.locator("[data-secret]");
      await secretBox.waitFor();
      expect(new URL(page.url()).hash).toBe("#/"); // the setup token left the address bar
      const secret = (await secretBox.getAttribute("data-secret")) ?? "";
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      await expect.poll(() => page.getByRole("img", { name: /QR code/ }).count()).toBe(1);
      await checkScreen(page, "02-enrol-totp");
      await page.getByLabel("6-digit code from the app").fill(totpAt(secret, hub.now()));
      await page.getByRole("button", { name: "Confirm and turn on" }).click();

      // Recovery codes: shown once, must be confirmed before going on.
      const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
      await expect.poll(() => codes.count()).toBe(10);
      const continueButton = page.getByRole("button", { name: "Continue" });
      expect(await continueButton.isDisabled()).toBe(true);
      await checkScreen(page, "03-recovery-codes");
      await page.getByLabel("I have saved these recovery codes somewhere safe").check();
      await continueButton.click();

      // A site and two doors.
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Sites & doors");
      await checkScreen(page, "04-sites-empty");
      await page.getByLabel("Site name").fill("12 Harbour Street");
      await page.getByLabel("Time zone").selectOption("Europe/London");
      await page.getByRole("button", { name: "Create site" }).click();
      for (const door of ["Front door", "Back door"]) {
        await page.getByRole("button", { name: "Add a door" }).click();
        await page.getByLabel("Door name").fill(door);
        await page.getByRole("button", { name: "Add door" }).click();
        await page.getByRole("list", { name: "Doors of 12 Harbour Street" }).getByText(door).waitFor();
      }
      await checkScreen(page, "05-sites");

      // A cleaner on Fridays 10:00–12:00, from 1 December to the end of February.
      await page.getByRole("link", { name: "People", exact: true }).first().click();
      await page.getByRole("link", { name: "Add a person" }).click();
      await page.getByLabel("Name", { exact: true }).fill("Ana Lima");
      await page.getByLabel("Category").selectOption("cleaner");
      await page.getByLabel("Only on certain days and times").check();
      await page.getByLabel("Friday").check();
      await page.getByLabel("from", { exact: true }).fill("10:00");
      await page.getByLabel("to", { exact: true }).fill("12:00");
      const year = new Date().getUTCFullYear() + 1;
      await page.getByLabel("On a later date").check();
      await page.getByLabel("on", { exact: true }).fill(`${year}-12-01`);
      await page.getByLabel("After a last day").check();
      await page.getByLabel("last day", { exact: true }).fill(`${year + 1}-02-28`);
      await expect
        .poll(() => page.getByTestId("schedule-sentence").textContent())
        .toBe(
          `Cleaner: Every Friday 10:00–12:00, from 1 December ${year} to 28 February ${year + 1}, at Back door and Front door.`,
        );
      await checkScreen(page, "06-add-person");
      await page.getByRole("button", { name: "Add Ana Lima" }).click();

      // The PIN, once.
      const pinBox = page.getByTestId("new-pin");
      await pinBox.waitFor();
      const pin = (await pinBox.textContent()) ?? "";
      expect(pin).toMatch(/^\d{6}$/);
      await expect.poll(() => page.getByText("You will not see this PIN again.").count()).toBe(1);
      expect(await page.getByRole("status").filter({ hasText: "Every Friday 10:00–12:00" }).count()).toBe(1);
      await checkScreen(page, "07-pin-once");
      await page.getByRole("link", { name: /Done/ }).click();

      // Her page: the grant as a sentence, the PIN as a credential, never the PIN itself.
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Ana Lima");
      await page
        .getByText(`Every Friday 10:00–12:00, from 1 December ${year} to 28 February ${year + 1}`)
        .waitFor();
      await page.getByText("Starts later").waitFor();
      expect(await page.locator("body").textContent()).not.toContain(pin);
      await checkScreen(page, "08-person");
      await page.getByRole("link", { name: /People at/ }).click();
      await page.getByRole("link", { name: "Ana Lima" }).waitFor();
      await checkScreen(page, "09-people");
      await page.getByRole("link", { name: "Activity" }).first().click();
      await page.getByText("added a person · Ana Lima").waitFor();
      await checkScreen(page, "10-activity");

      // Step-up: six minutes later, new recovery codes need the second factor again.
      await page.getByRole("link", { name: "Security" }).click();
      await checkScreen(page, "11-security");
      hub.advance(6 * 60_000);
      await page.getByRole("button", { name: "Make new recovery codes" }).click();
      const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
      await dialog.waitFor();
      await checkScreen(page, "12-step-up");
      await dialog.getByLabel("6-digit code from your authenticator app").fill(totpAt(secret, hub.now()));
      await dialog.getByRole("button", { name: "Confirm" }).click();
      await expect.poll(() => codes.count()).toBe(10);
      await page.getByLabel("I have saved these recovery codes somewhere safe").check();
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByText(/New recovery codes saved/).waitFor();

      // Sign out, and back in with password and code.
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByText("You have signed out.").waitFor();
      await checkScreen(page, "13-sign-in");
      await page.getByLabel("User name").fill("owner");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect
        .poll(() => page.getByRole("heading", { level: 1 }).textContent())
        .toBe("Confirm it is you");
      await checkScreen(page, "14-second-factor");
      hub.advance(30_000);
      await page.getByLabel("6-digit code from your authenticator app").fill(totpAt(secret, hub.now()));
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      // With a site in place, sign-in lands on the dashboard: every door, here still without a lock.
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Dashboard");
      await page.getByRole("heading", { name: "Front door" }).waitFor();
      await page.getByRole("link", { name: "Add a lock to Front door" }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
    }
  });

  it("first run and sign-in with a passkey on a virtual authenticator, passkey step-up, and inviting a manager", async () => {
    const hub = await startHub();
    const { context, page, problems } = await freshPage(browser);
    try {
      await addVirtualAuthenticator(context, page);
      await page.goto(hub.setupLink);
      await page.getByLabel("User name").fill("keyholder");
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create owner account" }).click();
      await page.getByLabel(/Passkey/).check();
      await checkScreen(page, "15-enrol-passkey");
      await page.getByRole("button", { name: "Create a passkey" }).click();
      await page.getByLabel("I have saved these recovery codes somewhere safe").check();
      await page.getByRole("button", { name: "Continue" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Sites & doors");

      // Step-up with the passkey.
      await page.getByRole("link", { name: "Security" }).click();
      hub.advance(6 * 60_000);
      await page.getByRole("button", { name: "Make new recovery codes" }).click();
      const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
      await dialog.getByRole("button", { name: "Use your passkey" }).click();
      await page.getByLabel("I have saved these recovery codes somewhere safe").check();
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByText(/New recovery codes saved/).waitFor();

      // Sign out and in again with password + passkey.
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("User name").fill("keyholder");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByRole("button", { name: "Use your passkey" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Sites & doors");

      // A site, and a manager invited through a one-time link who enrols an authenticator app.
      await page.getByLabel("Site name").fill("Workshop");
      await page.getByRole("button", { name: "Create site" }).click();
      await page.getByRole("link", { name: "Team" }).click();
      await page.getByLabel("User name").fill("maria");
      await page.getByLabel("Role").selectOption("manager");
      await page.getByRole("button", { name: "Add to team" }).click();
      const link = (await page.getByTestId("invite-link").textContent()) ?? "";
      expect(link).toMatch(new RegExp(`^${hub.origin}/invite#[A-Za-z0-9_-]{43}$`));
      await checkScreen(page, "17-team");
      const invited = await freshPage(browser);
      try {
        await invited.page.goto(link);
        await expect
          .poll(() => invited.page.getByRole("heading", { level: 1 }).textContent())
          .toBe("Accept your invitation");
        await checkScreen(invited.page, "16-invite");
        await invited.page.getByLabel("Password", { exact: true }).fill("maria keeps the workshop keys");
        await invited.page.getByRole("button", { name: "Accept invitation" }).click();
        await invited.page.getByLabel(/Authenticator app/).check();
        const secret = (await invited.page.locator("[data-secret]").getAttribute("data-secret")) ?? "";
        await invited.page.getByLabel("6-digit code from the app").fill(totpAt(secret, hub.now()));
        await invited.page.getByRole("button", { name: "Confirm and turn on" }).click();
        await invited.page.getByLabel("I have saved these recovery codes somewhere safe").check();
        await invited.page.getByRole("button", { name: "Continue" }).click();
        await invited.page.getByRole("heading", { name: "Workshop" }).waitFor();
        // A manager cannot create sites; the owner's controls are not offered.
        expect(await invited.page.getByRole("button", { name: "Add another site" }).count()).toBe(0);
        expect(invited.problems).toEqual([]);
      } finally {
        await invited.context.close();
      }
      await page.reload();
      await page.getByText("Manager · since").waitFor();

      const session: unknown = await page.evaluate(
        async () => (await fetch("api/v1/session")).json() as Promise<unknown>,
      );
      expect(session).toMatchObject({ stage: "full", account: { username: "keyholder", isOwner: true } });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
    }
  });
});
