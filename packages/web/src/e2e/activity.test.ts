/**
 * Door activity and evidence in a real browser against a real hub:
 * - a door with a million-event history (real lock-signed records through the real ingestor and
 *   ledger): the scroll bar spans the whole history at once, a jump to the middle or the end
 *   shows exactly those rows, the DOM stays small, and a filter counts its matches;
 * - keypad events on a demo lock, exported as evidence from the Evidence screen, verified on the
 *   Verify screen in the browser → valid; the same file with one byte flipped → not valid, with
 *   the failing element named.
 *
 * LATCHKEY_E2E_HISTORY sets the history length (default 1,000,000).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Locator } from "playwright-core";
import { EventKind } from "@latchkey/protocol";
import { seedHistory } from "../../../hub/src/ingest/test-history.js";
import {
  DESKTOP,
  ensureWebBuild,
  launchChromium,
  startHub,
  watchPage,
  type RunningHub,
  signUpOwner,
} from "./harness.js";

const HISTORY = Number(process.env.LATCHKEY_E2E_HISTORY ?? 1_000_000);

let browser: Browser;

beforeAll(async () => {
  const [, b] = await Promise.all([ensureWebBuild(), launchChromium()]);
  browser = b;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Refusals the demo site's own locks signed (the seeded lock is on no demo lock's door list). */
async function demoRefusals(hub: RunningHub, siteId: string): Promise<number> {
  const demo = hub.hub.ctx.devices.demo;
  if (demo === null) return 0;
  const lockIds = [...demo.locks.values()].map((l) => l.lockId);
  const row = await hub.hub.ledger.db
    .selectFrom("lock_events")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("site_id", "=", siteId)
    .where("kind", "=", EventKind.LockOperationError)
    .where("lock_id", "in", lockIds)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Waits until the rows in view are the ones `wanted` accepts (the scroll has been rendered) and
 * every one of them is loaded (no placeholder), then returns their positions (1-based).
 */
async function settledRows(list: Locator, wanted: (positions: number[]) => boolean): Promise<number[]> {
  const read = async () => {
    const rows = await list.locator("li").evaluateAll((els) =>
      els.map((e) => ({
        at: Number(e.getAttribute("aria-posinset")),
        busy: e.getAttribute("aria-busy") === "true",
      })),
    );
    const positions = rows.map((r) => r.at);
    return rows.length > 0 && rows.every((r) => !r.busy) && wanted(positions) ? positions : null;
  };
  await expect.poll(read, { timeout: 20_000 }).not.toBeNull();
  return (await read()) ?? [];
}

describe("door activity and evidence in the web app", () => {
  it(`scrolls a ${HISTORY.toLocaleString("en-GB")}-event history: whole-history scroll bar, direct jumps, small DOM`, async () => {
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
      await seedHistory(hub.hub.ledger.db, hub.hub.ingestor, {
        siteId: demo.siteId,
        doorId: door.id,
        count: HISTORY,
        now: hub.now(),
      });
      console.log(`seeded ${HISTORY} signed events in ${Date.now() - seeded} ms`);

      await signUpOwner(page, hub.setupLink, () => hub.now());
      const opened = Date.now();
      await page.goto(`${hub.origin}/#/sites/${demo.siteId}/activity`);
      const list = page.locator("[data-windowed-list]");
      await list.waitFor();
      await page.getByText("Sealed by lock").first().waitFor();
      console.log(`activity of ${HISTORY} events shown ${Date.now() - opened} ms after navigation`);
      const status = page.locator("[data-activity-status]");
      const total = Number(await status.getAttribute("data-total"));
      // The seeded history plus the demo locks' own events (start-up, clock, heartbeats).
      expect(total).toBeGreaterThanOrEqual(HISTORY);
      expect(total).toBeLessThan(HISTORY + 1000);
      expect(await status.textContent()).toMatch(new RegExp(`^${total.toLocaleString("en-GB")} events`));
      const rendered = () => list.locator("li").count();
      expect(await rendered()).toBeLessThan(40);

      // The scroll bar spans the whole history from the first page (scaled past the browser's
      // height limit), so the end is one drag away.
      const { scrollHeight, clientHeight } = await list.evaluate((el) => ({
        scrollHeight: el.scrollHeight,
        clientHeight: el.clientHeight,
      }));
      expect(scrollHeight).toBeGreaterThan(Math.min(total * 64, 15_000_000) - 1000);

      // A few wheel turns: rows follow one another without gaps, the DOM stays small.
      await list.hover();
      for (let i = 0; i < 5; i++) await page.mouse.wheel(0, 600);
      const near = await settledRows(list, (p) => (p[0] ?? 0) > 1);
      expect(near.every((p, k) => k === 0 || p === (near[k - 1] as number) + 1)).toBe(true);

      // Jump to the middle: the rows there are read directly (no paging through what lies between).
      const jumped = Date.now();
      await list.evaluate((el) => {
        el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
      });
      const nearMiddle = (p: number[]) =>
        Math.abs((p[0] ?? 0) + p.length / 2 - total / 2) < total * 0.01 + 20;
      const middle = await settledRows(list, nearMiddle);
      console.log(`middle of ${total} events loaded ${Date.now() - jumped} ms after the jump`);
      expect(nearMiddle(middle)).toBe(true);
      expect(await rendered()).toBeLessThan(40);
      // Newest first: the seeded lock's events count down one by one.
      const seqs = await list
        .locator("li .badge")
        .evaluateAll((els) => els.map((e) => Number(/#(\d+)/.exec(e.getAttribute("title") ?? "")?.[1])));
      expect(seqs.length).toBeGreaterThan(5);
      expect(seqs.every((q, k) => k === 0 || q === (seqs[k - 1] as number) - 1)).toBe(true);

      // Jump to the very end: the oldest event is the last row.
      await list.evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      const end = await settledRows(list, (p) => p.at(-1) === total);
      expect(end.at(-1)).toBe(total);
      expect(clientHeight).toBeGreaterThan(0);

      // Filter: only refusals, counted over the whole history.
      await page.getByLabel("What").selectOption("LockOperationError");
      await expect
        .poll(async () => Number(await status.getAttribute("data-total")), { timeout: 30_000 })
        .toBe(Math.floor(HISTORY / 7) + (await demoRefusals(hub, demo.siteId)));
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
  }, 900_000);

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
