/**
 * A captured first handshake message is never answered again, across lock and hub restarts, and a
 * replay never disturbs the hub's live session (finding 4 of issue 14). Everything real: the hub
 * with its sync engine on a SQLite file, a virtual lock over Mosquitto from its own MQTT client,
 * and an attacker with an ordinary MQTT client that records the lock's topics and replays frames.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { ChannelFrame, type LockId } from "@latchkey/protocol";
import { startTestHub, type TestClient, type TestHub } from "../testing/hub-fixture.js";
import { createOwner } from "../testing/flows.js";
import { SimLock, type SimLockOptions } from "../sim/sim-lock.js";
import { TopicScheme } from "@latchkey/lock/mqtt";
import { brokerTargets, eventually, FAST_SYNC, MOSQUITTO_URL } from "../testing/sync-support.js";
import {
  addPins,
  commissionSite,
  grantedPerson,
  stateOn,
  untilLedgerMatchesJournal,
} from "../testing/sync-faults.js";
import { quickSimLock } from "../sim/test-support.js";

const targets = await brokerTargets();

/** Handshake frames seen on the wire, by direction and message index. */
class Wire {
  readonly frames: { dir: "down" | "up"; index: number; bytes: Uint8Array }[] = [];

  constructor(
    readonly spy: MqttClient,
    readonly scheme: TopicScheme,
    readonly lockId: LockId,
  ) {
    spy.on("message", (topic, payload) => {
      const dir = topic === scheme.lockDown(lockId) ? "down" : topic === scheme.lockUp(lockId) ? "up" : null;
      if (dir === null) return;
      try {
        const f = ChannelFrame.decode(new Uint8Array(payload));
        if (f.type === "handshake") this.frames.push({ dir, index: f.index, bytes: new Uint8Array(payload) });
      } catch {
        // not a channel frame
      }
    });
  }

  /** First handshake messages the hub sent (replays excluded: the attacker's own are not recorded). */
  firstMessages(): Uint8Array[] {
    return this.frames.filter((f) => f.dir === "down" && f.index === 0).map((f) => f.bytes);
  }

  /** The lock's answers to first messages (message 2). */
  answers(): number {
    return this.frames.filter((f) => f.dir === "up" && f.index === 1).length;
  }
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe.runIf(targets.some((t) => t.name === "mosquitto"))(
  "replayed first handshake messages (Mosquitto)",
  () => {
    it("are never answered again, after a lock restart or a hub restart, and leave the live session alone", async () => {
      const dir = mkdtempSync(join(tmpdir(), "latchkey-replay-"));
      const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
      const hubConfig = { broker: MOSQUITTO_URL, topicPrefix, syncPolicy: FAST_SYNC };
      let t: TestHub = await startTestHub("sqlite", hubConfig);
      const dataDir = t.dataDir;
      let hubOpen = true;
      cleanups.push(async () => {
        if (hubOpen) await t.close();
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(dir, { recursive: true, force: true });
      });
      const owner = await createOwner(t);
      const lockOptions: SimLockOptions = quickSimLock({
        dir: join(dir, "front"),
        url: MOSQUITTO_URL,
        topicPrefix,
        wallMs: t.clock.now,
      });
      let lock = await SimLock.start(lockOptions);
      cleanups.push(() => lock.stop());
      const lockId = lock.lockId;
      const scheme = new TopicScheme(topicPrefix);
      const spy = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0 });
      cleanups.push(async () => {
        await spy.publishAsync(scheme.lockStatus(lockId), Buffer.alloc(0), { qos: 1, retain: true });
        await spy.endAsync();
      });
      await spy.subscribeAsync([scheme.lockDown(lockId), scheme.lockUp(lockId)], { qos: 1 });
      const wire = new Wire(spy, scheme, lockId);
      const replay = (frame: Uint8Array): Promise<unknown> =>
        spy.publishAsync(scheme.lockDown(lockId), Buffer.from(frame), { qos: 1 });

      const site = await commissionSite(t, owner, [lock]);
      let c: TestClient = owner.client;
      const personId = await grantedPerson(c, site.siteId, site.doors);
      const firstSession = wire.firstMessages()[0];
      if (firstSession === undefined) throw new Error("no first handshake message on the wire");

      /** The lock answered a new first message and serves requests on that session. */
      const newSessionInUse = async (what: string, answeredBefore: number): Promise<void> => {
        const served = lock.lock.endpoint.stats.requests;
        await eventually(what, () => wire.answers() > answeredBefore);
        await eventually(`${what} (in use)`, () => lock.lock.endpoint.stats.requests > served);
      };

      /**
       * A PIN reaches the lock and a pushed event reaches the ledger on the session in use: no new
       * handshake is needed for either, and nothing answered the replays.
       */
      const liveSessionWorks = async (replayed: number): Promise<void> => {
        const hubFirst = wire.firstMessages().length;
        const answered = wire.answers();
        const [pin] = await addPins(c, personId, 1);
        if (pin === undefined) throw new Error("pin");
        await eventually(
          "the PIN is set on the lock",
          async () => (await stateOn(c, pin.id, lockId)) === "set",
        );
        expect(lock.lock.enterPin(pin.pin).granted).toBe(true);
        lock.lock.runtime.lockButton();
        await untilLedgerMatchesJournal(t.hub.ledger.ledger, lockId, () => lock.lock.runtime);
        expect(lock.lock.endpoint.stats.refusals.NOISE_HANDSHAKE_REPLAYED ?? 0).toBe(replayed);
        expect(wire.firstMessages()).toHaveLength(hubFirst);
        expect(wire.answers()).toBe(answered);
      };

      // The lock restarts: a new process (runtime, endpoint, MQTT client) from the same directory.
      await lock.stop();
      lock = await SimLock.start(lockOptions);
      await newSessionInUse("the hub opened a session with the restarted lock", wire.answers());
      await replay(firstSession);
      await liveSessionWorks(1);

      // The hub restarts on the same database: its counter carries on from there.
      const beforeHubRestart = wire.firstMessages();
      const answeredBeforeHubRestart = wire.answers();
      await t.hub.close();
      hubOpen = false;
      t = await startTestHub("sqlite", { ...hubConfig, dataDir });
      hubOpen = true;
      const signedIn = t.client();
      signedIn.cookie = owner.client.cookie;
      signedIn.csrf = owner.client.csrf;
      c = signedIn;
      await newSessionInUse("the restarted hub opened a session with the lock", answeredBeforeHubRestart);
      for (const m of beforeHubRestart) await replay(m);
      await liveSessionWorks(1 + beforeHubRestart.length);
    }, 120_000);
  },
);
