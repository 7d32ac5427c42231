/**
 * Hub API benchmarks, SQLite, through `app.inject` (in-process, no socket):
 *  - typical reads (a page of 50 people; a page of 50 audit entries) and a typical write (create a
 *    grant) in requests/s, against a bare fastify hello-world GET measured in the same run;
 *  - cold start (build + migrate a fresh hub) against a bare fastify instance's start;
 *  - idle resident memory of a started hub process against a bare fastify process, both run
 *    through the same TypeScript loader.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Fastify from "fastify";
import { ownerSession, type OwnerSession } from "./owner-session.js";
import { median, summarize, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { buildHub, type Hub } from "../src/server/app.js";
import { parseConfig, type HubConfig } from "../src/config/config.js";

const ORIGIN = "http://bench.local:8080";

function config(dataDir: string): HubConfig {
  return { ...parseConfig([], {}), dataDir, publicUrl: ORIGIN, logLevel: "silent" };
}

/** Sequential requests per second over `rounds` rounds of at least `minMillis`. */
async function rate(fn: () => Promise<void>, rounds: number, minMillis: number): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      await fn();
      n++;
      elapsed = performance.now() - t0;
    } while (elapsed < minMillis);
    rates.push((n * 1000) / elapsed);
  }
  return rates;
}

type Session = OwnerSession;

async function signedInHub(dataDir: string): Promise<{ hub: Hub; s: Session }> {
  const hub = await buildHub(config(dataDir));
  return { hub, s: await ownerSession(hub) };
}

async function childRss(script: string, dir: string): Promise<number> {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      stdio: ["ignore", "pipe", "inherit"],
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", () => {
      const m = out.match(/RSS (\d+)/);
      if (m === null) reject(new Error(`child printed no RSS: ${out}`));
      else resolve(Number(m[1]) / 2 ** 20);
    });
  });
}

