/**
 * A guest PIN handed over as a one-time link: the owner makes a cleaner's PIN on the person page
 * and chooses "Send a guest link"; a second browser with no account opens the link, sees the
 * PIN, the doors and the schedule in words, and copies the PIN; opening the link again says it
 * was already opened. The token never stays in the address bar. Checked with axe-core and
 * photographed at desktop and phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as OTPAuth from "otpauth";
import type { Kysely } from "kysely";
import type { APIRequestContext, Browser } from "playwright-core";
import { checkScreen, DESKTOP, ensureWebBuild, launchChromium, startHub, watchPage } from "./harness.js";
import { guestLinksMigration } from "../../../hub/src/db/migrations/0005-guest-links.js";

const PASSWORD = "a quiet harbour at dawn";

let browser: Browser;

beforeAll(async () => {
  const [, b] = await Promise.all([ensureWebBuild(), launchChromium()]);
  browser = b;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** The owner's first run and TOTP through the API (the UI for it is covered in app.test.ts). */
async function ownerByApi(request: APIRequestContext, setupLink: string, now: () => number) {
  const origin = new URL(setupLink).origin;
  const token = new URL(setupLink).hash.slice(1);
  const setup = await request.post(`${origin}/api/v1/setup`, {
    data: { token, username: "owner", password: PASSWORD, organisationName: "Harbour Street" },
  });
  expect(setup.status()).toBe(201);
  let csrf = ((await setup.json()) as { csrfToken: string }).csrfToken;
  const begin = await request.post(`${origin}/api/v1/account/totp/begin`, {
    headers: { "x-csrf-token": csrf },
  });
  expect(begin.status()).toBe(200);
  const secret = ((await begin.json()) as { secret: string }).secret;
  const code = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    digits: 6,
    period: 30,
  }).generate({
    timestamp: now(),
  });
  const confirm = await request.post(`${origin}/api/v1/account/totp/confirm`, {
    headers: { "x-csrf-token": csrf },
    data: { code },
  });
  expect(confirm.status()).toBe(200);
  csrf = ((await confirm.json()) as { session: { csrfToken: string } }).session.csrfToken;
  const post = async (path: string, data: unknown): Promise<string> => {
    const r = await request.post(`${origin}/api/v1${path}`, { headers: { "x-csrf-token": csrf }, data });
    expect(r.status(), `${path}: ${await r.text()}`).toBe(201);
    return ((await r.json()) as { id: string }).id;
  };
  return { post };
}

describe("guest link", () => {
  it("an owner sends a guest link; a guest with no account opens it once and copies the PIN", async () => {
    const hub = await startHub();
    // Idempotent; a no-op once the hub's migration 0005_guest_links is in place.
    await guestLinksMigration().up(hub.hub.ctx.db as unknown as Kysely<unknown>);
    const ownerContext = await browser.newContext({ viewport: DESKTOP });
    const guestContext = await browser.newContext({
      viewport: DESKTOP,
      permissions: ["clipboard-read", "clipboard-write"],
    });
    try {
      const { post } = await ownerByApi(ownerContext.request, hub.setupLink, () => hub.now());
      const siteId = await post("/sites", { name: "Seaside flat", timezone: "Europe/Paris" });
      const front = await post(`/sites/${siteId}/doors`, { name: "Front door" });
      const gate = await post(`/sites/${siteId}/doors`, { name: "Garden gate" });
      const personId = await post(`/sites/${siteId}/people`, { name: "Carla" });
      await post(`/people/${personId}/grants`, {
        doorIds: [front, gate],
        category: "cleaner",
        schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
      });

      // The owner, on the person page: a generated PIN, handed over as a guest link.
      const page = await ownerContext.newPage();
      page.setDefaultTimeout(10_000);
      const ownerProblems = watchPage(page).problems;
      await page.goto(`${hub.origin}/#/people/${personId}`);
      await page.getByRole("button", { name: "Add a credential" }).click();
      await page.getByLabel(/Send a guest link/).check();
      await page.getByLabel("Link works for").selectOption("3");
      await checkScreen(page, "guest-01-owner-choose-link");
      await page.getByRole("button", { name: "Add credential" }).click();
      const linkOutput = page.getByTestId("new-guest-link");
      await expect.poll(() => linkOutput.textContent()).toMatch(/\/guest#[A-Za-z0-9_-]{43}$/);
      const shownUrl = (await linkOutput.textContent()) ?? "";
      expect(await page.getByTestId("new-pin").count()).toBe(0);
      await checkScreen(page, "guest-02-owner-link-shown");
      expect(ownerProblems).toEqual([]);

      // The guest: another browser, no account.
      const guest = await guestContext.newPage();
      guest.setDefaultTimeout(10_000);
      const guestProblems = watchPage(guest).problems;
      const requests: string[] = [];
      guest.on("request", (r) => requests.push(`${r.url()} ${r.postData() ?? ""}`));
      const res = await guest.goto(shownUrl);
      expect(res?.status(), "the hub must serve the app at /guest").toBe(200);
      await expect.poll(() => guest.getByRole("heading", { level: 1 }).textContent()).toBe("Your door PIN");
      // The token left the address bar as soon as the page read it.
      expect(new URL(guest.url()).hash).toBe("");
      await checkScreen(guest, "guest-03-before-open");
      await guest.getByRole("button", { name: "Show my PIN" }).click();
      const pinOutput = guest.getByTestId("guest-pin");
      await expect.poll(() => pinOutput.textContent()).toMatch(/^\d{6}$/);
      const pin = (await pinOutput.textContent()) ?? "";
      const access = (await guest.getByTestId("guest-access").textContent()) ?? "";
      expect(access).toContain("Front door and Garden gate");
      expect(access).toContain("Cleaner");
      expect(access).toContain("Every Friday 10:00–12:00");
      await guest.getByRole("button", { name: "Copy PIN" }).click();
      await expect.poll(() => guest.getByRole("status").filter({ hasText: "Copied" }).count()).toBe(1);
      expect(await guest.evaluate(() => navigator.clipboard.readText())).toBe(pin);
      await checkScreen(guest, "guest-04-pin-shown");
      // Only the POST body carried the token; no URL the hub saw did.
      const token = new URL(shownUrl).hash.slice(1);
      expect(requests.filter((r) => r.split(" ")[0]?.includes(token))).toEqual([]);
      expect(guestProblems).toEqual([]);

      // Reopening the link: already opened, no PIN.
      const again = await guestContext.newPage();
      again.setDefaultTimeout(10_000);
      await again.goto(shownUrl);
      await again.getByRole("button", { name: "Show my PIN" }).click();
      await expect.poll(() => again.getByRole("alert").textContent()).toMatch(/already opened/);
      expect(await again.content()).not.toContain(pin);
      await checkScreen(again, "guest-05-already-opened");
    } finally {
      await ownerContext.close();
      await guestContext.close();
      await hub.close();
    }
  }, 120_000);
});
