/**
 * Crash safety of sync and ingestion (kill -9): the hub runs in a child process
 * (sync-crash-child.ts) on a fixed data directory with its embedded broker on a fixed loopback
 * port; two virtual locks run here and reconnect to each new child. The setup (owner, site, two
 * commissioned locks, a person with 20 PINs) is done by this process on the same data directory;
 * then, while the locks keep producing events (door, keypad) and the child keeps adding and
 * revoking PINs, the child is SIGKILLed at random moments and restarted, several times. A last
 * clean start must converge: every active credential `set` and every revoked one `removed` on both
 * locks (and the locks really hold exactly those PIN slots), no PIN the API confirmed is lost, and
 * the ledger holds each lock's whole journal exactly once — seqs 1…N, gapless, byte for byte.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildHub, type Hub } from "../server/app.js";
import { LogCapture, TestClient, type TestHub } from "../testing/hub-fixture.js";
import { createOwner } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { eventually } from "../testing/sync-support.js";
import { crashHubConfig } from "../testing/sync-crash.js";
import {
  addPins,
  commissionSite,
  freePort,
  grantedPerson,
  untilLedgerMatchesJournal,
} from "../testing/sync-faults.js";

const CHILD = fileURLToPath(new URL("../testing/sync-crash-child.ts", import.meta.url));
const KILLS = 5;

interface Run {
  readonly created: string[];
  readonly revoked: string[];
  readonly killed: boolean;
}

/** Runs one child hub; SIGKILLs it at a random moment after it is up. */
function runChild(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    const created: string[] = [];
    const revoked: string[] = [];
    let buffered = "";
    let stderr = "";
    let killTimer: NodeJS.Timeout | null = null;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^(CRED|REVOKED) (\S+)$/.exec(line);
        if (m?.[1] === "CRED") created.push(m[2] ?? "");
        if (m?.[1] === "REVOKED") revoked.push(m[2] ?? "");
        if (line === "READY" && killTimer === null) {
          killTimer = setTimeout(() => child.kill("SIGKILL"), 300 + Math.floor(Math.random() * 1500));
        }
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (killTimer !== null) clearTimeout(killTimer);
      if (signal === "SIGKILL") resolve({ created, revoked, killed: true });
      else reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
    });
  });
}

