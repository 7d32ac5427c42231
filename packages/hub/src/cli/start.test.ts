import { describe, it, expect, afterAll } from "vitest";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./start.js";
import { selfSignedCertificate } from "../testing/tls.js";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function launch(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(
    process.execPath,
    [...LATCHKEY_FROM_SOURCE, "start", "--port", "0", "--log-level", "info", ...args],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor(r: Running, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let i = 0; i < 300; i++) {
    const m = r.out().match(pattern);
    if (m !== null) return m;
    if (r.child.exitCode !== null) throw new Error(`hub exited early: ${r.err()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`timed out waiting for ${String(pattern)}; output: ${r.out()} ${r.err()}`);
}

describe("latchkey start (real processes)", () => {
  it("keeps its data folder private: a fresh one is 0700 with 0600 files, demo locks included; an open one is refused", async () => {
    const parent = mkdtempSync(join(tmpdir(), "latchkey-start-perms-"));
    dirs.push(parent);
    chmodSync(parent, 0o755);
    const dataDir = join(parent, "data");
    const a = launch(["--demo"], { LATCHKEY_DATA_DIR: dataDir });
    await waitFor(a, /Demo mode: site "Demo home"/);
    const paths = readdirSync(dataDir, { recursive: true, encoding: "utf8" }).map((n) => join(dataDir, n));
    expect(paths.some((p) => p.includes("demo-locks"))).toBe(true);
    expect(paths.length).toBeGreaterThan(8);
    for (const p of [dataDir, ...paths]) {
      const st = statSync(p);
      expect((st.mode & 0o777).toString(8), p).toBe(st.isDirectory() ? "700" : "600");
    }
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);

    const open = join(parent, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(" "));
    try {
      expect(await run(["--data-dir", open, "--port", "0"])).toBe(1);
    } finally {
      console.error = original;
    }
    expect(errors.join("\n")).toContain(
      `HUB_DATA_DIR_PERMISSIONS: data directory ${open} is open to other users`,
    );
    expect(errors.join("\n")).toContain(`chmod 700 ${open}`);
    expect(readdirSync(open)).toEqual([]);
  });

  it("serves, refuses a second hub on the same data dir, restarts after kill -9 (HTTPS, Secure cookie), stops on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "latchkey-start-"));
    dirs.push(dataDir);
    const a = launch(["--demo"], { LATCHKEY_DATA_DIR: dataDir });
    const [, url] = await waitFor(a, /listening on (http:\/\/\S+)/);
    // Demo mode: two virtual locks commissioned through the hub's own broker and connected.
    await waitFor(a, /Demo mode: site "Demo home" with Front door and Back door/);
    // The gauge counts locks whose authenticated session answers: both, once the hub has opened them.
    await expect
      .poll(async () => (await fetch(`${url}/metrics`)).text(), { timeout: 15_000 })
      .toMatch(/^latchkey_locks_connected 2$/m);
    const [, link] = await waitFor(a, /^\s+(http\S+\/setup#\S+)$/m);
    const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
    expect(health.status).toBe("ok");
    expect(existsSync(join(dataDir, "secret.key"))).toBe(true);
    expect(existsSync(join(dataDir, "hub.pid"))).toBe(true);

    // A second hub on the same data dir (here in this process: the lock is per database file).
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(" "));
    try {
      expect(await run(["--data-dir", dataDir, "--port", "0"])).toBe(1);
    } finally {
      console.error = original;
    }
    expect(errors.join("\n")).toMatch(/HUB_DATA_DIR_LOCKED: another hub is already running/);

    a.child.kill("SIGKILL");
    await a.exited;
    // Restart after kill -9 (no stale lock), this time over HTTPS.
    const { cert, key } = selfSignedCertificate(dataDir);
    const c = launch(["--data-dir", dataDir, "--tls-cert", cert, "--tls-key", key]);
    const [, httpsUrl] = await waitFor(c, /listening on (https:\/\/\S+)/);
    // A restart without an owner issues a new setup link, replacing the old one.
    const [, link2] = await waitFor(c, /^\s+(https\S+\/setup#\S+)$/m);
    expect(link2).not.toBe(link);
    const token = new URL(link2 ?? "").hash.slice(1);
    const port = new URL(httpsUrl ?? "").port;
    const res = execFileSync(
      "curl",
      [
        "-sk",
        "-i",
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "--data",
        JSON.stringify({ token, username: "owner", password: "tide pools in winter" }),
        `https://127.0.0.1:${port}/api/v1/setup`,
      ],
      { encoding: "utf8" },
    );
    expect(res).toMatch(/^HTTP\/1.1 201/);
    expect(res).toMatch(/set-cookie: __Host-latchkey_session=[^;]+;.*Secure/i);
    expect(res).toMatch(/HttpOnly/i);
    expect(res).toMatch(/SameSite=Strict/i);
    c.child.kill("SIGTERM");
    expect(await c.exited).toBe(0);
    expect(c.out()).toMatch(/Received SIGTERM; shutting down/);
    expect(existsSync(join(dataDir, "hub.pid"))).toBe(false);
    // The setup token is printed for the human, never in a structured log line.
    const jsonLines = c
      .out()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    expect(jsonLines.length).toBeGreaterThan(0);
    for (const l of jsonLines) expect(l).not.toContain(token);
  });
});
