/**
 * Notifications in a real browser against a real hub: the owner adds a webhook through the form
 * (with step-up), sees its signing secret once (gone after a reload, never in the list answer),
 * presses "Send test" and reads "Sent"; a local receiver got exactly one POST whose Standard
 * Webhooks signature verifies with the secret read from the page; a bad URL (ftp://) shows the
 * hub's own message on the URL field. "This device" is offered and explains itself without
 * crashing (headless Chromium has no push service to subscribe to). The service worker (sw.js)
 * gets a push message through Chromium's DevTools and shows it as the payload says.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import {
  checkScreen,
  ensureWebBuild,
  freshPage,
  launchChromium,
  OWNER_PASSWORD,
  type RunningHub,
  startHub,
  totpAt,
  WEB_DIR,
} from "./harness.js";

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

/** First run as "owner" with an authenticator app; returns the TOTP secret (for step-up). */
async function firstRunWithTotp(hub: RunningHub, page: Page): Promise<string> {
  await page.goto(hub.setupLink);
  await page.getByLabel("User name").fill("owner");
  await page.getByLabel("Password", { exact: true }).fill(OWNER_PASSWORD);
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

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver on the loopback, port 0: records every request and answers 204. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/latchkey-hook`, received };
}

const channelRows = (page: Page) =>
  page.getByRole("list", { name: "Notification channels" }).locator(":scope > li");

describe("notifications page", () => {
  it("adds a webhook (secret shown once), sends a signed test that verifies, and shows the hub's error on a bad URL", async () => {
    const hub = await startHub();
    const receiver = await startReceiver();
    const { context, page, problems } = await freshPage(browser);
    try {
      const totp = await firstRunWithTotp(hub, page);
      await page.getByRole("link", { name: "Notifications" }).click();
      await expect.poll(() => heading(page)).toBe("Notifications");
      await page.getByText("No channels yet").waitFor();

      // "This device": offered on localhost (a secure context); pressing it explains what went
      // wrong (no permission or no push service in headless Chromium) instead of crashing.
      const device = page.getByRole("region", { name: "This device" });
      const deviceName = device.getByLabel("Name of this device");
      expect(await deviceName.inputValue()).toMatch(/Chrome on Linux/);
      await device.getByRole("button", { name: "Get notifications on this device" }).click();
      await expect.poll(async () => (await device.getByRole("alert").textContent()) ?? "").not.toBe("");
      await expect
        .poll(() => device.getByRole("button", { name: "Get notifications on this device" }).isEnabled())
        .toBe(true);

      // The form: a webhook to the local receiver, with step-up (the second factor is older than 5 min).
      const add = page.getByRole("region", { name: "Add a channel" });
      expect(await add.getByLabel("Kind").inputValue()).toBe("webhook");
      await add.getByLabel("Name", { exact: true }).fill("Home receiver");
      await add.getByLabel("URL").fill(receiver.url);
      hub.advance(6 * 60_000);
      await add.getByRole("button", { name: "Add channel" }).click();
      const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
      await dialog.waitFor();
      hub.advance(30_000);
      await dialog.getByLabel("6-digit code from your authenticator app").fill(totpAt(totp, hub.now()));
      await dialog.getByRole("button", { name: "Confirm" }).click();

      // The secret, once, with its warning; focus moved to it.
      const reveal = page.getByRole("region", { name: "Signing secret for Home receiver" });
      await reveal.getByText("This secret is shown once.").waitFor();
      const secret = ((await reveal.getByTestId("webhook-secret").textContent()) ?? "").trim();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(await page.evaluate(() => document.activeElement?.textContent ?? "")).toBe(
        "Signing secret for Home receiver",
      );
      await expect.poll(() => channelRows(page).count()).toBe(1);
      const row = channelRows(page).first();
      await row.getByText(new URL(receiver.url).host).waitFor();
      await row.getByText("every alert").waitFor();
      await checkScreen(page, "70-notifications-webhook-added");

      // Never again: not after a reload, not in the list the hub answers.
      await page.reload();
      await expect.poll(() => heading(page)).toBe("Notifications");
      await expect.poll(() => channelRows(page).count()).toBe(1);
      expect(await page.content()).not.toContain(secret);
      expect(await page.getByText("shown once").count()).toBe(0);
      const listed = await page.evaluate(async () => (await fetch("api/v1/notification-channels")).text());
      expect(listed).toContain("Home receiver");
      expect(listed).not.toContain(secret);
      expect(listed).not.toContain(receiver.url);

      // "Send test": the outcome in words, after the hub's first attempt.
      expect(receiver.received).toHaveLength(0);
      await row.getByRole("button", { name: "Send test to Home receiver" }).click();
      await expect
        .poll(async () => (await row.locator("[data-test-outcome]").textContent()) ?? "")
        .toMatch(/^Test: Sent \(HTTP 204\) after 1 attempt\.$/);

      // Exactly one POST, signed per Standard Webhooks, verifying with the secret from the page.
      expect(receiver.received).toHaveLength(1);
      const [post] = receiver.received;
      expect(post?.method).toBe("POST");
      expect(post?.path).toBe("/latchkey-hook");
      const headers = {
        "webhook-id": String(post?.headers["webhook-id"]),
        "webhook-timestamp": String(post?.headers["webhook-timestamp"]),
        "webhook-signature": String(post?.headers["webhook-signature"]),
      };
      const verified = new Webhook(secret).verify(post?.body ?? "", headers) as { type?: unknown };
      expect(verified.type).toBe("test");
      // A wrong secret must not verify (the check above can fail).
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(post?.body ?? "", headers),
      ).toThrow();

      // The delivery log shows it.
      await row.getByRole("button", { name: "Delivery log of Home receiver" }).click();
      const log = row.getByRole("list", { name: "Deliveries to Home receiver, newest first" });
      await expect.poll(() => log.locator('[data-state="sent"]').count()).toBe(1);
      await log.getByText(/1 attempt · HTTP 204/).waitFor();

      // A bad URL: the hub's own message, on the URL field, which gets the focus.
      await add.getByLabel("Name", { exact: true }).fill("Bad hook");
      await add.getByLabel("URL").fill("ftp://example.com/hook");
      await add.getByRole("button", { name: "Add channel" }).click();
      const url = add.getByLabel("URL");
      await expect.poll(() => url.getAttribute("aria-invalid")).toBe("true");
      await add.getByText("Webhook URL must be an absolute http:// or https:// URL").waitFor();
      expect(await url.evaluate((el) => el === document.activeElement)).toBe(true);
      await checkScreen(page, "71-notifications-bad-url");
      expect(await channelRows(page).count()).toBe(1);

      // Turn off (the test button goes), on again, then remove with confirmation.
      await row.getByRole("button", { name: "Turn off Home receiver" }).click();
      await row.getByText("Off", { exact: true }).waitFor();
      expect(await row.getByRole("button", { name: "Send test to Home receiver" }).isDisabled()).toBe(true);
      await row.getByRole("button", { name: "Turn on Home receiver" }).click();
      await row.getByText("On", { exact: true }).waitFor();
      await row.getByRole("button", { name: "Remove Home receiver…" }).click();
      await row.getByRole("button", { name: "Remove Home receiver", exact: true }).click();
      await page.getByText("No channels yet").waitFor();

      expect(receiver.received).toHaveLength(1);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await new Promise((resolve) => receiver.server.close(resolve));
      await hub.close();
    }
  });

  it("sw.js shows a pushed message as its payload says (Chromium's DevTools delivers the push)", async () => {
    // A bare page beside sw.js on its own loopback server: the worker under test, nothing else.
    const sw = readFileSync(join(WEB_DIR, "public", "sw.js"));
    const server = createServer((req, res) => {
      if (req.url === "/sw.js") res.writeHead(200, { "content-type": "text/javascript" }).end(sw);
      else res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>sw test</title>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const origin = `http://localhost:${typeof address === "object" && address !== null ? address.port : 0}`;
    const { context, page, problems } = await freshPage(browser);
    try {
      await context.grantPermissions(["notifications"], { origin });
      const workerLogs: string[] = [];
      context.on("serviceworker", (w) => w.on("console", (m) => workerLogs.push(m.text())));
      const cdp = await context.newCDPSession(page);
      const registrations = new Map<string, string>();
      cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => {
        for (const r of e.registrations) registrations.set(r.scopeURL, r.registrationId);
      });
      await cdp.send("ServiceWorker.enable");
      await page.goto(`${origin}/`);
      await page.evaluate(async () => {
        await navigator.serviceWorker.register("sw.js");
        await navigator.serviceWorker.ready;
      });
      await expect.poll(() => registrations.get(`${origin}/`) ?? null).not.toBeNull();

      const payload = {
        id: "msg-1",
        title: "Front door forced open",
        body: "The lock reported the door opened without an unlock.",
        url: `${origin}/#/sites/s1/activity`,
        actions: [
          { label: "Open activity", url: `${origin}/#/activity` },
          { label: "Open door", url: `${origin}/#/sites/s1` },
          { label: "Third is dropped", url: `${origin}/#/` },
        ],
        tag: "alert.forced-entry",
        priority: "urgent",
        occurredAt: 1_700_000_000_000,
      };
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin,
        registrationId: registrations.get(`${origin}/`) ?? "",
        data: JSON.stringify(payload),
      });
      const shown = async () =>
        page.evaluate(async () => {
          const registration = await navigator.serviceWorker.ready;
          return (await registration.getNotifications()).map((n) => ({
            title: n.title,
            body: n.body,
            tag: n.tag,
            data: n.data as unknown,
            requireInteraction: n.requireInteraction,
            actions: (n as unknown as { actions?: unknown }).actions,
          }));
        });
      await expect.poll(async () => (await shown()).length).toBe(1);
      const [n] = await shown();
      expect(n?.title).toBe(payload.title);
      expect(n?.body).toBe(payload.body);
      expect(n?.tag).toBe("alert.forced-entry");
      expect(n?.requireInteraction).toBe(true);
      expect(n?.data).toEqual({ url: payload.url, actions: payload.actions.slice(0, 2) });
      expect(n?.actions).toEqual([
        expect.objectContaining({ action: "0", title: "Open activity" }),
        expect.objectContaining({ action: "1", title: "Open door" }),
      ]);
      // The payload never reaches a log.
      expect(workerLogs.join("\n")).not.toContain("forced open");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
