/**
 * Security settings in a real browser against a real hub: two browser contexts signed in to one
 * account; A sees B's session (never its cookie), signs it out with the keyboard, and B is signed
 * out on its next action; "Sign out everywhere else"; a passkey added on Chromium's virtual
 * authenticator, listed, and removed with step-up; and the only second factor refused removal.
 * Each screen is checked with axe-core and photographed at desktop and phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
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

async function heading(page: Page): Promise<string | null> {
  return page.getByRole("heading", { level: 1 }).textContent();
}

/** First run as "owner" with an authenticator app; returns the TOTP secret. */
async function firstRunWithTotp(hub: RunningHub, page: Page): Promise<string> {
  await page.goto(hub.setupLink);
  await page.getByLabel("User name").fill("owner");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create owner account" }).click();
  await page.getByLabel(/Authenticator app/).check();
  const secret = (await page.locator("[data-secret]").getAttribute("data-secret")) ?? "";
  await page.getByLabel("6-digit code from the app").fill(totpAt(secret, hub.now()));
  await page.getByRole("button", { name: "Confirm and turn on" }).click();
  await page.getByLabel("I have saved these recovery codes somewhere safe").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect.poll(() => heading(page)).toBe("Sites & doors");
  return secret;
}

/** Signs in with password and a TOTP code from a fresh time step. */
async function signIn(hub: RunningHub, page: Page, secret: string): Promise<void> {
  await page.goto(hub.origin);
  await expect.poll(() => heading(page)).toBe("Sign in to Latchkey");
  await page.getByLabel("User name").fill("owner");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect.poll(() => heading(page)).toBe("Confirm it is you");
  hub.advance(30_000);
  await page.getByLabel("6-digit code from your authenticator app").fill(totpAt(secret, hub.now()));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect.poll(() => heading(page)).not.toBe("Confirm it is you");
}

async function openSecurity(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Security" }).click();
  await expect.poll(() => heading(page)).toBe("Security");
}

const sessionRows = (page: Page) => page.getByRole("list", { name: "Your sessions" }).getByRole("listitem");
const passkeyRows = (page: Page) => page.getByRole("list", { name: "Your passkeys" }).getByRole("listitem");

/** Presses Tab until the focused element's accessible name starts with `name` (at most 80 times). */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return el === null ? "" : (el.getAttribute("aria-label") ?? el.textContent ?? "").trim();
    });
    if (focused.startsWith(name)) return;
  }
  throw new Error(`"${name}" cannot be reached with the Tab key`);
}

