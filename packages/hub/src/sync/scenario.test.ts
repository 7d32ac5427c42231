/**
 * The scenario a new user tries (issue 6): start the hub, set up the owner, add two virtual locks
 * by their setup codes, create a cleaner's "Fridays 10:00–12:00" code, see it `set` on both locks,
 * use it on a Friday at 10:30 (granted) and 12:30 (denied: outside schedule), revoke it and see
 * it `removed`, and find all of it as lock-signed events in the ledger. Everything real: the
 * hub's HTTP API in-process, its device gateway and broker (embedded, and the real Mosquitto),
 * virtual locks speaking the protocol over MQTT from their own clients.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeSignedLockEvent,
  DenyReason,
  EventKind,
  LedgerLeafKind,
  toHex,
  type EpochMs,
} from "@latchkey/protocol";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { brokerTargets, eventually, FAST_SYNC } from "../testing/sync-support.js";

const targets = await brokerTargets();

describe.each(targets)(
  "a cleaner's Friday code reaches two locks and leaves again ($name broker)",
  (target) => {
    let t: TestHub;
    let owner: SignedIn;
    let dir: string;
    const locks: SimLock[] = [];
    let siteId = "";
    const doors: string[] = [];

    beforeAll(async () => {
      const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
      t = await startTestHub("sqlite", {
        ...target.hubConfig,
        topicPrefix,
        syncPolicy: FAST_SYNC,
      });
      dir = mkdtempSync(join(tmpdir(), "latchkey-scenario-"));
      const url = target.lockUrl(t);
      for (const name of ["front", "back"]) {
        locks.push(
          await SimLock.start({
            dir: join(dir, name),
            url,
            topicPrefix,
            wallMs: t.clock.now,
            clockTickMs: 0,
            announceEveryMs: 200,
            commissioning: { pbkdf2Iterations: 1000 },
          }),
        );
      }
      owner = await createOwner(t);
    });
    afterAll(async () => {
      if (process.env.DUMP_LOGS)
        console.log(
          t.logs.lines
            .filter((l) => /sync|lock/.test(l))
            .slice(-30)
            .join("\n"),
        );
      for (const l of locks) await l.stop();
      await t?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it("adds both locks by their setup codes", async () => {
      const c = owner.client;
      const site = await c.post("/api/v1/sites", { name: "Home", timezone: "Europe/London" });
      expect(site.statusCode, site.body).toBe(201);
      siteId = site.json<{ id: string }>().id;
      for (const name of ["Front door", "Back door"]) {
        const d = await c.post(`/api/v1/sites/${siteId}/doors`, { name });
        expect(d.statusCode, d.body).toBe(201);
        doors.push(d.json<{ id: string }>().id);
      }
      await eventually("both locks announce themselves", async () => {
        const r = await c.get(`/api/v1/sites/${siteId}/commissioning`);
        const ids = r.json<{ items: { lockId: string }[] }>().items.map((i) => i.lockId);
        return locks.every((l) => ids.includes(l.lockId));
      });
      // Two locks wait: the hub will not guess which one is meant.
      await stepUp(t, owner);
      const ambiguous = await c.post(`/api/v1/doors/${doors[0]}/lock`, { setupCode: locks[0]?.setupCode });
      expect(ambiguous.json().code).toBe("HUB_COMMISSION_AMBIGUOUS");
      // A wrong code is refused and stores nothing.
      const wrong = await c.post(`/api/v1/doors/${doors[0]}/lock`, {
        setupCode: "20202021",
        lockId: locks[0]?.lockId,
      });
      expect(wrong.statusCode, wrong.body).toBe(422);
      expect(wrong.json().code).toBe("HUB_COMMISSION_FAILED");
      expect(wrong.body).not.toContain("20202021");
      for (const [i, lock] of locks.entries()) {
        await eventually("the lock announces itself again", async () => {
          const r = await c.get(`/api/v1/sites/${siteId}/commissioning`);
          return r.json<{ items: { lockId: string }[] }>().items.some((x) => x.lockId === lock.lockId);
        });
        const r = await c.post(`/api/v1/doors/${doors[i]}/lock`, {
          setupCode: lock.setupCode,
          lockId: lock.lockId,
        });
        expect(r.statusCode, r.body).toBe(201);
        expect(r.json<{ id: string }>().id).toBe(lock.lockId);
      }
      for (const door of doors) {
        await eventually("the lock is online with its state read", async () => {
          const r = await c.get(`/api/v1/doors/${door}/lock`);
          const v = r.json<{ online: boolean; condition: unknown }>();
          return v.online && v.condition !== null;
        });
      }
    });

    let credentialId = "";
    let personId = "";
    let pin = "";

    it("a cleaner's Friday 10:00–12:00 code is set on both locks", async () => {
      const c = owner.client;
      const person = await c.post(`/api/v1/sites/${siteId}/people`, { name: "Carla (cleaner)" });
      personId = person.json<{ id: string }>().id;
      const created = await c.post(`/api/v1/people/${personId}/credentials`, { kind: "pin" });
      expect(created.statusCode, created.body).toBe(201);
      credentialId = created.json<{ credential: { id: string } }>().credential.id;
      pin = created.json<{ pin: string }>().pin;
      const grant = await c.post(`/api/v1/people/${personId}/grants`, {
        doorIds: doors,
        category: "cleaner",
        schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
      });
      expect(grant.statusCode, grant.body).toBe(201);
      await eventually("the code is set on both locks", async () => {
        const r = await c.get(`/api/v1/credentials/${credentialId}/sync`);
        const items = r.json<{ items: { state: string }[] }>().items;
        return items.length === 2 && items.every((i) => i.state === "set");
      });
      // The per-state counts are re-read at most once a second.
      await expect
        .poll(async () => (await t.client().get("/metrics")).body)
        .toMatch(/latchkey_credential_sync\{state="set"\} 2/);
      const metrics = await t.client().get("/metrics");
      expect(metrics.body).toMatch(/latchkey_locks_connected 2/);
      expect(metrics.body).toMatch(/^latchkey_lock_clock_drift_seconds_max \d/m);
      expect(metrics.body).toMatch(/^latchkey_events_ingested_total [1-9]/m);
    });

    it("opens on Friday at 10:30 and is refused at 12:30 (outside schedule)", () => {
      // 2026-11-20 is a Friday; London is on GMT in November.
      const at = (hh: number, mm: number) => Date.UTC(2026, 10, 20, hh, mm) as EpochMs;
      for (const l of locks) {
        l.lock.clock.setWallMs(at(10, 30));
        expect(l.lock.enterPin(pin).granted).toBe(true);
        l.lock.clock.setWallMs(at(12, 30));
        const denied = l.lock.enterPin(pin);
        expect(denied.granted).toBe(false);
        if (!denied.granted) expect(denied.reason).toBe(DenyReason.OutsideSchedule);
      }
    });

    it("revoking removes it from both locks, and everything is in the ledger as lock-signed events", async () => {
      const c = owner.client;
      // Forgetting the cleaner while her code is on the locks is refused: nobody would track it.
      await stepUp(t, owner);
      const early = await c.delete(`/api/v1/people/${personId}`);
      expect(early.statusCode, early.body).toBe(409);
      expect(early.json().code).toBe("HUB_PERSON_ON_LOCKS");
      const r = await c.post(`/api/v1/credentials/${credentialId}/revoke`);
      expect(r.statusCode, r.body).toBe(200);
      await eventually("the code is removed from both locks", async () => {
        const s = await c.get(`/api/v1/credentials/${credentialId}/sync`);
        const items = s.json<{ items: { state: string }[] }>().items;
        return items.length === 2 && items.every((i) => i.state === "removed");
      });
      for (const l of locks) expect(l.lock.enterPin(pin).granted).toBe(false);
      // Once removed everywhere, the person can go.
      await eventually("the person's user slots are cleared and the person can be deleted", async () => {
        const gone = await c.delete(`/api/v1/people/${personId}`);
        if (gone.statusCode === 409) return false;
        expect(gone.statusCode, gone.body).toBe(200);
        return true;
      });
      const ledger = t.hub.ledger.ledger;
      await eventually("every lock's events reach the ledger", async () => {
        const seen = await lockEventsInLedger(t);
        return locks.every((l) => {
          const kinds = seen.get(l.lockId) ?? [];
          return (
            kinds.some((e) => e.kind === EventKind.UserChange && e.operation === "Add" && e.type === "PIN") &&
            kinds.some((e) => e.kind === EventKind.LockOperation) &&
            kinds.some(
              (e) => e.kind === EventKind.LockOperationError && e.reason === DenyReason.OutsideSchedule,
            ) &&
            kinds.some((e) => e.kind === EventKind.UserChange && e.operation === "Clear" && e.type === "PIN")
          );
        });
      });
      expect(await ledger.size()).toBeGreaterThan(10);
    });
  },
);

async function lockEventsInLedger(
  t: TestHub,
): Promise<Map<string, { kind: number; operation?: unknown; type?: string; reason?: unknown }[]>> {
  const ledger = t.hub.ledger.ledger;
  const out = new Map<string, { kind: number; operation?: unknown; type?: string; reason?: unknown }[]>();
  for (const entry of await ledger.entries(0, await ledger.size())) {
    if (entry.leaf.kind !== LedgerLeafKind.LockEvent) continue;
    const e = decodeSignedLockEvent(entry.leaf.record);
    const id = toHex(entry.leaf.lockId);
    const list = out.get(id) ?? [];
    list.push({
      kind: e.kind,
      operation: e.details.operation,
      ...(e.actor.credentialType === undefined ? {} : { type: e.actor.credentialType }),
      reason: e.details.reason,
    });
    out.set(id, list);
  }
  return out;
}
