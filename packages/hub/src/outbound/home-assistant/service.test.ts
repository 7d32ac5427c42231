/**
 * The bridge inside a running hub: a virtual lock commissioned over the hub's embedded broker;
 * Home Assistant's side on the shared Mosquitto (a random discovery prefix and base topic). The
 * door appears in HA's discovery with its state; a LOCK command on HA's command topic goes
 * through the hub's sync engine to the lock, which throws its bolt; an UNLOCK is refused for a
 * door not listed, and for a listed one only makes an unlock request for a person to approve.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../../testing/hub-fixture.js";
import { createOwner, type SignedIn } from "../../testing/flows.js";
import { brokerTargets, eventually, FAST_SYNC, MOSQUITTO_URL } from "../../testing/sync-support.js";
import { commissionSite } from "../../testing/sync-faults.js";
import { SimLock } from "../../sim/sim-lock.js";
import { quickSimLock } from "../../sim/test-support.js";

const targets = await brokerTargets();
const mosquitto = targets.some((t) => t.name === "mosquitto");

describe.runIf(mosquitto)("Home Assistant through the running hub", () => {
  let t: TestHub;
  let owner: SignedIn;
  let lock: SimLock;
  let dir: string;
  let doorId: string;
  let siteId: string;
  let ha: mqtt.MqttClient;
  const run = randomBytes(4).toString("hex");
  const prefix = `lk-test/${run}/homeassistant`;
  const retained = new Map<string, string>();

  beforeAll(async () => {
    const embedded = targets.find((x) => x.name === "embedded");
    if (embedded === undefined) throw new Error("the embedded broker is always a target");
    dir = mkdtempSync(join(tmpdir(), "latchkey-ha-"));
    const topicPrefix = `lk-test/${run}/locks`;
    // The door ids are not known before the site exists: a first hub commissions, a second (same
    // data) runs the bridge with the door listed for unlock requests.
    const first = await startTestHub("sqlite", { ...embedded.hubConfig, topicPrefix, syncPolicy: FAST_SYNC });
    owner = await createOwner(first);
    lock = await SimLock.start(
      quickSimLock({
        dir: join(dir, "front"),
        url: embedded.lockUrl(first),
        topicPrefix,
        wallMs: first.clock.now,
      }),
    );
    const site = await commissionSite(first, owner, [lock]);
    doorId = site.doors[0] ?? "";
    siteId = site.siteId;
    t = first;
    ha = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0 });
    ha.on("message", (topic, payload) => retained.set(topic, payload.toString()));
    await ha.subscribeAsync(`${prefix}/#`, { qos: 1 });
    await ha.subscribeAsync(`lk-test/${run}/ha/#`, { qos: 1 });
  }, 60_000);

  afterAll(async () => {
    // Clear what the bridge left retained on the shared broker.
    for (const topic of retained.keys()) await ha?.publishAsync(topic, "", { retain: true, qos: 1 });
    await ha?.endAsync();
    await lock?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the door, locks it on command through the hub, and turns an unlock into a request", async () => {
    const hub = t.hub;
    const { HomeAssistantService } = await import("./service.js");
    const service = new HomeAssistantService(
      {
        ctx: hub.ctx,
        log: hub.ctx.log,
        swVersion: "0.1.0",
        lockDoor: (id) => {
          const locks = hub.locks;
          if (locks === null) throw new Error("no lock service");
          return locks.lockDoor(id);
        },
        isOnline: (id) => hub.locks?.engine.isOnline(id) ?? false,
        requestUnlock: async (id) => {
          await hub.ctx.unlockRequests.create({
            doorId: id,
            requestedBy: { kind: "doorbell" },
            note: "Home Assistant asked to unlock",
            snapshot: null,
          });
        },
      },
      {
        url: MOSQUITTO_URL,
        username: null,
        password: null,
        discoveryPrefix: prefix,
        baseTopic: `lk-test/${run}/ha`,
        unlockDoorIds: [doorId],
      },
    );
    service.start();
    try {
      const configTopic = `${prefix}/device/latchkey_${doorId}/config`;
      await eventually("HA has the door's discovery config", () => retained.has(configTopic));
      const config = JSON.parse(retained.get(configTopic) ?? "{}") as {
        dev: { name: string };
        cmps: Record<string, { p: string }>;
      };
      expect(config.dev.name).toBe("Door 1");
      expect(Object.values(config.cmps).map((c) => c.p)).toEqual(
        expect.arrayContaining(["lock", "sensor", "binary_sensor"]),
      );

      lock.lock.runtime.manualBolt("Unlocked");
      expect(lock.lock.runtime.boltState).toBe("Unlocked");
      await ha.publishAsync(`lk-test/${run}/ha/${doorId}/set`, "LOCK", { qos: 1 });
      await eventually("the lock's bolt is thrown", () => lock.lock.runtime.boltState === "Locked", 15_000);

      await ha.publishAsync(`lk-test/${run}/ha/${doorId}/set`, "UNLOCK", { qos: 1 });
      await eventually(
        "an unlock request waits for a person",
        () => hub.ctx.unlockRequests.list(siteId).length === 1,
      );
      expect(hub.ctx.unlockRequests.list(siteId)[0]).toMatchObject({
        status: "pending",
        note: "Home Assistant asked to unlock",
      });
      expect(lock.lock.runtime.boltState).toBe("Locked");
    } finally {
      await service.stop();
    }
  }, 60_000);
});
