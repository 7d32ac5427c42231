/**
 * Revocation reaches the locks: revoking a certificate serial bumps the site's signed list, the
 * sync engine pushes it to every lock of the site, and the locks hold the new version (a lock
 * refuses lists older than its own, so the version only goes up). Revoking again is idempotent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { eventually, FAST_SYNC } from "../testing/sync-support.js";
import { commissionSite, type Site } from "../testing/sync-faults.js";

describe("revocation lists reach every lock of the site", () => {
  let t: TestHub;
  let owner: SignedIn;
  let dir: string;
  let site: Site;
  const locks: SimLock[] = [];

  beforeAll(async () => {
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    t = await startTestHub("sqlite", { mqttPort: 0, host: "127.0.0.1", topicPrefix, syncPolicy: FAST_SYNC });
    owner = await createOwner(t);
    dir = mkdtempSync(join(tmpdir(), "latchkey-revocation-"));
    for (const name of ["a", "b"])
      locks.push(
        await SimLock.start({
          dir: join(dir, name),
          url: `mqtt://127.0.0.1:${t.hub.gateway.broker?.port ?? 0}`,
          topicPrefix,
          wallMs: t.clock.now,
          clockTickMs: 0,
          announceEveryMs: 200,
          commissioning: { pbkdf2Iterations: 1000 },
        }),
      );
    site = await commissionSite(t, owner, locks);
  });
  afterAll(async () => {
    for (const l of locks) await l.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("pushes version 1, then 2, to both locks; a repeated serial changes nothing", async () => {
    const c = owner.client;
    expect((await c.get(`/api/v1/sites/${site.siteId}/revocations`)).json()).toEqual({
      version: 0,
      items: [],
    });
    await stepUp(t, owner);
    for (const [serial, version] of [
      ["4711", 1],
      ["18446744073709551615", 2],
      ["4711", 2],
    ] as const) {
      const r = await c.post(`/api/v1/sites/${site.siteId}/revocations`, { serial });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ version });
      await eventually(`both locks hold list version ${version}`, () =>
        locks.every((l) => l.lock.runtime.commissioning.revocation?.version === version),
      );
    }
    for (const l of locks) {
      const held = l.lock.runtime.commissioning.revocation;
      expect(held).not.toBeNull();
      expect(held?.list?.serials).toEqual([4711n, 18446744073709551615n]);
    }
    const bad = await c.post(`/api/v1/sites/${site.siteId}/revocations`, { serial: "18446744073709551616" });
    expect(bad.statusCode).toBe(400);
    expect(
      (await c.get(`/api/v1/sites/${site.siteId}/revocations`)).json<{ version: number }>().version,
    ).toBe(2);
  });
});
