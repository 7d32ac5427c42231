/**
 * Hub footprint: idle RSS and cold start (spawn until /healthz answers 200) of the compiled hub
 * as installed (`node packages/hub/bin/latchkey.js start`: the esbuild bundle of dist/), next to a
 * bare fastify process with one route measured in the same run; the full run adds tsc's output
 * unbundled and the hub run from its sources through tsx (the "befores").
 * Goals: idle RSS < 100 MiB, cold start < 500 ms. Each run reuses a data directory made by a
 * first, unmeasured start, so cold start is a restart's, not first-run set-up's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { BenchResult, BenchSuite } from "./harness.js";
import { summarize } from "./harness.js";
import { HUB_BIN, REPO_ROOT, ensureBuilt, productionEnv } from "../packages/hub/src/packaging/test-build.js";

const MiB = 2 ** 20;
/** How long a process sits idle after answering before its RSS is read. */
const SETTLE_MS = { quick: 1_000, full: 3_000 };

interface Sample {
  readonly coldStartMs: number;
  readonly idleRssMiB: number;
}

interface Subject {
  readonly name: string;
  /** Node arguments, given the port to listen on and a data directory. */
  readonly args: (port: number, dataDir: string) => string[];
}

const BARE_FASTIFY = `
import Fastify from "fastify";
const app = Fastify({ logger: false });
app.get("/healthz", async () => ({ status: "ok" }));
await app.listen({ host: "127.0.0.1", port: Number(process.argv[1]) });
`;

/** `latchkey start` run from `entry` (a CLI script), logging warnings only. */
function hubArgs(entry: string): Subject["args"] {
  return (port, dataDir) => [
    entry,
    "start",
    "--port",
    String(port),
    "--data-dir",
    dataDir,
    "--log-level",
    "warn",
  ];
}

const SUBJECTS: Record<"fastify" | "compiled" | "unbundled" | "tsx", Subject> = {
  fastify: {
    name: "bare fastify",
    args: (port) => ["--input-type=module", "-e", BARE_FASTIFY, String(port)],
  },
  compiled: { name: "hub, compiled", args: hubArgs(HUB_BIN) },
  unbundled: {
    name: "hub, tsc output unbundled",
    args: hubArgs(join(REPO_ROOT, "packages/hub/dist/cli/main.js")),
  },
  tsx: {
    name: "hub, sources through tsx",
    args: (port, dataDir) => [
      "--conditions=@latchkey/source",
      "--import",
      "tsx",
      ...hubArgs(join(REPO_ROOT, "packages/hub/src/cli/main.ts"))(port, dataDir),
    ],
  },
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function rssMiB(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(status, "utf8"))?.[1];
    if (kb !== undefined) return (Number(kb) * 1024) / MiB;
  }
  return (
    (Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) * 1024) / MiB
  );
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}

/** Starts `subject`, times it to its first healthy answer, lets it idle, reads its RSS. */
async function measure(subject: Subject, dataDir: string, settleMs: number): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, subject.args(port, dataDir), {
    cwd: REPO_ROOT,
    env: productionEnv(),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${subject.name} exited early: ${stderr}`);
      if (performance.now() - started > 60_000) throw new Error(`${subject.name} did not answer in 60 s`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const coldStartMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, settleMs));
    return { coldStartMs, idleRssMiB: rssMiB(child.pid ?? 0) };
  } finally {
    await stop(child);
  }
}

const suite: BenchSuite = {
  name: "hub footprint (idle RSS, cold start)",
  async run(ctx) {
    const { quick, tmpDir } = ctx;
    const log = (line: string): void => ctx.log(line);
    const built = await ensureBuilt();
    if (built.length > 0) log(`built ${built.join(" and ")} first`);
    const runs = quick ? 2 : 7;
    const settleMs = quick ? SETTLE_MS.quick : SETTLE_MS.full;
    const samples = new Map<Subject, Sample[]>();
    const subjects = quick ? [SUBJECTS.fastify, SUBJECTS.compiled] : Object.values(SUBJECTS);
    for (const subject of subjects) {
      const dataDir = join(tmpDir, subject.name.replace(/\W+/g, "-"));
      await measure(subject, dataDir, 0); // first start, unmeasured: creates the data directory, warms the disk cache
      samples.set(subject, []);
    }
    // Interleaved, so a busy moment on the machine does not land on one subject only.
    for (let i = 0; i < runs; i++) {
      for (const subject of subjects) {
        const dataDir = join(tmpDir, subject.name.replace(/\W+/g, "-"));
        samples.get(subject)?.push(await measure(subject, dataDir, settleMs));
      }
    }
    const median = (subject: Subject, key: keyof Sample): { median: number; p99: number } =>
      summarize((samples.get(subject) ?? []).map((s) => s[key]));
    const fastify = SUBJECTS.fastify;
    const results: BenchResult[] = [];
    for (const subject of subjects.filter((s) => s !== fastify)) {
      for (const [key, what, unit] of [
        ["idleRssMiB", "idle RSS", "MiB"],
        ["coldStartMs", "cold start to /healthz", "ms"],
      ] as const) {
        const mine = median(subject, key);
        const reference = median(fastify, key).median;
        log(
          `${subject.name}: ${what} ${mine.median.toFixed(1)} ${unit} (bare fastify ${reference.toFixed(1)} ${unit})`,
        );
        results.push({
          name: `${what} (${subject.name}; goal < ${key === "idleRssMiB" ? "100 MiB" : "500 ms"})`,
          unit,
          median: mine.median,
          p99: mine.p99,
          reference: { name: fastify.name, median: reference, unit },
          ratio: mine.median / reference,
        });
      }
    }
    return results;
  },
};

export default suite;