describe("security settings: sessions and passkeys", () => {
  it("A sees B's session, signs it out (keyboard), B is signed out on its next action; passkeys with step-up", async () => {
    const hub = await startHub();
    const a = await freshPage(browser);
    const b = await freshPage(browser);
    try {
      const secret = await firstRunWithTotp(hub, a.page);
      await signIn(hub, b.page, secret);

      // A's list: this device (marked) and B's session.
      await openSecurity(a.page);
      await expect.poll(() => sessionRows(a.page).count()).toBe(2);
      const current = sessionRows(a.page).filter({ hasText: "This device" });
      expect(await current.getByText("Current").count()).toBe(1);
      expect(await current.getByRole("button").count()).toBe(0);
      expect(await sessionRows(a.page).filter({ hasText: "Another device" }).count()).toBe(1);
      // Neither browser's cookie value appears in the page or in the API's answer.
      const listed = await a.page.evaluate(async () => (await fetch("api/v1/account/sessions")).text());
      for (const ctx of [a.context, b.context]) {
        const cookie = (await ctx.cookies()).find((c) => c.name.endsWith("latchkey_session"));
        expect(cookie?.value.length).toBeGreaterThan(30);
        expect(listed).not.toContain(cookie?.value);
        expect(await a.page.content()).not.toContain(cookie?.value);
      }
      await checkScreen(a.page, "40-security-sessions");

      // Keyboard only: Tab to B's "Sign out" and press Enter.
      await a.page.getByRole("heading", { name: "Sessions" }).click();
      await tabTo(a.page, "Sign out: another device");
      await a.page.keyboard.press("Enter");
      await a.page.getByText("That session was signed out.").waitFor();
      await expect.poll(() => sessionRows(a.page).count()).toBe(1);
      await a.page.getByText("No other device is signed in to your account.").waitFor();

      // B's next action finds its session gone: back to sign-in, with the reason.
      await b.page.getByRole("link", { name: "People", exact: true }).first().click();
      await expect.poll(() => heading(b.page)).toBe("Sign in to Latchkey");
      await b.page.getByText(/Your session has ended/).waitFor();

      // "Sign out everywhere else": B signs in again, A ends every other session.
      await signIn(hub, b.page, secret);
      await a.page.reload();
      await expect.poll(() => sessionRows(a.page).count()).toBe(2);
      await a.page.getByRole("button", { name: "Sign out everywhere else" }).click();
      await a.page.getByText("1 other session was signed out.").waitFor();
      await expect.poll(() => sessionRows(a.page).count()).toBe(1);
      await b.page.getByRole("link", { name: "Security" }).click();
      await expect.poll(() => heading(b.page)).toBe("Sign in to Latchkey");
      // A is still signed in.
      await a.page.reload();
      await expect.poll(() => heading(a.page)).toBe("Security");

      // A passkey on Chromium's virtual authenticator: added, listed, removed with step-up.
      await addVirtualAuthenticator(a.context, a.page);
      hub.advance(6 * 60_000);
      await a.page.getByRole("button", { name: "Add a passkey" }).click();
      await a.page.getByRole("button", { name: "Create a passkey" }).click();
      const dialog = a.page.getByRole("dialog", { name: "Confirm it is you" });
      await dialog.waitFor();
      hub.advance(30_000);
      await dialog.getByLabel("6-digit code from your authenticator app").fill(totpAt(secret, hub.now()));
      await dialog.getByRole("button", { name: "Confirm" }).click();
      await a.page.getByText(/Passkey added/).waitFor();
      await expect.poll(() => passkeyRows(a.page).count()).toBe(1);
      await passkeyRows(a.page).getByText("built into a device").waitFor();
      await checkScreen(a.page, "41-security-passkeys");

      // Removing needs step-up again once the 5 minutes are over; keyboard only.
      hub.advance(6 * 60_000);
      await a.page.getByRole("heading", { name: "Passkeys" }).click();
      await tabTo(a.page, "Remove Passkey 1");
      await a.page.keyboard.press("Enter");
      // Focus moved to the confirming button.
      await expect
        .poll(() => a.page.evaluate(() => document.activeElement?.textContent ?? ""))
        .toBe("Remove Passkey 1");
      await a.page.keyboard.press("Enter");
      await dialog.waitFor();
      await checkScreen(a.page, "42-security-remove-passkey-step-up");
      hub.advance(30_000);
      await dialog.getByLabel("6-digit code from your authenticator app").fill(totpAt(secret, hub.now()));
      await dialog.getByRole("button", { name: "Confirm" }).click();
      await a.page.getByText(/Passkey removed/).waitFor();
      await a.page.getByText("No passkeys yet.").waitFor();
      expect(a.problems).toEqual([]);
      expect(b.problems).toEqual([]);
    } finally {
      await a.context.close();
      await b.context.close();
      await hub.close();
    }
  });

  it("refuses to remove the only second factor (a passkey, no authenticator app)", async () => {
    const hub = await startHub();
    const { context, page, problems } = await freshPage(browser);
    try {
      await addVirtualAuthenticator(context, page);
      await page.goto(hub.setupLink);
      await page.getByLabel("User name").fill("keyholder");
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create owner account" }).click();
      await page.getByLabel(/Passkey/).check();
      await page.getByRole("button", { name: "Create a passkey" }).click();
      await page.getByLabel("I have saved these recovery codes somewhere safe").check();
      await page.getByRole("button", { name: "Continue" }).click();
      await expect.poll(() => heading(page)).toBe("Sites & doors");
      await openSecurity(page);
      await expect.poll(() => passkeyRows(page).count()).toBe(1);
      await passkeyRows(page).getByRole("button", { name: "Remove Passkey 1…" }).click();
      await page.getByRole("button", { name: "Remove Passkey 1", exact: true }).click();
      await page.getByText(/This passkey is your only second factor/).waitFor();
      expect(await passkeyRows(page).count()).toBe(1);
      await checkScreen(page, "43-security-last-factor");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
    }
  });
});
