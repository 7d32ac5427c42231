/**
 * `latchkey lock add` against a real hub listening on a port: signs in with the owner's password
 * and a current authenticator code (from the environment), commissions a waiting virtual lock by
 * its setup code, and reports refusals in one clear line without echoing any secret.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, oathtool, OWNER_PASSWORD, type SignedIn } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { eventually } from "../testing/sync-support.js";
import { run } from "./lock.js";

describe("latchkey lock", () => {
  let t: TestHub;
  let owner: SignedIn;
  let lock: SimLock;
  let dir: string;
  let url = "";
  let siteId = "";
  let doorId = "";

  beforeAll(async () => {
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    t = await startTestHub("sqlite", { mqttPort: 0, host: "127.0.0.1", topicPrefix });
    owner = await createOwner(t);
    siteId = (await owner.client.post("/api/v1/sites", { name: "Flat", timezone: "Europe/Berlin" })).json<{
      id: string;
    }>().id;
    doorId = (await owner.client.post(`/api/v1/sites/${siteId}/doors`, { name: "Entrance" })).json<{
      id: string;
    }>().id;
    dir = mkdtempSync(join(tmpdir(), "latchkey-cli-lock-"));
    lock = await SimLock.start({
      dir,
      url: `mqtt://127.0.0.1:${t.hub.gateway.broker?.port ?? 0}`,
      topicPrefix,
      announceEveryMs: 200,
      clockTickMs: 0,
      commissioning: { pbkdf2Iterations: 1000 },
    });
    await t.hub.app.listen({ host: "127.0.0.1", port: 0 });
    const address = t.hub.app.server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
    await eventually(
      "the lock waits to be commissioned",
      async () => (await t.hub.locks.waiting()).length === 1,
    );
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await lock?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function capture(): { out: string[]; err: string[]; restore: () => void } {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    const error = vi
      .spyOn(console, "error")
      .mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
    return { out, err, restore: () => (log.mockRestore(), error.mockRestore()) };
  }

  function signInWith(code: string): void {
    vi.stubEnv("LATCHKEY_PASSWORD", OWNER_PASSWORD);
    vi.stubEnv("LATCHKEY_TOTP", code);
    vi.stubEnv("LATCHKEY_SETUP_CODE", "");
  }

  it("refuses bad usage with exit 2 and explains", async () => {
    const c = capture();
    try {
      expect(await run(["add", "--door", doorId, "--user", "owner"])).toBe(2);
      expect(await run(["frobnicate", "--hub", url])).toBe(2);
      expect(await run(["add", "--hub", url, "--door", doorId, "--user", "owner", "--lock-id", "xyz"])).toBe(
        2,
      );
      expect(await run(["add", "--hub", url, "--pin", "1234"])).toBe(2);
    } finally {
      c.restore();
    }
    expect(c.err.join("\n")).toMatch(/--hub is required/);
    expect(c.err.join("\n")).toMatch(/--lock-id must be 32 hex digits/);
  });

  it("lists the waiting lock, refuses a wrong setup code, then adds the lock with the right one", async () => {
    t.clock.now += 30_000;
    signInWith(oathtool(owner.totpSecret, t.clock.now));
    let c = capture();
    try {
      expect(await run(["waiting", "--hub", url, "--site", siteId, "--user", "owner"])).toBe(0);
    } finally {
      c.restore();
    }
    expect(c.out.join("\n")).toContain(lock.lockId);

    t.clock.now += 30_000;
    signInWith(oathtool(owner.totpSecret, t.clock.now));
    vi.stubEnv("LATCHKEY_SETUP_CODE", "2020 2021");
    c = capture();
    try {
      expect(await run(["add", "--hub", url, "--door", doorId, "--user", "owner"])).toBe(1);
    } finally {
      c.restore();
    }
    expect(c.err.join("\n")).toMatch(/HUB_COMMISSION_FAILED/);
    expect(c.err.join("\n") + c.out.join("\n")).not.toContain("2020 2021");

    await eventually(
      "the lock announces itself again",
      async () => (await t.hub.locks.waiting()).length === 1,
    );
    t.clock.now += 30_000;
    signInWith(oathtool(owner.totpSecret, t.clock.now));
    vi.stubEnv("LATCHKEY_SETUP_CODE", lock.setupCode ?? "");
    c = capture();
    try {
      expect(
        await run(["add", "--hub", url, "--door", doorId, "--user", "owner", "--lock-id", lock.lockId]),
      ).toBe(0);
    } finally {
      c.restore();
    }
    expect(c.out.join("\n")).toContain(`Lock ${lock.lockId} added`);
    await eventually("the lock connects as itself", () => lock.state === "connected");
    const view = await owner.client.get(`/api/v1/doors/${doorId}/lock`);
    expect(view.json<{ id: string }>().id).toBe(lock.lockId);
  });
});
