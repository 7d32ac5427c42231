/**
 * Hub ↔ locks sync at fleet scale (issue acceptance). The hub runs in this process (SQLite,
 * durable; its embedded broker's raw MQTT TCP listener on 127.0.0.1, port 0; the production sync
 * policy); the virtual locks run in a child process (sync-fleet.ts: `startFleet`, as
 * `latchkey sim` runs it; up to 5,000 locks per process, since each lock holds a socket and its
 * journal file open), so the hub's time and memory hold no lock. Locks are powered on in waves of
 * 500 and commissioned through `LockService.commission` (the same path as
 * POST /api/v1/doors/:doorId/lock, minus the HTTP step-up), 16 at a time. The hub's warnings go to
 * a file whose most frequent messages are printed at the end.
 *
 *  - Revocation propagation: one person, one PIN granted on every door of the site (N locks, one
 *    per door); revoke it (POST /api/v1/credentials/:id/revoke) and time until all N
 *    credential_sync rows are `removed` (each lock has acknowledged the ClearCredential). Median
 *    and p99 over repetitions (a new PIN each time, set everywhere first), against the same
 *    revocation reaching one lock (a second person granted on one door) in the same run; plus the
 *    per-lock acknowledgement latency distribution within one revocation.
 *  - End-to-end ingestion: every lock signs K events (door opened / closed); they travel as
 *    pushes over MQTT, the hub's agents pull them (EventBatch), verify, append to the ledger and
 *    acknowledge. events/s against node:crypto Ed25519 verify of the same records, same run.
 *  - Hub resident memory with N and with M connected locks: (RSS − idle RSS) per lock, after GC.
 *  - The same per lock from the JS heap after GC: at a few hundred locks (`--quick`) RSS moves with
 *    the allocator by more than the locks hold, the heap does not.
 *
 * `--quick`: revocation and ingestion on 50 locks, memory at 50 and 75; full: 1,000 and 10,000.
 * Loopback only.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ownerSession } from "./owner-session.js";
import {
  fromHex,
  LedgerLeafKind,
  lockEventSigningInput,
  EVENT_SIGNATURE_BYTES,
  toHex,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { rateRounds, summarize, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { buildHub, type Hub } from "../src/server/app.js";
import { parseConfig, type HubConfig } from "../src/config/config.js";

const ORIGIN = "http://bench.local:8080";
/** Locks powered on (waiting in the hub's lobby) at once: a wave is commissioned well inside a lock's 15-minute window. */
const WAVE = 500;
/**
 * Locks per simulator process: each holds an MQTT socket and its open journal, and a process may
 * hold 20,000 descriptors on this machine (`ulimit -n`). A multiple of WAVE.
 */
const LOCKS_PER_PROCESS = Number(process.env.BENCH_SYNC_PER_PROCESS ?? 5000);
/** Commissioning exchanges in flight at once. */
const COMMISSION_CONCURRENCY = 16;
/** The lowest PBKDF2 cost a lock accepts (the default, 20,000, costs the hub ~0.3 s per lock). */
const PBKDF2_ITERATIONS = 1000;

setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` every `everyMs`: 10 ms where the wait is what is timed; slower elsewhere, since a
 * check that counts rows over 10,000 locks every 10 ms would itself load the hub being measured.
 */
async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 10,
) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`bench: timed out waiting until ${what}`);
    await sleep(everyMs);
  }
}

async function settledRss(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** Where the run is, so the hub's warnings can be told apart by phase. */
const phases: { name: string; at: number }[] = [];
function phase(name: string): void {
  phases.push({ name, at: Date.now() });
}

/** The hub's most frequent warning and error messages in each phase of the run, with counts. */
function commonWarnings(path: string): string[] {
  const counts = new Map<string, number>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "") continue;
    let key: string;
    try {
      const entry = JSON.parse(line) as {
        level?: number;
        time?: number;
        msg?: string;
        err?: { message?: string } | string;
        reason?: string;
      };
      if ((entry.level ?? 40) < 40) continue; // pino: 40 = warn
      const why = typeof entry.err === "string" ? entry.err : (entry.err?.message ?? entry.reason ?? "");
      const during = phases.findLast((p) => p.at <= (entry.time ?? 0))?.name ?? "start";
      key = `${during}: ${entry.msg ?? "?"}${why === "" ? "" : ` (${why.slice(0, 80)})`}`;
    } catch {
      key = line.slice(0, 100);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size === 0) return ["hub: no warnings"];
  return [
    "hub warnings (most frequent, by phase):",
    ...[...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([key, n]) => `  ${n} × ${key}`),
  ];
}

// ------------------------------------------------------------------ the lock process

type Reply = { op: string; [k: string]: unknown };

class FleetProcess {
  readonly #child: ChildProcess;
  readonly #replies: Reply[] = [];
  #wake: (() => void) | null = null;
  #exit: Error | null = null;

  constructor(brokerUrl: string, dir: string) {
    this.#child = fork(
      fileURLToPath(new URL("./sync-fleet.ts", import.meta.url)),
      [brokerUrl, dir, String(PBKDF2_ITERATIONS)],
      {
        execArgv: ["--import", "tsx", "--expose-gc", "--max-old-space-size=8192"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      },
    );
    this.#child.on("message", (m: Reply) => {
      this.#replies.push(m);
      this.#wake?.();
    });
    this.#child.on("exit", (code) => {
      this.#exit = new Error(`the lock process exited (${code})`);
      this.#wake?.();
    });
  }

  async reply(op: string): Promise<Reply> {
    for (;;) {
      const i = this.#replies.findIndex((r) => r.op === op || r.op === "error");
      if (i >= 0) {
        const [r] = this.#replies.splice(i, 1);
        if (r?.op === "error") throw new Error(`lock process: ${String(r.message)}`);
        return r as Reply;
      }
      if (this.#exit !== null) throw this.#exit;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
  }

  async ask(message: Record<string, unknown> & { op: string }): Promise<Reply> {
    this.#child.send(message);
    return this.reply(message.op);
  }

  async stop(): Promise<void> {
    if (this.#exit !== null) return;
    const exited = new Promise((r) => this.#child.once("exit", r));
    this.#child.send({ op: "stop" });
    // The deadline's timer is cleared once the child exits: left pending, it kept the bench
    // process alive for up to a minute after the last suite.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 60_000)))]);
    clearTimeout(timer);
    if (this.#exit === null) this.#child.kill("SIGKILL");
  }
}

/** The simulator processes: a new one whenever the last holds LOCKS_PER_PROCESS locks. */
class Fleet {
  readonly #processes: { process: FleetProcess; started: number; commissioned: number }[] = [];

  constructor(
    readonly brokerUrl: string,
    readonly dir: string,
  ) {}

  /** Powers on `count` (≤ WAVE) more locks; they wait to be commissioned. */
  async wave(count: number): Promise<{ lockId: string; setupCode: string }[]> {
    let last = this.#processes.at(-1);
    if (last === undefined || last.started + count > LOCKS_PER_PROCESS) {
      const process = new FleetProcess(
        this.brokerUrl,
        join(this.dir, `process-${this.#processes.length + 1}`),
      );
      await process.reply("ready");
      last = { process, started: 0, commissioned: 0 };
      this.#processes.push(last);
    }
    last.started += count;
    return (await last.process.ask({ op: "wave", count })).locks as { lockId: string; setupCode: string }[];
  }

  /** Waits until the last wave's `commissioned` locks are online as themselves. */
  async connected(commissioned: number): Promise<void> {
    const last = this.#processes.at(-1);
    if (last === undefined) return;
    last.commissioned += commissioned;
    await last.process.ask({ op: "connected", count: last.commissioned });
  }

  /** Every commissioned lock signs `perLock` events; the slowest process's time (ms). */
  async events(perLock: number): Promise<number> {
    const ms = await Promise.all(this.#processes.map((p) => p.process.ask({ op: "events", perLock })));
    return Math.max(...ms.map((r) => Number(r.ms)));
  }

  /** The simulator processes' resident memory together (bytes). */
  async rss(): Promise<number> {
    const all = await Promise.all(this.#processes.map((p) => p.process.ask({ op: "rss" })));
    return all.reduce((n, r) => n + Number(r.rss), 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#processes.map((p) => p.process.stop()));
  }
}

// ------------------------------------------------------------------ the hub

interface Session {
  call(method: "GET" | "POST", url: string, payload?: unknown): Promise<{ status: number; body: string }>;
}

async function ownerApi(hub: Hub): Promise<Session> {
  const { cookie, csrf } = await ownerSession(hub);
  return {
    async call(method, url, payload) {
      const r = await hub.app.inject({
        method,
        url,
        headers: { cookie, "x-csrf-token": csrf },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      return { status: r.statusCode, body: r.body };
    },
  };
}

async function post<T>(s: Session, url: string, payload?: unknown, status = 201): Promise<T> {
  const r = await s.call("POST", url, payload);
  if (r.status !== status) throw new Error(`bench: POST ${url} → ${r.status} ${r.body}`);
  return JSON.parse(r.body) as T;
}

class Bench {
  readonly doors: string[] = [];
  readonly lockIds: string[] = [];
  /** Locks given up during commissioning (not connected, not counted). */
  skipped = 0;
  commissionMs = 0;

  constructor(
    readonly hub: Hub,
    readonly s: Session,
    readonly fleet: Fleet,
    readonly siteId: string,
    readonly log: (line: string) => void,
  ) {}

  get db() {
    return this.hub.locks.opts.db;
  }

  /** Powers on `count` more locks (in waves), commissions each onto a new door, waits until synced. */
  async addLocks(count: number): Promise<void> {
    const t0 = performance.now();
    let left = count;
    while (left > 0) {
      const n = Math.min(WAVE, left);
      left -= n;
      const doors: string[] = [];
      for (let i = 0; i < n; i++) {
        const d = await post<{ id: string }>(this.s, `/api/v1/sites/${this.siteId}/doors`, {
          name: `Door ${this.doors.length + doors.length + 1}`,
        });
        doors.push(d.id);
      }
      const tw = performance.now();
      const wave = await this.fleet.wave(n);
      const tc = performance.now();
      const given = await this.#commission(wave, doors);
      const tk = performance.now();
      this.doors.push(...doors);
      this.lockIds.push(...wave.filter((w) => !given.has(w.lockId)).map((w) => w.lockId));
      this.skipped += given.size;
      const total = this.lockIds.length;
      await this.fleet.connected(n - given.size);
      await waitFor(
        `${total} locks have reported their state to the hub`,
        async () => {
          const r = await this.db
            .selectFrom("locks")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("state_json", "is not", null)
            .executeTakeFirstOrThrow();
          return Number(r.n) >= total;
        },
        10 * 60_000,
        250,
      );
      this.log(
        `${total} locks commissioned and synced (${((performance.now() - t0) / 1000).toFixed(1)} s so far; doors ${((tw - t0) / 1000).toFixed(1)} s, power-on ${((tc - tw) / 1000).toFixed(1)} s, commissioning ${((tk - tc) / 1000).toFixed(1)} s, connected+synced ${((performance.now() - tk) / 1000).toFixed(1)} s)`,
      );
    }
    this.commissionMs += performance.now() - t0;
  }

  /**
   * Commissions a wave, 16 at a time; a failed one is retried once the lock announces itself
   * again. A lock that does not within 2 minutes is given up (and named): the run goes on with
   * the others, and the figures say how many locks they cover. Returns the ids given up.
   */
  async #commission(wave: { lockId: string; setupCode: string }[], doors: string[]): Promise<Set<string>> {
    const lobby = this.hub.locks;
    await waitFor(
      `${wave.length} locks wait in the hub's lobby`,
      async () => {
        const seen = new Set((await lobby.waiting()).map((w) => w.lockId));
        return wave.every((w) => seen.has(w.lockId));
      },
      5 * 60_000,
      100,
    );
    const given = new Set<string>();
    const queue = wave.map((w, i) => ({ ...w, doorId: doors[i] ?? "", tries: 0 }));
    const worker = async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        try {
          await lobby.commission({ doorId: job.doorId, setupCode: job.setupCode, lockId: job.lockId });
        } catch (e) {
          const lockId = job.lockId;
          this.log(`commissioning ${lockId} failed (${(e as Error).message}); try ${job.tries + 1}`);
          try {
            if (++job.tries >= 5) throw e;
            await waitFor(
              "the lock announces itself again",
              async () => (await lobby.waiting()).some((w) => w.lockId === lockId),
              2 * 60_000,
              100,
            );
            queue.push(job);
          } catch {
            this.log(`gave up on lock ${lockId}: it no longer waits to be commissioned`);
            given.add(lockId);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: COMMISSION_CONCURRENCY }, worker));
    return given;
  }

  async countSync(credentialId: string, state: string): Promise<number> {
    const r = await this.db
      .selectFrom("credential_sync")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("credential_id", "=", credentialId)
      .where("state", "=", state)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** A new PIN for `personId`, set on all `locks` of its grants; returns its id. */
  async newPin(personId: string, locks: number): Promise<string> {
    const c = await post<{ credential: { id: string } }>(this.s, `/api/v1/people/${personId}/credentials`, {
      kind: "pin",
    });
    const id = c.credential.id;
    await waitFor(
      `the PIN is set on ${locks} locks`,
      async () => (await this.countSync(id, "set")) === locks,
      10 * 60_000,
    );
    return id;
  }

  /**
   * Revokes the credential; the time (ms) until every lock that held it has acknowledged its
   * removal, and each of those locks' acknowledgement (ms after the request). A site's other locks
   * have rows too (desired 0), which never held it.
   */
  async revoke(credentialId: string, locks: number): Promise<{ all: number; perLock: number[] }> {
    const held = new Set(
      (
        await this.db
          .selectFrom("credential_sync")
          .select("lock_id")
          .where("credential_id", "=", credentialId)
          .where("state", "=", "set")
          .execute()
      ).map((r) => r.lock_id),
    );
    if (held.size !== locks)
      throw new Error(`bench: the credential is set on ${held.size} locks, not ${locks}`);
    const t0 = Date.now();
    await post(this.s, `/api/v1/credentials/${credentialId}/revoke`, undefined, 200);
    const open = async () => {
      const r = await this.db
        .selectFrom("credential_sync")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("credential_id", "=", credentialId)
        .where("state", "in", ["set", "sending", "pending", "failed", "removing"])
        .executeTakeFirstOrThrow();
      return Number(r.n);
    };
    await waitFor(
      `the revocation reaches ${locks} locks`,
      async () => (await open()) === 0,
      Math.max(60_000, locks * 200),
    );
    const rows = await this.db
      .selectFrom("credential_sync")
      .select(["lock_id", "updated_at"])
      .where("credential_id", "=", credentialId)
      .execute();
    const perLock = rows.filter((r) => held.has(r.lock_id)).map((r) => Number(r.updated_at) - t0);
    return { all: Math.max(...perLock), perLock };
  }

  /** Events ingested so far, over all locks (the sum of their cursors). */
  async ingested(): Promise<number> {
    const r = await this.db
      .selectFrom("locks")
      .select((eb) => eb.fn.sum<number>("cursor_seq").as("n"))
      .executeTakeFirstOrThrow();
    return Number(r.n ?? 0);
  }
}

const suite: BenchSuite = {
  name: "hub ↔ locks sync over MQTT (locks in a child process)",
  async run(ctx) {
    // --quick keeps every figure but on a fleet a minute's budget allows: revocation and
    // ingestion on 50 locks, memory at 50 and 75 (commissioning is most of the suite's time).
    const small = Number(process.env.BENCH_SYNC_SMALL ?? (ctx.quick ? 50 : 1000));
    const large = Number(process.env.BENCH_SYNC_LARGE ?? (ctx.quick ? 75 : 10_000));
    const reps = ctx.quick ? 2 : 7;
    const eventsPerLock = ctx.quick ? 20 : 20;
    const results: BenchResult[] = [];

    // BENCH_SYNC_HUB_LOG=<file> keeps the hub's whole log (debug level) there, to follow one lock.
    const keepLog = process.env.BENCH_SYNC_HUB_LOG;
    const hubLogPath = keepLog ?? join(ctx.tmpDir, "hub-warnings.log");
    const hubLog = createWriteStream(hubLogPath);
    const config: HubConfig = {
      ...parseConfig([], {}),
      dataDir: mkdtempSync(join(ctx.tmpDir, "hub-")),
      publicUrl: ORIGIN,
      logLevel: keepLog === undefined ? "warn" : "debug",
      logDestination: hubLog,
      host: "127.0.0.1",
      mqttPort: 0,
      commissioningClients: WAVE + 100,
      // Every simulated lock connects from this machine.
      commissioningClientsPerSource: WAVE + 100,
    };
    const hub = await buildHub(config);
    const fleet = new Fleet(`mqtt://127.0.0.1:${hub.gateway.broker?.port ?? 0}`, join(ctx.tmpDir, "fleet"));
    try {
      const s = await ownerApi(hub);
      const site = await post<{ id: string }>(s, "/api/v1/sites", {
        name: "Bench",
        timezone: "Europe/Paris",
      });
      const b = new Bench(hub, s, fleet, site.id, (line) => ctx.log(line));
      const idle = await settledRss();
      ctx.log(
        `hub idle: RSS ${(idle.rss / 2 ** 20).toFixed(1)} MiB, heap ${(idle.heap / 2 ** 20).toFixed(1)} MiB`,
      );

      // ---------------------------------------------------------- N locks
      phase(`commissioning ${small} locks`);
      await b.addLocks(small);
      ctx.log(
        `commissioning: ${((small * 1000) / b.commissionMs).toFixed(1)} locks/s (PBKDF2 ${PBKDF2_ITERATIONS} iterations, ${COMMISSION_CONCURRENCY} in flight)`,
      );
      await sleep(ctx.quick ? 300 : 1000);
      const memSmall = await settledRss();
      const connectedSmall = b.lockIds.length;
      ctx.log(
        `${connectedSmall} connected: hub RSS ${(memSmall.rss / 2 ** 20).toFixed(1)} MiB, ${((memSmall.rss - idle.rss) / connectedSmall / 1024).toFixed(1)} KiB/lock`,
      );
      const lockRssSmall = await fleet.rss();

      // ---------------------------------------------------------- revocation
      phase("revocation");
      const everyone = await post<{ id: string }>(s, `/api/v1/sites/${site.id}/people`, {
        name: "Everywhere",
      });
      for (let i = 0; i < b.doors.length; i += 100) {
        await post(s, `/api/v1/people/${everyone.id}/grants`, {
          doorIds: b.doors.slice(i, i + 100),
          category: "other",
          schedule: { kind: "always" },
        });
      }
      const single = await post<{ id: string }>(s, `/api/v1/sites/${site.id}/people`, { name: "One door" });
      await post(s, `/api/v1/people/${single.id}/grants`, {
        doorIds: [b.doors[0]],
        category: "other",
        schedule: { kind: "always" },
      });
      const allTimes: number[] = [];
      const oneTimes: number[] = [];
      const setTimes: number[] = [];
      let perLock: number[] = [];
      for (let r = 0; r < reps; r++) {
        const one = await b.newPin(single.id, 1);
        oneTimes.push((await b.revoke(one, 1)).all);
        const tSet = performance.now();
        const cred = await b.newPin(everyone.id, small);
        setTimes.push(performance.now() - tSet);
        const rev = await b.revoke(cred, small);
        allTimes.push(rev.all);
        perLock = rev.perLock;
        ctx.log(
          `rep ${r + 1}: set everywhere in ${(setTimes.at(-1) ?? 0).toFixed(0)} ms; revoked from ${small} locks in ${rev.all} ms (1 lock: ${oneTimes.at(-1)} ms)`,
        );
      }
      const all = summarize(allTimes);
      const one = summarize(oneTimes);
      const ack = summarize(perLock);
      const oneRef = { name: "same revocation reaching 1 lock", median: one.median, unit: "ms" };
      results.push(
        {
          name: `revocation propagation to all ${small} locks, time to last ack (${reps} reps; ratio = ${small} locks / 1 lock)`,
          unit: "ms",
          median: all.median,
          p99: all.p99,
          reference: oneRef,
          ratio: all.median / one.median,
        },
        {
          name: `per-lock revocation ack latency within one revocation (${small} locks; ratio = per-lock / 1 lock)`,
          unit: "ms",
          median: ack.median,
          p99: ack.p99,
          reference: oneRef,
          ratio: ack.median / one.median,
        },
      );
      const set = summarize(setTimes);
      ctx.log(
        `new PIN set on all ${small} locks: median ${set.median.toFixed(0)} ms, p99 ${set.p99.toFixed(0)} ms`,
      );

      // ---------------------------------------------------------- ingestion over MQTT
      phase("ingestion");
      const ledger = hub.ledger.ledger;
      const ledgerBefore = await ledger.size();
      const before = await b.ingested();
      const expected = small * eventsPerLock;
      const tIngest = performance.now();
      const gen = await fleet.events(eventsPerLock);
      await waitFor(
        `${expected} lock events reach the ledger`,
        async () => (await b.ingested()) - before >= expected,
        10 * 60_000,
      );
      const ingestMs = performance.now() - tIngest;
      const rate = (expected * 1000) / ingestMs;
      // Reference: node:crypto Ed25519 verify of the same records, same run.
      const entries = await ledger.entries(ledgerBefore, Math.min(await ledger.size(), ledgerBefore + 2000));
      const keys = new Map(
        (await b.db.selectFrom("locks").select(["id", "signing_public_key"]).execute()).map((l) => [
          l.id,
          fromHex(l.signing_public_key),
        ]),
      );
      const checks: { key: Uint8Array; input: Uint8Array; sig: Uint8Array }[] = [];
      for (const e of entries) {
        if (e.leaf.kind !== LedgerLeafKind.LockEvent) continue;
        const rec = e.leaf.record;
        const split = rec.length - EVENT_SIGNATURE_BYTES;
        const key = keys.get(toHex(e.leaf.lockId));
        if (key === undefined) continue;
        checks.push({ key, input: lockEventSigningInput(rec.subarray(0, split)), sig: rec.subarray(split) });
      }
      let k = 0;
      const verifyRates = rateRounds(
        () => {
          const c = checks[k++ % checks.length];
          if (c === undefined || !nodeEd25519.verify(c.key, c.input, c.sig)) throw new Error("verify failed");
        },
        1,
        ctx.quick ? 5 : 9,
        ctx.quick ? 150 : 400,
      );
      const verify = summarize(verifyRates).median;
      ctx.log(
        `ingestion: ${expected} events from ${small} locks in ${ingestMs.toFixed(0)} ms (locks signed them in ${gen.toFixed(0)} ms); verify ${Math.round(verify)}/s over ${checks.length} records`,
      );
      results.push({
        name: `signed lock events end to end over MQTT (push → pull → verify → ledger → ack), ${small} locks × ${eventsPerLock} (ratio = hub / verify)`,
        unit: "events/s",
        median: rate,
        p99: null,
        reference: { name: "node:crypto Ed25519 verify, same records", median: verify, unit: "verifies/s" },
        ratio: rate / verify,
      });

      // ---------------------------------------------------------- M locks
      phase(`commissioning up to ${large} locks`);
      await b.addLocks(large - small);
      ctx.log(`commissioning overall: ${((large * 1000) / b.commissionMs).toFixed(1)} locks/s`);
      await sleep(ctx.quick ? 300 : 1000);
      const memLarge = await settledRss();
      const connectedLarge = b.lockIds.length;
      if (b.skipped > 0)
        ctx.log(`${b.skipped} locks were given up during commissioning; figures cover the connected ones`);
      const lockRssLarge = await fleet.rss();
      const idleRef = { name: "hub idle RSS", median: idle.rss / 2 ** 20, unit: "MiB" };
      const idleHeapRef = { name: "hub idle heap", median: idle.heap / 2 ** 20, unit: "MiB" };
      for (const [n, m, lockRss] of [
        [connectedSmall, memSmall, lockRssSmall],
        [connectedLarge, memLarge, lockRssLarge],
      ] as const) {
        const perLockKiB = (m.rss - idle.rss) / n / 1024;
        ctx.log(
          `${n} connected: hub RSS ${(m.rss / 2 ** 20).toFixed(1)} MiB (heap ${(m.heap / 2 ** 20).toFixed(1)} MiB), ${perLockKiB.toFixed(1)} KiB/lock; lock process RSS ${(lockRss / 2 ** 20).toFixed(0)} MiB`,
        );
        // The heap after GC moves by what the locks hold and little else; RSS also moves with the
        // allocator by tens of MiB, which at a few hundred locks is more than the locks' share.
        const heapPerLockKiB = (m.heap - idle.heap) / n / 1024;
        results.push(
          {
            name: `hub RSS per connected lock, (RSS − idle) / ${n} (ratio = RSS with ${n} locks / idle RSS)`,
            unit: "KiB",
            median: perLockKiB,
            p99: null,
            reference: idleRef,
            ratio: m.rss / idle.rss,
          },
          {
            name: `hub JS heap per connected lock, after GC, (heap − idle) / ${n} (ratio = heap with ${n} locks / idle heap)`,
            unit: "KiB",
            median: heapPerLockKiB,
            p99: null,
            reference: idleHeapRef,
            ratio: m.heap / idle.heap,
          },
        );
      }
    } finally {
      await fleet.stop();
      await hub.close();
      await new Promise((resolve) => hubLog.end(resolve));
      for (const line of commonWarnings(hubLogPath)) ctx.log(line);
    }
    return results;
  },
};

export default suite;
