/**
 * Door activity and evidence in a real browser against a real hub:
 * - a door with a 100,000-event history (real lock-signed records through the real ingestor and
 *   ledger): the list scrolls far, older pages keep loading, and the DOM stays small;
 * - keypad events on a demo lock, exported as evidence from the Evidence screen, verified on the
 *   Verify screen in the browser → valid; the same file with one byte flipped → not valid, with
 *   the failing element named.
 */
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import {
  EventKind,
  lockIdBytesFromPublicKey,
  signLockEventWith,
  ZERO_HASH,
  type EpochMs,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { registerLock } from "../../../hub/src/ingest/locks.js";
import {
  DESKTOP,
  ensureWebBuild,
  launchChromium,
  startHub,
  watchPage,
  type RunningHub,
  signUpOwner,
} from "./harness.js";

const HISTORY = Number(process.env.LATCHKEY_E2E_HISTORY ?? 100_000);

let browser: Browser;

beforeAll(async () => {
  const [, b] = await Promise.all([ensureWebBuild(), launchChromium()]);
  browser = b;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Ingests `n` signed events (unlocks with a refusal every 7th) from a new lock on `doorId`. */
async function seedHistory(hub: RunningHub, siteId: string, doorId: string, n: number): Promise<void> {
  const seed = new Uint8Array(createHash("sha256").update("activity-e2e/lock").digest());
  const publicKey = nodeEd25519.publicKey(seed);
  const db = hub.hub.ledger.db;
  const lockId = await registerLock(db, { signingPublicKey: publicKey, commissionedAt: hub.now() });
  await db.updateTable("locks").set({ door_id: doorId, site_id: siteId }).where("id", "=", lockId).execute();
  const lockIdBytes = lockIdBytesFromPublicKey(publicKey);
  const bootId = new Uint8Array(16).fill(9);
  const start = hub.now() - n * 1000;
  let prev = ZERO_HASH;
  for (let base = 0; base < n; base += 1000) {
    const batch: Uint8Array[] = [];
    for (let i = base; i < Math.min(n, base + 1000); i++) {
      const denied = i % 7 === 6;
      const { event, record } = signLockEventWith(
        {
          version: 1,
          lockId: lockIdBytes,
          seq: i + 1,
          bootId,
          lockTime: (start + i * 1000) as EpochMs,
          kind: denied ? EventKind.LockOperationError : EventKind.LockOperation,
          actor: denied
            ? { credentialType: "PIN" }
            : { userIndex: 9, credentialType: "PIN", credentialIndex: 1 },
          details: denied
            ? { reason: "outside-schedule", source: "Keypad" }
            : { operation: "Unlock", source: "Keypad" },
          prevHash: prev,
        },
        (input) => nodeEd25519.sign(seed, input),
      );
      prev = event.hash;
      batch.push(record);
    }
    await hub.hub.ingestor.ingestBatch({ id: lockId, publicKey }, batch);
  }
}

describe("door activity and evidence in the web app", () => {
  it("scrolls a 100,000-event history with a small DOM and keeps loading older events", async () => {
    const hub = await startHub({ demo: true });
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const { problems } = watchPage(page);
    try {
      const demo = hub.hub.ctx.devices.demo;
      if (demo === null) throw new Error("demo site missing");
      const door = await hub.hub.ledger.db
        .selectFrom("doors")
        .select("id")
        .where("site_id", "=", demo.siteId)
        .where("name", "=", "Back door")
        .executeTakeFirstOrThrow();
      const seeded = Date.now();
      await seedHistory(hub, demo.siteId, door.id, HISTORY);
      console.log(`seeded ${HISTORY} signed events in ${Date.now() - seeded} ms`);

      await signUpOwner(page, hub.setupLink, () => hub.now());
      await page.goto(`${hub.origin}/#/sites/${demo.siteId}/activity`);
      const list = page.locator("[data-windowed-list]");
      await list.waitFor();
      await page.getByText("Sealed by lock").first().waitFor();
      await page
        .getByText(/Refused.*: outside schedule/)
        .first()
        .waitFor();

      const rendered = () => list.locator("li").count();
      const loaded = async () =>
        Number(
          /(\d+) events?(?: loaded|, the whole)/.exec(
            (await page.locator("[data-activity-status]").textContent()) ?? "",
          )?.[1] ?? 0,
        );
      expect(await rendered()).toBeLessThan(40);

      // Scroll to the end again and again: each time older pages arrive.
      let last = 0;
      for (let round = 0; round < 40; round++) {
        await list.evaluate((el) => {
          el.scrollTop = el.scrollHeight;
        });
        const whole = (await page.locator("[data-activity-status]").textContent())?.includes("whole history");
        if (whole === true) break;
        await expect.poll(loaded, { timeout: 20_000 }).toBeGreaterThan(last);
        last = await loaded();
        expect(await rendered()).toBeLessThan(40);
      }
      expect(last).toBeGreaterThanOrEqual(Math.min(4000, HISTORY));
      // The rows on screen are the deep ones, not the first.
      const firstIndex = Number(await list.locator("li").first().getAttribute("data-index"));
      expect(firstIndex).toBeGreaterThan(Math.min(3000, HISTORY - 100));
      // Back to the middle: the rows there are rendered (and only those).
      await list.evaluate((el) => {
        el.scrollTop = el.scrollHeight / 2;
      });
      await expect
        .poll(async () => Number(await list.locator("li").first().getAttribute("data-index")))
        .toBeLessThan(last / 2 + 10);
      expect(await rendered()).toBeLessThan(40);

      // Filter: only refusals.
      await page.getByLabel("What").selectOption("LockOperationError");
      await expect
        .poll(async () =>
          (
            await list
              .locator("[data-outcome]")
              .evaluateAll((els) => els.map((e) => e.getAttribute("data-outcome")))
          ).join(","),
        )
        .toMatch(/^denied(,denied)*$/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
    }
  }, 300_000);

  it("exports evidence of keypad events and verifies it in the browser; one flipped byte fails", async () => {
    const hub = await startHub({ demo: true });
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const { problems } = watchPage(page);
    try {
      const demo = hub.hub.ctx.devices.demo;
      if (demo === null) throw new Error("demo site missing");
      await signUpOwner(page, hub.setupLink, () => hub.now());
      const db = hub.hub.ledger.db;
      const front = await db
        .selectFrom("doors")
        .innerJoin("locks", "locks.door_id", "doors.id")
        .select(["doors.id as doorId", "locks.id as lockId"])
        .where("doors.site_id", "=", demo.siteId)
        .where("doors.name", "=", "Front door")
        .executeTakeFirstOrThrow();
      const sim = demo.locks.get(front.doorId);
      if (sim === undefined) throw new Error("no demo lock on the front door");
      const before = Number(
        (
          await db
            .selectFrom("lock_events")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("lock_id", "=", front.lockId)
            .executeTakeFirstOrThrow()
        ).n,
      );
      for (const pin of ["1111", "2222", "3333"]) sim.lock.enterPin(pin);
      await expect
        .poll(
          async () =>
            Number(
              (
                await db
                  .selectFrom("lock_events")
                  .select((eb) => eb.fn.countAll<number>().as("n"))
                  .where("lock_id", "=", front.lockId)
                  .executeTakeFirstOrThrow()
              ).n,
            ),
          { timeout: 20_000 },
        )
        .toBeGreaterThanOrEqual(before + 3);

      // The refusals show on the activity screen.
      await page.goto(`${hub.origin}/#/sites/${demo.siteId}/activity`);
      await page
        .getByText(/Front door · Refused/)
        .first()
        .waitFor();

      await page.goto(`${hub.origin}/#/sites/${demo.siteId}/evidence`);
      await page.getByLabel("Front door").check();
      const from = new Date(hub.now() - 3600_000);
      const local = (d: Date) =>
        new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      await page.getByLabel("From").fill(local(from));
      await page.getByLabel("Until").fill(local(new Date(hub.now() + 3600_000)));
      const [download] = await Promise.all([
        page.waitForEvent("download").catch(async (e: unknown) => {
          console.log(await page.locator("main").textContent());
          throw e;
        }),
        page.getByRole("button", { name: "Export and download" }).click(),
      ]);
      const path = await download.path();
      const bytes = new Uint8Array(readFileSync(path));
      expect(download.suggestedFilename()).toMatch(/^latchkey-evidence-.*\.json$/);

      await page.goto(`${hub.origin}/#/verify`);
      await page.getByLabel("Evidence file").setInputFiles({
        name: "evidence.json",
        mimeType: "application/json",
        buffer: Buffer.from(bytes),
      });
      await page.locator('[data-verdict="valid"]').waitFor();
      await page.getByText("What this proves").waitFor();

      // One byte flipped inside the first event record's base64.
      const text = new TextDecoder().decode(bytes);
      const at = text.indexOf('"record":"') + '"record":"'.length + 40;
      const flipped = new Uint8Array(bytes);
      flipped[at] = flipped[at] === 0x41 ? 0x42 : 0x41;
      await page.getByLabel("Evidence file").setInputFiles({
        name: "tampered.json",
        mimeType: "application/json",
        buffer: Buffer.from(flipped),
      });
      await page.locator('[data-verdict="invalid"]').waitFor();
      const element = await page.locator("[data-failing-element]").textContent();
      expect(element ?? "").not.toBe("");
      console.log(`tampered bundle: first failing element ${element}`);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await hub.close();
    }
  }, 180_000);
});