describe("sync and ingestion crash safety (kill -9 of the hub)", () => {
  it("converges after repeated SIGKILLs with every lock event in the ledger exactly once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "latchkey-sync-crash-"));
    const lockDir = mkdtempSync(join(tmpdir(), "latchkey-sync-crash-locks-"));
    const port = await freePort();
    const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
    // Behind real time: the engine schedules retries on the real clock, and stepUp moves this one on.
    let offset = -10 * 60_000;
    const clock = {
      get now(): number {
        return Date.now() + offset;
      },
      set now(v: number) {
        offset = v - Date.now();
      },
    };
    const config = () => crashHubConfig({ dataDir, mqttPort: port, topicPrefix, now: () => clock.now });
    const locks: SimLock[] = [];
    let hub: Hub | null = null;
    let driver: NodeJS.Timeout | null = null;
    try {
      // Setup on the data directory the children will use.
      hub = await buildHub(config());
      const setupHub = hub;
      const t: TestHub = {
        hub: setupHub,
        logs: new LogCapture(),
        clock,
        dataDir,
        client: () => new TestClient(setupHub),
        close: () => setupHub.close(),
      };
      const owner = await createOwner(t);
      for (const name of ["front", "back"]) {
        locks.push(
          await SimLock.start({
            dir: join(lockDir, name),
            url: `mqtt://127.0.0.1:${port}`,
            topicPrefix,
            wallMs: clock.now,
            clockTickMs: 0,
            announceEveryMs: 200,
            reconnectPeriodMs: 100,
            maxRetryMs: 500,
            commissioning: { pbkdf2Iterations: 1000 },
          }),
        );
      }
      const site = await commissionSite(t, owner, locks);
      const c = owner.client;
      const personId = await grantedPerson(c, site.siteId, site.doors);
      const initial = await addPins(c, personId, 20);
      // Close with the sync in flight.
      await hub.close();
      hub = null;

      // The locks keep living: doors, keypad, time passing — events to ingest all along.
      let tick = 0;
      driver = setInterval(() => {
        tick++;
        for (const l of locks) {
          l.lock.openDoor();
          l.lock.closeDoor();
          if (tick % 5 === 0) {
            l.lock.enterPin(initial[tick % initial.length]?.pin ?? "000000");
            l.lock.advance(1_000);
          }
        }
      }, 100);

      const created: string[] = initial.map((p) => p.id);
      const revoked: string[] = [];
      let kills = 0;
      const env = { LK_COOKIE: c.cookie ?? "", LK_CSRF: c.csrf ?? "" };
      for (let i = 0; i < KILLS; i++) {
        const run = await runChild([dataDir, String(port), topicPrefix, String(offset), personId], env);
        created.push(...run.created);
        revoked.push(...run.revoked);
        if (run.killed) kills++;
      }
      expect(kills).toBe(KILLS);
      expect(created.length).toBeGreaterThan(initial.length);
      clearInterval(driver);
      driver = null;

      // A last clean start converges.
      const logs = new LogCapture();
      hub = await buildHub({ ...config(), logDestination: logs });
      const final = hub;
      const db = final.ledger.db;
      let stuck = "";
      try {
        await eventually(
          "every credential reached its end state on both locks",
          async () => {
            const rows = await db
              .selectFrom("credential_sync")
              .innerJoin("credentials", "credentials.id", "credential_sync.credential_id")
              .select([
                "credential_sync.state as state",
                "credential_sync.reason as reason",
                "credentials.status as status",
              ])
              .where("credential_sync.person_id", "=", personId)
              .execute();
            const off = rows.filter((r) => r.state !== (r.status === "active" ? "set" : "removed"));
            stuck = JSON.stringify(off.slice(0, 5));
            return off.length === 0;
          },
          45_000,
        );
      } catch (e) {
        const lockStates = locks.map((l) => ({
          state: l.state,
          mqtt: l.device?.client.connected,
          stats: l.lock.endpoint.stats,
        }));
        throw new Error(
          `${(e as Error).message}; still off: ${stuck}; locks: ${JSON.stringify(lockStates)}\n${logs.text().slice(-3000)}`,
        );
      }
      const creds = await db
        .selectFrom("credentials")
        .select(["id", "status"])
        .where("person_id", "=", personId)
        .execute();
      const status = new Map(creds.map((r) => [r.id, r.status]));
      // Nothing the API confirmed is lost; every confirmed revocation holds.
      for (const id of created) expect(status.has(id), `credential ${id}`).toBe(true);
      for (const id of revoked) expect(status.get(id)).toBe("revoked");
      const active = creds.filter((r) => r.status === "active").length;
      expect(active).toBeGreaterThan(0);
      for (const l of locks) {
        const rows = await db
          .selectFrom("credential_sync")
          .select(["credential_index", "state"])
          .where("lock_id", "=", l.lockId)
          .execute();
        expect(rows.length).toBe(creds.length);
        const set = rows
          .filter((r) => r.state === "set")
          .map((r) => Number(r.credential_index))
          .sort((a, b) => a - b);
        const onLock = l.lock.runtime
          .credentials()
          .filter((x) => x.type === "PIN")
          .map((x) => x.index)
          .sort((a, b) => a - b);
        expect(onLock).toEqual(set);
        expect(set).toHaveLength(active);
        await untilLedgerMatchesJournal(final.ledger.ledger, l.lockId, () => l.lock.runtime, 30_000);
      }
      expect((await final.ledger.ledger.audit()).ok).toBe(true);
    } finally {
      if (driver !== null) clearInterval(driver);
      for (const l of locks) await l.stop();
      if (hub !== null) await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(lockDir, { recursive: true, force: true });
    }
  }, 120_000);
});
