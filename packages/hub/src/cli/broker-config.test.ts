/**
 * `latchkey broker-config` against the real Mosquitto binary: the command writes the files for a
 * hub's data directory, a Mosquitto started on them (an ephemeral loopback port) refuses
 * anonymous clients, holds each lock to its own topics, and carries a hub that logs in with its
 * own credentials; new locks are commissioned over it with the commissioning login and, once the
 * command has run again and Mosquitto reloaded, connect as themselves. Skipped with a message when
 * no `mosquitto` binary is installed, except under CI=true where that is a failure.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import type { LockId } from "@latchkey/protocol";
import { openDatabase, defaultSqlitePath } from "../db/database.js";
import { loadOrCreateHubSecret } from "../keys/hub-secret.js";
import { LockPasswords } from "../locks/service.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { eventually } from "../testing/sync-support.js";
import { HUB_USERNAME } from "../gateway/broker-policy.js";
import { COMMISSIONING_PASSWORD, COMMISSIONING_USERNAME, TopicScheme } from "@latchkey/lock/mqtt";
import { hubBrokerPassword, mosquittoHashMatches, run, writeMosquittoConfig } from "./broker-config.js";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";

function findMosquitto(): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"];
  for (const d of dirs) if (d !== "" && existsSync(join(d, "mosquitto"))) return join(d, "mosquitto");
  return null;
}

const MOSQUITTO = findMosquitto();
if (MOSQUITTO === null && process.env.CI !== "true")
  console.warn(
    "broker-config tests skipped: no mosquitto binary (install mosquitto; with CI=true this fails).",
  );

describe("Mosquitto binary", () => {
  it.runIf(process.env.CI === "true")("is installed (required in CI)", () => {
    expect(MOSQUITTO).not.toBeNull();
  });
});

describe("latchkey broker-config usage", () => {
  function captured(): { text: () => string; restore: () => void } {
    const lines: string[] = [];
    const push = (...a: unknown[]) => void lines.push(a.join(" "));
    const log = vi.spyOn(console, "log").mockImplementation(push);
    const error = vi.spyOn(console, "error").mockImplementation(push);
    return { text: () => lines.join("\n"), restore: () => (log.mockRestore(), error.mockRestore()) };
  }

  it("is listed with one line in `latchkey --help`", () => {
    const help = execFileSync(process.execPath, [...LATCHKEY_FROM_SOURCE, "--help"], { encoding: "utf8" });
    expect(help).toMatch(/^ {2}broker-config +Write a locked-down Mosquitto configuration/m);
  });

  it("refuses bad options (exit 2) and a folder that is no hub's data directory (exit 1), writing nothing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "latchkey-broker-config-empty-"));
    const c = captured();
    try {
      expect(await run(["--port", "99999", "--data-dir", empty])).toBe(2);
      expect(await run(["--frobnicate"])).toBe(2);
      expect(await run(["--data-dir", empty])).toBe(1);
    } finally {
      c.restore();
    }
    expect(c.text()).toMatch(/--port must be an integer 1-65535/);
    expect(c.text()).toMatch(/HUB_CONFIG_INVALID: no hub secret at/);
    expect(existsSync(join(empty, "secret.key"))).toBe(false);
    expect(existsSync(join(empty, "mosquitto"))).toBe(false);
    rmSync(empty, { recursive: true, force: true });
  });

  const passwd = MOSQUITTO === null ? null : join(MOSQUITTO, "../../bin/mosquitto_passwd");
  it.runIf(passwd !== null && existsSync(passwd))("reads hashes made by mosquitto_passwd as its own", () => {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-mosquitto-passwd-"));
    const file = join(dir, "passwords");
    execFileSync(passwd ?? "", ["-c", "-b", file, "someone", "correct horse"]);
    const hash = readFileSync(file, "utf8").trim().split(":")[1] ?? "";
    expect(hash).toMatch(/^\$7\$/);
    expect(mosquittoHashMatches(hash, "correct horse")).toBe(true);
    expect(mosquittoHashMatches(hash, "correct horse!")).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Connects; resolves with the client, or with the refusal's CONNACK code. */
