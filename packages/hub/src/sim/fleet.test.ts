/**
 * A small fleet against a real device gateway: lock directories, the 0600 setup-codes file (only
 * locks waiting for commissioning), counts as locks get commissioned, and a clean stop.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { LockId } from "@latchkey/protocol";
import { startFleet, type Fleet, type SetupCodeEntry } from "./fleet.js";
import { TEST_COMMISSIONING, startTestHubSide, tempDir, until, type TestHubSide } from "./test-support.js";

let hub: TestHubSide;
let tmp: { dir: string; remove: () => void };
let fleet: Fleet | null = null;

beforeEach(async () => {
  hub = await startTestHubSide();
  tmp = tempDir();
});

afterEach(async () => {
  await fleet?.stop();
  fleet = null;
  await hub.close();
  tmp.remove();
});

function codes(): SetupCodeEntry[] {
  return JSON.parse(readFileSync(join(tmp.dir, "setup-codes.json"), "utf8")) as SetupCodeEntry[];
}

describe("a fleet of simulated locks", () => {
  it("starts N locks waiting for commissioning, lists their codes (0600) and follows commissioning", async () => {
    fleet = await startFleet({
      count: 3,
      dir: tmp.dir,
      url: hub.url,
      topicPrefix: hub.topicPrefix,
      commissioning: TEST_COMMISSIONING,
      concurrency: 2,
      announceEveryMs: 200,
      reconnectPeriodMs: 100,
      maxRetryMs: 500,
    });
    expect(fleet.locks.map((l) => l.dir)).toEqual(
      ["lock-0001", "lock-0002", "lock-0003"].map((d) => join(tmp.dir, d)),
    );
    expect(fleet.counts()).toEqual({ waiting: 3, connecting: 0, connected: 0 });
    expect(statSync(fleet.setupCodesFile).mode & 0o777).toBe(0o600);
    const listed = codes();
    expect(listed.map((e) => e.name)).toEqual(["Sim lock 1", "Sim lock 2", "Sim lock 3"]);
    expect(listed.map((e) => e.lockId)).toEqual(fleet.locks.map((l) => l.lockId));
    for (const e of listed) expect(e.setupCode).toMatch(/^[0-9]{8}$/);

    // The hub commissions lock 2 with the code from the file.
    const second = listed[1]!;
    await until(
      () => [...hub.sessions.values()].some((s) => s.announcedLockId === second.lockId),
      "lock 2's announcement",
    );
    const sessionId = [...hub.sessions].find(([, s]) => s.announcedLockId === second.lockId)![0];
    await hub.commission(sessionId, second.setupCode);
    await fleet.locks[1]!.whenConnected();
    await until(() => codes().length === 2, "the setup codes file to drop lock 2");
    expect(codes().map((e) => e.name)).toEqual(["Sim lock 1", "Sim lock 3"]);
    expect(fleet.counts()).toEqual({ waiting: 2, connecting: 0, connected: 1 });
    expect(fleet.uncommissioned()).toBe(2);

    await fleet.stop();
    expect(fleet.locks.every((l) => l.state === "stopped")).toBe(true);
    await until(() => !hub.gateway.isConnected(second.lockId as LockId), "lock 2 to go offline");

    // Started again from the same directory: same locks, lock 2 straight back as itself.
    fleet = await startFleet({
      count: 3,
      dir: tmp.dir,
      url: hub.url,
      topicPrefix: hub.topicPrefix,
      commissioning: TEST_COMMISSIONING,
      reconnectPeriodMs: 100,
    });
    expect(fleet.locks.map((l) => l.lockId)).toEqual(listed.map((e) => e.lockId));
    await fleet.locks[1]!.whenConnected();
    expect(codes().map((e) => e.setupCode)).toEqual([listed[0]!.setupCode, listed[2]!.setupCode]);
  });
});
