/**
 * Remote unlock with a human in the loop, in a real browser against a real demo hub: the owner
 * signs up with a passkey on Chromium's virtual authenticator, asks to open the demo front door
 * with a snapshot, approves on the "Unlock requests" screen — the browser hashes the snapshot it
 * displays and has the passkey sign the remote-unlock intent (THE LOCK's one-time challenge, the
 * request, that hash, the lock) — and the demo lock opens, its signed event naming the request
 * and the hash of the picture shown. A second request is denied. Each screen is checked with
 * axe-core and photographed at desktop and phone widths.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { EventKind, fromHex, remoteUnlockChallenge, toHex } from "@latchkey/protocol";
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

describe("unlock requests in the web app", () => {
  it("ask with a snapshot, approve with a passkey, the demo lock opens and names the request; deny another", async () => {
    const hub = await startHub({ demo: true });
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const { problems } = watchPage(page);
    try {
      await addVirtualAuthenticator(context, page);
      // The owner signs up with a passkey: the one factor that can approve an unlock.
      await page.goto(hub.setupLink);
      await page.getByLabel("Name of your home or organisation").fill("Demo household");
      await page.getByLabel("User name").fill("owner");
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Create owner account" }).click();
      await page.getByLabel(/Passkey/).check();
      await page.getByRole("button", { name: "Create a passkey" }).click();
      await page.getByLabel("I have saved these recovery codes somewhere safe").check();
      await page.getByRole("button", { name: "Continue" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Dashboard");

      // Presence comes from the lock's authenticated answers: wait until the dashboard shows the
      // front door's lock online (a remote unlock needs it), as a person would.
      await expect
        .poll(() => page.locator('.door-tile[data-door="Front door"] [data-fact="online"]').textContent(), {
          timeout: 30_000,
        })
        .toBe("Online");

      // The demo front door's virtual lock (found by the door's name), locked to start with.
      const demo = hub.hub.ctx.devices.demo;
      const doors = await page.evaluate(async (siteId) => {
        const r = await fetch(`api/v1/sites/${siteId}/doors`);
        return ((await r.json()) as { items: { id: string; name: string }[] }).items;
      }, demo?.siteId ?? "");
      const lock = demo?.locks.get(doors.find((d) => d.name === "Front door")?.id ?? "");
      if (lock === undefined) throw new Error("no demo lock at the front door");
      lock.lock.runtime.lockButton();
      expect(lock.lock.runtime.boltState).toBe("Locked");

      // From the dashboard to the site's unlock requests.
      await page.getByRole("link", { name: "Unlock requests" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Unlock requests");
      await page.getByText("Nobody is waiting at a door.").waitFor();

      // Someone asks, with a snapshot from the door.
      const png = doorstepPng();
      await page.getByLabel("Door", { exact: true }).selectOption({ label: "Front door" });
      await page.getByLabel("Note (optional)").fill("Parcel delivery, needs a signature");
      await page
        .getByLabel(/Snapshot \(optional/)
        .setInputFiles({ name: "doorstep.png", mimeType: "image/png", buffer: png });
      await page.getByRole("button", { name: "Ask to open" }).click();
      await page.getByText("Asked to open Front door.").waitFor();
      const waiting = page.getByRole("list", { name: "Waiting requests" }).locator("li").first();
      await waiting.getByRole("heading", { name: "owner asks to open Front door" }).waitFor();
      await waiting.getByRole("img", { name: /Snapshot at Front door/ }).waitFor();
      const requestId = (await waiting.getAttribute("data-request")) ?? "";
      expect(requestId).toMatch(/^[0-9a-f]{32}$/);
      await checkScreen(page, "30-unlock-request-waiting");

      // The picture the page displays, and the fingerprint it computed over those bytes.
      const src =
        (await waiting.getByRole("img", { name: /Snapshot at Front door/ }).getAttribute("src")) ?? "";
      const shown = Buffer.from(src.replace(/^data:image\/png;base64,/, ""), "base64");
      const shownHash = createHash("sha256").update(shown).digest("hex");
      await expect
        .poll(() => waiting.getByTestId("snapshot-sha256").getAttribute("data-sha256"))
        .toBe(shownHash);

      // The approver unlocks: the browser signs the intent for the lock's challenge, this request
      // and that picture. Watch the lock's challenge and the signed clientDataJSON go by.
      const offered = page.waitForResponse((r) =>
        r.url().endsWith(`/unlock-requests/${requestId}/challenge`),
      );
      const sent = page.waitForRequest((r) => r.url().endsWith(`/unlock-requests/${requestId}/approve`));
      await waiting.getByRole("button", { name: "Unlock Front door with my passkey" }).click();
      const nonce = Buffer.from(
        ((await (await offered).json()) as { challenge: string }).challenge,
        "base64url",
      );
      const clientData = JSON.parse(
        Buffer.from(
          ((await sent).postDataJSON() as { clientDataJSON: string }).clientDataJSON,
          "base64url",
        ).toString(),
      ) as { challenge: string };
      const decided = page.getByRole("list", { name: "Decided requests" });
      const done = decided.locator(`li[data-request="${requestId}"]`);
      await expect.poll(() => done.getAttribute("data-status")).toBe("approved");
      await done.getByText("The lock checked your passkey and opened.").waitFor();
      expect(lock.lock.runtime.boltState).toBe("Unlocked");
      // The lock's own signed event names the request and the snapshot's hash.
      const journal = lock.lock.runtime.journal;
      const events = journal.read(Math.max(1, journal.nextSeq - 10));
      const opened = events.find(
        (e) => e.kind === EventKind.LockOperation && e.details.authority === "passkey",
      );
      expect(opened?.details.operation).toBe("Unlock");
      expect(toHex(opened?.details.proposalId as Uint8Array)).toBe(requestId);
      // … the hash of the picture the page displayed (which is the one that was uploaded) …
      expect(toHex(opened?.details.snapshotHash as Uint8Array)).toBe(shownHash);
      expect(shownHash).toBe(createHash("sha256").update(png).digest("hex"));
      // … and the passkey signed exactly that: SHA-256 of the intent over the lock's challenge.
      expect(clientData.challenge).toBe(
        Buffer.from(
          remoteUnlockChallenge({
            nonce: new Uint8Array(nonce),
            proposalId: fromHex(requestId),
            snapshotHash: fromHex(shownHash),
            doorId: lock.lock.runtime.lockIdBytes,
          }),
        ).toString("base64url"),
      );
      await checkScreen(page, "31-unlock-request-approved");

      // The demo panel shows the front lock open.
      await page.getByRole("link", { name: "Dashboard" }).first().click();
      await page.getByRole("link", { name: "Demo lock panel" }).click();
      await expect
        .poll(() =>
          page.locator('section.demo-lock[data-door="Front door"]').getByTestId("demo-state").textContent(),
        )
        .toMatch(/Unlocked/);

      // Another request is denied: nothing is sent to the lock.
      lock.lock.runtime.lockButton();
      await page.getByRole("link", { name: "Dashboard" }).first().click();
      await page.getByRole("link", { name: "Unlock requests" }).click();
      await page.getByLabel("Door", { exact: true }).selectOption({ label: "Front door" });
      await page.getByLabel("Note (optional)").fill("Unknown caller");
      await page.getByRole("button", { name: "Ask to open" }).click();
      const second = page.getByRole("list", { name: "Waiting requests" }).locator("li").first();
      const secondId = (await second.getAttribute("data-request")) ?? "";
      await second.getByRole("button", { name: "Deny the request at Front door" }).click();
      await expect
        .poll(() => decided.locator(`li[data-request="${secondId}"]`).getAttribute("data-status"))
        .toBe("denied");
      expect(lock.lock.runtime.boltState).toBe("Locked");
      await page.getByText("Nobody is waiting at a door.").waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
    }
  });
});