const suite: BenchSuite = {
  name: "hub API (SQLite, app.inject)",
  async run(ctx) {
    const results: BenchResult[] = [];
    const rounds = ctx.quick ? 2 : 7;
    const minMillis = ctx.quick ? 200 : 1000;

    const bare = Fastify();
    bare.get("/", () => Promise.resolve({ hello: "world" }));
    await bare.ready();
    const bareRate = median(
      await rate(async () => void (await bare.inject({ method: "GET", url: "/" })), rounds, minMillis),
    );
    await bare.close();
    const ref = { name: "bare fastify hello-world GET (inject)", median: bareRate, unit: "req/s" };

    const { hub, s } = await signedInHub(mkdtempSync(join(ctx.tmpDir, "api-")));
    const headers = { cookie: s.cookie, "x-csrf-token": s.csrf };
    const post = async (url: string, payload: Record<string, unknown>) =>
      (await hub.app.inject({ method: "POST", url, headers, payload })).json<{ id: string }>();
    const site = await post("/api/v1/sites", { name: "Bench", timezone: "Europe/Paris" });
    const door = await post(`/api/v1/sites/${site.id}/doors`, { name: "Front" });
    const people: string[] = [];
    for (let i = 0; i < 200; i++)
      people.push((await post(`/api/v1/sites/${site.id}/people`, { name: `Person ${i}` })).id);
    ctx.log(`seeded 1 site, 1 door, ${people.length} people`);

    const peopleRates = await rate(
      async () => {
        const r = await hub.app.inject({
          method: "GET",
          url: `/api/v1/sites/${site.id}/people?limit=50`,
          headers,
        });
        if (r.statusCode !== 200) throw new Error(r.body);
      },
      rounds,
      minMillis,
    );
    const auditRates = await rate(
      async () => {
        const r = await hub.app.inject({
          method: "GET",
          url: `/api/v1/sites/${site.id}/audit?limit=50`,
          headers,
        });
        if (r.statusCode !== 200) throw new Error(r.body);
      },
      rounds,
      minMillis,
    );
    let i = 0;
    const grantRates = await rate(
      async () => {
        const person = people[i++ % people.length] ?? "";
        const r = await hub.app.inject({
          method: "POST",
          url: `/api/v1/people/${person}/grants`,
          headers,
          payload: {
            doorIds: [door.id],
            category: "cleaner",
            schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
          },
        });
        if (r.statusCode !== 201) throw new Error(r.body);
      },
      rounds,
      minMillis,
    );
    await hub.close();
    for (const [name, rates] of [
      ["read: page of 50 people", peopleRates],
      ["read: page of 50 audit entries", auditRates],
      ["write: create a grant (audited)", grantRates],
    ] as const) {
      const sum = summarize(rates);
      results.push({
        name: `${name} (ratio = hub / bare)`,
        unit: "req/s",
        median: sum.median,
        p99: null,
        reference: ref,
        ratio: sum.median / bareRate,
      });
    }

    const startSamples = ctx.quick ? 2 : 7;
    const hubStarts: number[] = [];
    for (let k = 0; k < startSamples; k++) {
      const t0 = performance.now();
      const h = await buildHub(config(mkdtempSync(join(ctx.tmpDir, "cold-"))));
      hubStarts.push(performance.now() - t0);
      await h.close();
    }
    const bareStarts: number[] = [];
    for (let k = 0; k < startSamples; k++) {
      const t0 = performance.now();
      const b = Fastify();
      b.get("/", () => Promise.resolve("ok"));
      await b.ready();
      bareStarts.push(performance.now() - t0);
      await b.close();
    }
    const hubStart = summarize(hubStarts);
    const bareStart = median(bareStarts);
    results.push({
      name: "cold start: build + migrate a fresh hub",
      unit: "ms",
      median: hubStart.median,
      p99: hubStart.p99,
      reference: { name: "bare fastify ready()", median: bareStart, unit: "ms" },
      ratio: hubStart.median / bareStart,
    });

    const appUrl = pathToFileURL(fileURLToPath(new URL("../src/server/app.ts", import.meta.url))).href;
    const configUrl = pathToFileURL(fileURLToPath(new URL("../src/config/config.ts", import.meta.url))).href;
    const fastifyUrl = pathToFileURL(createRequire(import.meta.url).resolve("fastify")).href;
    const hubDir = mkdtempSync(join(ctx.tmpDir, "rss-"));
    const settle =
      "await new Promise((r) => setTimeout(r, 500)); globalThis.gc?.(); console.log(`RSS ${process.memoryUsage().rss}`);";
    // Both processes at once: resident memory does not depend on the machine's load, and each
    // child's start (the TypeScript loader compiling the hub) is most of this suite's time.
    const [hubRss, bareRss] = await Promise.all([
      childRss(
        `import { buildHub } from ${JSON.stringify(appUrl)};\nimport { parseConfig } from ${JSON.stringify(configUrl)};\nconst hub = await buildHub({ ...parseConfig([], {}), dataDir: ${JSON.stringify(hubDir)}, logLevel: "silent", port: 0 });\nawait hub.app.listen({ port: 0, host: "127.0.0.1" });\n${settle}\nawait hub.close();\n`,
        ctx.tmpDir,
      ),
      childRss(
        `import Fastify from ${JSON.stringify(fastifyUrl)};\nconst app = Fastify();\napp.get("/", () => Promise.resolve("hello"));\nawait app.listen({ port: 0, host: "127.0.0.1" });\n${settle}\nawait app.close();\n`,
        ctx.tmpDir,
      ),
    ]);
    results.push({
      name: "idle resident memory of a started hub",
      unit: "MiB",
      median: hubRss,
      p99: null,
      reference: { name: "bare fastify hello-world process", median: bareRss, unit: "MiB" },
      ratio: hubRss / bareRss,
    });
    return results;
  },
};

export default suite;
