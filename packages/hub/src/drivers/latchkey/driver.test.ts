/**
 * The Latchkey driver against a real virtual lock over the hub's embedded MQTT broker: what the
 * engine sends through the seam lands on the lock, a lock's refusal comes back as its own code,
 * and a lock that does not answer is LockUnreachable — the distinction the engine's presence and
 * breaker rest on.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CAPACITY } from "@latchkey/lock";
import { UserType } from "@latchkey/protocol";
import { startTestHub } from "../../testing/hub-fixture.js";
import { createOwner } from "../../testing/flows.js";
import { SimLock } from "../../sim/sim-lock.js";
import { quickSimLock } from "../../sim/test-support.js";
import { brokerTargets, eventually, FAST_SYNC } from "../../testing/sync-support.js";
import { commissionSite } from "../../testing/sync-faults.js";
import { LockUnreachable, type UserSlot } from "../lock-driver.js";
import { LATCHKEY_CAPABILITIES, LatchkeyDriver } from "./driver.js";

const target = (await brokerTargets())[0]!;

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

const friday10to12: UserSlot = {
  userType: "WeekDayScheduleUser",
  expiringTimeoutMinutes: 0,
  weekDay: [{ daysMask: 0x20, startMinute: 600, endMinute: 720 }],
  yearDay: [],
};

describe(`the Latchkey driver (${target.name} broker)`, () => {
  it("states what a Latchkey lock holds: the runtime's own capacity", () => {
    expect(LATCHKEY_CAPABILITIES.slots).toEqual({
      users: DEFAULT_CAPACITY.users,
      credentialsPerType: DEFAULT_CAPACITY.credentialsPerType,
      weekDaySchedulesPerUser: DEFAULT_CAPACITY.weekDayPerUser,
      yearDaySchedulesPerUser: DEFAULT_CAPACITY.yearDayPerUser,
    });
    expect(LATCHKEY_CAPABILITIES.eventAssurance).toBe("sealed-by-lock");
    expect(LATCHKEY_CAPABILITIES.credentialDelivery).toBe("sealed-to-lock");
  });

  it("sets a user slot the lock then holds, returns the lock's refusal, and says when the lock is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-driver-"));
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    const t = await startTestHub("sqlite", { ...target.hubConfig, topicPrefix, syncPolicy: FAST_SYNC });
    const lock = await SimLock.start(
      quickSimLock({ dir: join(dir, "front"), url: target.lockUrl(t), topicPrefix }),
    );
    let lockStopped = false;
    cleanup = async () => {
      if (!lockStopped) await lock.stop();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    };
    await commissionSite(t, await createOwner(t), [lock]);
    const engine = t.hub.locks.engine;
    const lockId = lock.lockId;
    await eventually("the lock is online", () => engine.isOnline(lockId));

    // A user slot no grant uses (the engine leaves it alone): set through the seam, read at the lock.
    const entriesBefore = lock.lock.runtime.scheduleEntryCount;
    expect(await engine.withSession(lockId, (s) => s.applyUser(50, friday10to12))).toBeNull();
    expect(lock.lock.runtime.user(50)?.type).toBe(UserType.WeekDayScheduleUser);
    expect(lock.lock.runtime.scheduleEntryCount).toBe(entriesBefore + 1);

    // More weekly windows than the lock keeps: the lock's own refusal, naming the step.
    const tooMany: UserSlot = {
      ...friday10to12,
      weekDay: Array.from({ length: DEFAULT_CAPACITY.weekDayPerUser + 1 }, (_, i) => ({
        daysMask: 0x01 << (i % 7),
        startMinute: 60 * (i % 20),
        endMinute: 60 * (i % 20) + 30,
      })),
    };
    const refusal = await engine.withSession(lockId, (s) => s.applyUser(51, tooMany));
    expect(refusal).toMatch(/^SetWeekDaySchedule: LOCK_[A-Z_]+$/);
    // Refusals are answers: the lock is still online.
    expect(engine.isOnline(lockId)).toBe(true);

    // The lock gone: a new session cannot be opened, and says so as LockUnreachable.
    await lock.stop();
    lockStopped = true;
    const driver = new LatchkeyDriver({
      db: t.hub.ledger.db,
      gateway: t.hub.gateway,
      hubStaticSecretKey: randomBytes(32),
    });
    await expect(
      driver.open({ lockId, channelPublicKey: "00".repeat(32) }, { timeoutMs: 500 }),
    ).rejects.toBeInstanceOf(LockUnreachable);
  });
});