async function login(
  port: number,
  o: { username?: string; password?: string; clientId?: string },
): Promise<MqttClient | { refused: number | string }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    ...o,
    clientId: o.clientId ?? `probe-${randomBytes(6).toString("hex")}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  return new Promise((resolve) => {
    client.once("connect", () => resolve(client));
    client.once("error", (e) => {
      client.end(true);
      resolve({ refused: (e as { code?: number | string }).code ?? e.message });
    });
  });
}

function isClient(c: MqttClient | { refused: number | string }): c is MqttClient {
  return !("refused" in c);
}

describe.runIf(MOSQUITTO !== null)("latchkey broker-config with a real Mosquitto", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "latchkey-broker-config-"));
  const outDir = join(dataDir, "mosquitto");
  const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
  const scheme = new TopicScheme(topicPrefix);
  const clients: MqttClient[] = [];
  const locks: SimLock[] = [];
  let port = 0;
  let broker: ChildProcess | null = null;
  let brokerLog = "";
  let cliOutput = "";
  let hubPassword = "";
  let t: TestHub;
  let owner: SignedIn;
  let siteId = "";

  async function client(o: Parameters<typeof login>[1]): Promise<MqttClient> {
    const c = await login(port, o);
    if (!isClient(c)) throw new Error(`login refused (${String(c.refused)}); broker log:\n${brokerLog}`);
    clients.push(c);
    return c;
  }

  /**
   * The command again, through its function (the running hub holds the SQLite file), as an
   * owner would after a lock joins or leaves.
   */
  function rewriteConfig(): ReturnType<typeof writeMosquittoConfig> {
    return writeMosquittoConfig({
      db: t.hub.ledger.db,
      hubNoiseSecret: loadOrCreateHubSecret(dataDir).noiseStaticSecret(),
      outDir,
      host: "127.0.0.1",
      port,
      topicPrefix,
    });
  }

  /** Messages a client receives, in order. */
  function inbox(c: MqttClient): { topic: string; payload: string }[] {
    const got: { topic: string; payload: string }[] = [];
    c.on("message", (topic, payload) => got.push({ topic, payload: payload.toString() }));
    return got;
  }

  async function commission(doorName: string): Promise<{ lock: SimLock; doorId: string }> {
    const door = (await owner.client.post(`/api/v1/sites/${siteId}/doors`, { name: doorName })).json<{
      id: string;
    }>().id;
    const dir = join(dataDir, `lock-${locks.length}`);
    const lock = await SimLock.start({
      dir,
      url: `mqtt://127.0.0.1:${port}`,
      topicPrefix,
      announceEveryMs: 200,
      clockTickMs: 0,
      maxRetryMs: 300,
      commissioning: { pbkdf2Iterations: 1000 },
    });
    locks.push(lock);
    await eventually("the lock is listed as waiting, over Mosquitto", async () => {
      const r = await owner.client.get(`/api/v1/sites/${siteId}/commissioning`);
      return r.json<{ items: { lockId: string }[] }>().items.some((w) => w.lockId === lock.lockId);
    });
    await stepUp(t, owner);
    const r = await owner.client.post(`/api/v1/doors/${door}/lock`, {
      setupCode: lock.setupCode,
      lockId: lock.lockId,
    });
    expect(r.statusCode, r.body).toBe(201);
    // The new lock's login reaches Mosquitto: the command again (here through its function, as
    // the running hub holds the SQLite file), then a reload.
    await rewriteConfig();
    broker?.kill("SIGHUP");
    await eventually("the lock connects to Mosquitto as itself", () => lock.state === "connected");
    return { lock, doorId: door };
  }

  beforeAll(async () => {
    // A hub's data directory as `latchkey start` leaves it: the secret and a migrated database.
    const secret = loadOrCreateHubSecret(dataDir);
    await (await openDatabase({ url: defaultSqlitePath(dataDir) })).close();
    hubPassword = hubBrokerPassword(secret.noiseStaticSecret());
    port = await freePort();
    const out: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    try {
      const code = await run(["--data-dir", dataDir, "--port", String(port), "--topic-prefix", topicPrefix]);
      expect(code).toBe(0);
    } finally {
      log.mockRestore();
    }
    cliOutput = out.join("\n");
    // Run as root, Mosquitto would switch to its own user, who cannot read these 0600 files; the
    // generated file is used as the include_dir fragment it is meant to be.
    const wrapper = join(dataDir, "wrapper.conf");
    writeFileSync(wrapper, `${process.getuid?.() === 0 ? "user root\n" : ""}include_dir ${outDir}\n`);
    broker = spawn(MOSQUITTO ?? "mosquitto", ["-c", wrapper], { stdio: ["ignore", "pipe", "pipe"] });
    broker.stdout?.on("data", (d: Buffer) => (brokerLog += d.toString()));
    broker.stderr?.on("data", (d: Buffer) => (brokerLog += d.toString()));
    await eventually("Mosquitto accepts connections", () => accepting(port), 10_000);

    t = await startTestHub("sqlite", {
      dataDir,
      topicPrefix,
      broker: `mqtt://${HUB_USERNAME}:${hubPassword}@127.0.0.1:${port}`,
    });
    owner = await createOwner(t);
    siteId = (await owner.client.post("/api/v1/sites", { name: "Office", timezone: "Europe/Paris" })).json<{
      id: string;
    }>().id;
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    for (const l of locks) await l.stop();
    await t?.close();
    if (broker !== null && broker.exitCode === null) {
      const exited = new Promise((resolve) => broker?.once("exit", resolve));
      broker.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("writes a private folder of 0600 files in Mosquitto 2's hash format and prints no password", () => {
    expect(statSync(outDir).mode & 0o777).toBe(0o700);
    for (const f of ["mosquitto.conf", "passwords", "acl", "hub.env"])
      expect(statSync(join(outDir, f)).mode & 0o777).toBe(0o600);
    const conf = readFileSync(join(outDir, "mosquitto.conf"), "utf8");
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(new RegExp(`^listener ${port} 127\\.0\\.0\\.1$`, "m"));
    const passwords = readFileSync(join(outDir, "passwords"), "utf8").trim().split("\n");
    const hubLine = passwords.find((l) => l.startsWith(`${HUB_USERNAME}:`)) ?? "";
    expect(hubLine).toMatch(/^latchkey-hub:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(mosquittoHashMatches(hubLine.slice(HUB_USERNAME.length + 1), hubPassword)).toBe(true);
    expect(cliOutput).toMatch(/Wrote .*mosquitto\.conf for 0 locks/);
    expect(cliOutput).not.toContain(hubPassword);
    expect(readFileSync(join(outDir, "hub.env"), "utf8")).toContain(`LATCHKEY_BROKER=mqtt://latchkey-hub:`);
  });

  it("refuses anonymous clients and wrong passwords at CONNACK", async () => {
    expect(await login(port, {})).toEqual({ refused: 5 });
    expect(await login(port, { username: HUB_USERNAME, password: "not-the-password" })).toEqual({
      refused: 5,
    });
    expect(await login(port, { username: COMMISSIONING_USERNAME })).toEqual({ refused: 5 });
  });

  it("carries the hub with its own login; locks are commissioned over it and then connect as themselves", async () => {
    expect(t.hub.gateway.mode).toBe("external");
    const { doorId } = await commission("Front door");
    // The hub's own Noise session with the lock runs over the locked-down broker.
    await eventually("the lock is online with its state read", async () => {
      const v = (await owner.client.get(`/api/v1/doors/${doorId}/lock`)).json<{
        online: boolean;
        condition: unknown;
      }>();
      return v.online && v.condition !== null;
    });
  });

  it("holds a lock to its own topics: it cannot read or write another lock's", async () => {
    const lock = locks[0] ?? (await commission("Back door")).lock;
    const passwords = await LockPasswords.load(
      t.hub.ledger.db,
      loadOrCreateHubSecret(dataDir).noiseStaticSecret(),
    );
    const other = randomBytes(16).toString("hex") as LockId;
    const asLock = await client({ username: lock.lockId, password: passwords.password(lock.lockId) });
    const asHub = await client({
      username: HUB_USERNAME,
      password: hubPassword,
      clientId: `latchkey-hub-probe${randomBytes(4).toString("hex")}`,
    });
    const lockGot = inbox(asLock);
    const hubGot = inbox(asHub);
    await asLock.subscribeAsync(scheme.lockDown(lock.lockId), { qos: 1 });
    await asLock.subscribeAsync(scheme.lockDown(other), { qos: 1 });
    await asHub.subscribeAsync(`${topicPrefix}/lock/+/up`, { qos: 1 });

    // Hub → another lock, then hub → this lock: only the second may arrive.
    await asHub.publishAsync(scheme.lockDown(other), "for the other lock", { qos: 1 });
    await asHub.publishAsync(scheme.lockDown(lock.lockId), "for this lock", { qos: 1 });
    await eventually("the lock's own message arrives", () =>
      lockGot.some((m) => m.payload === "for this lock"),
    );
    expect(lockGot.map((m) => m.payload)).not.toContain("for the other lock");

    // This lock writing as another, then as itself: the hub hears only the second.
    await asLock.publishAsync(scheme.lockUp(other), "forged", { qos: 1 });
    await asLock.publishAsync(scheme.lockUp(lock.lockId), "genuine", { qos: 1 });
    await eventually("the genuine message reaches the hub", () =>
      hubGot.some((m) => m.payload === "genuine"),
    );
    expect(hubGot.map((m) => m.payload)).not.toContain("forged");

    // The commissioning login, public as its password is, reaches only its own session.
    const sessionId = `c${randomBytes(16).toString("hex")}`;
    const asNewLock = await client({
      username: COMMISSIONING_USERNAME,
      password: COMMISSIONING_PASSWORD,
      clientId: sessionId,
    });
    await asNewLock.publishAsync(scheme.lockDown(lock.lockId), "impersonating the hub", { qos: 1 });
    await asHub.publishAsync(scheme.lockDown(lock.lockId), "after", { qos: 1 });
    await eventually("the hub's next message arrives", () => lockGot.some((m) => m.payload === "after"));
    expect(lockGot.map((m) => m.payload)).not.toContain("impersonating the hub");
  });

  it("running the command again keeps unchanged logins and drops a removed lock", async () => {
    const lock = locks[0];
    if (lock === undefined) throw new Error("no lock was commissioned");
    const before = readFileSync(join(outDir, "passwords"), "utf8");
    const again = await rewriteConfig();
    expect(again.changed).toBe(0);
    expect(readFileSync(join(outDir, "passwords"), "utf8")).toBe(before);
    await t.hub.locks.remove(lock.lockId);
    await rewriteConfig();
    expect(readFileSync(join(outDir, "passwords"), "utf8")).not.toContain(`${lock.lockId}:`);
    expect(readFileSync(join(outDir, "acl"), "utf8")).not.toContain(lock.lockId);
  });
});
