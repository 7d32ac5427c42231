/**
 * The hub keeps locks' clocks right by small steps only (docs/lock-runtime.md "Clock"). A lock a
 * minute off is corrected (a signed ClockSet with old and new values); a lock hours off is left
 * alone — no lock takes such a step without a person's authorisation — and the hub says "clock
 * needs authorisation" once, in its log and in the lock's condition, instead of asking again at
 * every state read. Everything real: hub, gateway, virtual locks over MQTT, SQLite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { EventKind } from "@latchkey/protocol";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { quickSimLock } from "../sim/test-support.js";
import { brokerTargets, eventually, FAST_SYNC } from "../testing/sync-support.js";
import { commissionSite } from "../testing/sync-faults.js";

const targets = await brokerTargets();
const target = targets[0]!;

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function condition(t: TestHub, lockId: string): Promise<Record<string, unknown> | null> {
  const row = await t.hub.ledger.db
    .selectFrom("locks")
    .select(["state_json", "clock_drift_ms"])
    .where("id", "=", lockId)
    .executeTakeFirst();
  if (row?.state_json === null || row?.state_json === undefined) return null;
  return { ...(JSON.parse(row.state_json) as Record<string, unknown>), driftMs: row.clock_drift_ms };
}

describe(`lock clocks from the hub (${target.name} broker)`, () => {
  it("corrects a small drift and leaves a clock hours off for a person, without retrying", async () => {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-clock-"));
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    const t = await startTestHub("sqlite", { ...target.hubConfig, topicPrefix, syncPolicy: FAST_SYNC });
    const now = t.clock.now;
    const url = target.lockUrl(t);
    const near = await SimLock.start(
      quickSimLock({ dir: join(dir, "near"), url, topicPrefix, wallMs: now - 60_000 }),
    );
    const far = await SimLock.start(
      quickSimLock({ dir: join(dir, "far"), url, topicPrefix, wallMs: now - 2 * 3_600_000 }),
    );
    cleanup = async () => {
      await near.stop();
      await far.stop();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const owner = await createOwner(t);
    const site = await commissionSite(t, owner, [near, far]);

    // Commissioning moves the hub's (fake) clock on: the clocks are compared with it now.
    await eventually(
      "the near lock's clock is set to the hub's",
      () => near.lock.runtime.wallMs === t.clock.now,
    );
    const set = near.lock.runtime.journal.read(1).filter((e) => e.kind === EventKind.ClockSet);
    expect(set.map((e) => [e.details.fromMs, e.details.toMs, e.details.source])).toEqual([
      [now - 60_000, t.clock.now, "hub"],
    ]);

    await eventually("the far lock is marked as needing a person", async () => {
      return (await condition(t, far.lockId))?.clockNeedsAuthorisation === true;
    });
    const marked = t.logs.lines.filter((l) => l.includes("clock needs authorisation")).length;
    expect(marked).toBe(1);
    // Several more state reads (one a second under FAST_SYNC): no request, no new log line.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(t.logs.lines.filter((l) => l.includes("clock needs authorisation")).length).toBe(1);
    expect(far.lock.runtime.wallMs).toBe(now - 2 * 3_600_000);
    const kinds = far.lock.runtime.journal.read(1).map((e) => e.kind);
    expect(kinds).not.toContain(EventKind.ClockSet);
    expect(kinds).not.toContain(EventKind.ClockSetRefused);
    expect((await condition(t, far.lockId))?.driftMs).toBe(now - 2 * 3_600_000 - t.clock.now);
    expect((await condition(t, near.lockId))?.clockNeedsAuthorisation).toBeUndefined();
    // The lock API says so too, for the dashboard.
    const views = await Promise.all(site.doors.map((d) => owner.client.get(`/api/v1/doors/${d}/lock`)));
    expect(views.map((r) => r.json<{ clockNeedsAuthorisation: boolean }>().clockNeedsAuthorisation)).toEqual([
      false,
      true,
    ]);
  }, 60_000);
});
