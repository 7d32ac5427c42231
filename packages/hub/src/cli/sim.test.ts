/**
 * `latchkey sim`: the command line (help, one-line errors with exit 2, exit 1 for an unreachable
 * hub or broker), and a real sim process against a gateway's broker: progress lines, the 0600
 * setup-codes file, no setup code on the console, SIGTERM → clean stop, exit 0.
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseSimArgs, run } from "./sim.js";
import { startTestHubSide, tempDir } from "../sim/test-support.js";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function captured(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await run(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe("latchkey sim: command line", () => {
  it("--help prints the options and exits 0", async () => {
    const r = await captured(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage: latchkey sim --hub URL --count N");
  });

  const refusals: [string[], string][] = [
    [[], "--count is required"],
    [["--count", "3"], "--hub is required"],
    [["--hub", "http://127.0.0.1:1", "--count", "0"], "--count must be a whole number"],
    [["--hub", "http://127.0.0.1:1", "--count", "x"], "--count must be a whole number"],
    [["--hub", "ftp://h", "--count", "2"], "--hub must be an http:// or https:// URL"],
    [["--broker", "http://h", "--count", "2"], "--broker must be an mqtt://"],
    [["--hub", "http://h:1", "--count", "2", "--topic-prefix", "a//b"], "--topic-prefix"],
    [["--hub", "http://h:1", "--count", "2", "--bogus"], "unknown option --bogus"],
    [["--hub"], "--hub needs a URL"],
  ];
  it.each(refusals)("refuses %j with one clear line and exit 2", async (argv, message) => {
    const r = await captured(argv);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toContain(message);
    expect(r.out).toBe("");
  });

  it("derives the embedded broker's URL from the hub's", () => {
    expect(parseSimArgs(["--hub", "http://127.0.0.1:8080", "--count", "2"])).toMatchObject({
      brokerUrl: "ws://127.0.0.1:8080/mqtt",
      count: 2,
    });
    expect(parseSimArgs(["--hub=https://hub.example:8443/", "--count=1"])).toMatchObject({
      brokerUrl: "wss://hub.example:8443/mqtt",
    });
  });

  it("exits 1 with one line when the hub or the broker cannot be reached", async () => {
    const hub = await captured(["--hub", "http://127.0.0.1:1", "--count", "1"]);
    expect(hub.code).toBe(1);
    expect(hub.err).toMatch(/^latchkey sim: cannot reach the hub at http:\/\/127\.0\.0\.1:1/);
    const broker = await captured(["--broker", "mqtt://127.0.0.1:1", "--count", "1"]);
    expect(broker.code).toBe(1);
    expect(broker.err).toMatch(
      /^latchkey sim: cannot reach the broker at mqtt:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    );
  });
});

describe("latchkey sim (a real process)", () => {
  it("runs locks against the broker, keeps codes off the console, stops on SIGTERM", async () => {
    const hub = await startTestHubSide();
    cleanups.push(() => hub.close());
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const child = spawn(
      process.execPath,
      [
        ...LATCHKEY_FROM_SOURCE,
        "sim",
        "--broker",
        hub.url,
        "--topic-prefix",
        hub.topicPrefix,
        "--count",
        "2",
        "--dir",
        tmp.dir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 600 && !pattern.test(out); i++) {
        if (child.exitCode !== null) throw new Error(`sim exited early: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out).toMatch(pattern);
    };
    await waitFor(
      /^sim: 2 virtual locks; 2 waiting for commissioning — setup codes in .*setup-codes\.json$/m,
    );
    await waitFor(/^sim: 2 waiting, 0 connecting, 0 connected$/m);
    const file = join(tmp.dir, "setup-codes.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const codes = JSON.parse(readFileSync(file, "utf8")) as { setupCode: string }[];
    expect(codes).toHaveLength(2);
    for (const c of codes) {
      expect(out).not.toContain(c.setupCode);
      expect(err).not.toContain(c.setupCode);
    }
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toContain("sim: stopped.");
  });
});
