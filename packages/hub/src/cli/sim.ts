/**
 * `latchkey sim --hub URL --count N [--dir DIR] [--broker URL] [--topic-prefix P]`: a fleet of
 * virtual locks in this process, speaking the real protocol to a hub over MQTT (the hub's
 * embedded broker at ws://host:port/mqtt, or an external broker). Locks keep their state in DIR,
 * so a restarted sim brings the same locks back. Setup codes go only to DIR/setup-codes.json
 * (0600), never to the console. SIGINT/SIGTERM stop every lock cleanly (exit 0).
 */
import { connect as connectTcp } from "node:net";
import { join, resolve } from "node:path";
import { isLatchkeyError } from "@latchkey/protocol";
import type { CliCommand } from "./main.js";
import { redactBrokerUrl, TopicScheme } from "@latchkey/lock/mqtt";
import { SETUP_CODES_FILE, startFleet, type Fleet, type FleetCounts } from "../sim/fleet.js";

export const summary = "Run a fleet of virtual locks against a hub (over MQTT).";

const MAX_COUNT = 100_000;
const STATUS_EVERY_MS = 2000;
const PROBE_TIMEOUT_MS = 5000;
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  "mqtt:": 1883,
  "mqtts:": 8883,
  "ws:": 80,
  "wss:": 443,
};

const HELP = `Usage: latchkey sim --hub URL --count N [options]

Runs N virtual locks that speak the real Latchkey protocol to a hub over MQTT. New locks wait
for commissioning; their setup codes are written to DIR/setup-codes.json (mode 0600), never
printed. Lock state is kept in DIR, so running the sim again brings back the same locks.

Options:
  --hub URL            the hub, http(s)://host:port; its broker is ws(s)://host:port/mqtt
  --count N            how many locks (1-${MAX_COUNT})
  --dir DIR            where the locks keep their state (default ./.latchkey-sim)
  --broker URL         use this MQTT broker instead of the hub's (mqtt://, mqtts://, ws://, wss://)
  --topic-prefix P     MQTT topic prefix (default latchkey/v1; must match the hub's)
  --help               show this help

Exit status: 0 stopped by SIGINT/SIGTERM, 1 hub or broker unreachable, 2 bad command line.`;

export interface SimArgs {
  readonly hub: string | null;
  readonly count: number;
  readonly dir: string;
  readonly brokerUrl: string;
  readonly topicPrefix?: string;
}

/** Parses the command line; a string is the one-line reason it is wrong. */
export function parseSimArgs(argv: readonly string[]): SimArgs | { help: true } | string {
  const rest = [...argv];
  let hub: string | undefined;
  let count: string | undefined;
  let dir = "./.latchkey-sim";
  let broker: string | undefined;
  let topicPrefix: string | undefined;
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--help" || arg === "-h") return { help: true };
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag: string = eq > 0 ? arg.slice(0, eq) : arg;
    const inline: string | null = eq > 0 ? arg.slice(eq + 1) : null;
    const value = (): string | undefined => inline ?? rest.shift();
    const needs = (what: string): string => `${flag} needs ${what}`;
    switch (flag) {
      case "--hub":
        hub = value();
        if (hub === undefined || hub === "") return needs("a URL");
        break;
      case "--count":
        count = value();
        if (count === undefined) return needs("a number");
        break;
      case "--dir": {
        const v = value();
        if (v === undefined || v === "") return needs("a directory");
        dir = v;
        break;
      }
      case "--broker":
        broker = value();
        if (broker === undefined || broker === "") return needs("a URL");
        break;
      case "--topic-prefix":
        topicPrefix = value();
        if (topicPrefix === undefined) return needs("a prefix");
        break;
      default:
        return flag.startsWith("-") ? `unknown option ${flag}` : `unexpected argument "${flag}"`;
    }
  }
  if (count === undefined) return "--count is required";
  if (!/^[0-9]+$/.test(count) || Number(count) < 1 || Number(count) > MAX_COUNT) {
    return `--count must be a whole number from 1 to ${MAX_COUNT}`;
  }
  if (hub === undefined && broker === undefined) return "--hub is required (or --broker)";
  let brokerUrl: string;
  if (broker !== undefined) {
    const u = parseUrl(broker);
    if (u === null || !["mqtt:", "mqtts:", "ws:", "wss:"].includes(u.protocol)) {
      return "--broker must be an mqtt://, mqtts://, ws:// or wss:// URL";
    }
    brokerUrl = broker;
  } else {
    const u = parseUrl(hub ?? "");
    if (u === null || (u.protocol !== "http:" && u.protocol !== "https:")) {
      return "--hub must be an http:// or https:// URL";
    }
    brokerUrl = `${u.protocol === "https:" ? "wss" : "ws"}://${u.host}/mqtt`;
  }
  if (hub !== undefined) {
    const u = parseUrl(hub);
    if (u === null || (u.protocol !== "http:" && u.protocol !== "https:")) {
      return "--hub must be an http:// or https:// URL";
    }
  }
  if (topicPrefix !== undefined) {
    try {
      new TopicScheme(topicPrefix);
    } catch (e) {
      return `--topic-prefix: ${(e as Error).message}`;
    }
  }
  return {
    hub: hub ?? null,
    count: Number(count),
    dir: resolve(dir),
    brokerUrl,
    ...(topicPrefix === undefined ? {} : { topicPrefix }),
  };
}

function parseUrl(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

/** Whether the hub (HTTP) or the broker (TCP) answers at all; the reason when it does not. */
async function unreachable(args: SimArgs, brokerGiven: boolean): Promise<string | null> {
  if (!brokerGiven && args.hub !== null) {
    const url = new URL("/healthz", args.hub);
    try {
      await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return null;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      return `cannot reach the hub at ${redactBrokerUrl(args.hub)} (${cause ?? (e as Error).name})`;
    }
  }
  const u = new URL(args.brokerUrl);
  const port = u.port !== "" ? Number(u.port) : (DEFAULT_PORTS[u.protocol] ?? 1883);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const where = redactBrokerUrl(args.brokerUrl);
  return new Promise((done) => {
    const socket = connectTcp({ host, port });
    const finish = (reason: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      done(reason);
    };
    const timer = setTimeout(() => finish(`cannot reach the broker at ${where} (timeout)`), PROBE_TIMEOUT_MS);
    socket.once("connect", () => finish(null));
    socket.once("error", (e: NodeJS.ErrnoException) =>
      finish(`cannot reach the broker at ${where} (${e.code ?? e.message})`),
    );
  });
}

function statusLine(c: FleetCounts): string {
  return `sim: ${c.waiting} waiting, ${c.connecting} connecting, ${c.connected} connected`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseSimArgs(argv);
  if (typeof args === "string") {
    console.error(`latchkey sim: ${args}\n\nRun \`latchkey sim --help\` for the options.`);
    return 2;
  }
  if ("help" in args) {
    console.log(HELP);
    return 0;
  }
  const problem = await unreachable(
    args,
    argv.some((a) => a === "--broker" || a.startsWith("--broker=")),
  );
  if (problem !== null) {
    console.error(`latchkey sim: ${problem}`);
    return 1;
  }

  const abort = new AbortController();
  let stopping = false;
  let signalled: (() => void) | null = null;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`sim: received ${signal}; stopping the locks.`);
    abort.abort();
    signalled?.();
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);

  let fleet: Fleet;
  try {
    fleet = await startFleet({
      count: args.count,
      dir: args.dir,
      url: args.brokerUrl,
      ...(args.topicPrefix === undefined ? {} : { topicPrefix: args.topicPrefix }),
      signal: abort.signal,
    });
  } catch (e) {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    if (isLatchkeyError(e)) {
      console.error(`latchkey sim: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }

  const waiting = fleet.uncommissioned();
  console.log(
    `sim: ${fleet.locks.length} virtual locks; ${waiting} waiting for commissioning — setup codes in ${join(args.dir, SETUP_CODES_FILE)}`,
  );
  // Every lock failing its first attempt on a reachable broker: say why once (no secrets in it).
  const first = fleet.locks.find((l) => l.lastError !== null)?.lastError;
  if (first !== undefined && first !== null && fleet.locks.every((l) => l.state === "connecting")) {
    console.error(`sim: locks cannot connect yet (${first.message}); retrying`);
  }

  let last = "";
  const report = () => {
    const line = statusLine(fleet.counts());
    if (line === last) return;
    last = line;
    console.log(line);
  };
  report();
  const timer = setInterval(report, STATUS_EVERY_MS);

  await new Promise<void>((resolve) => {
    signalled = () => resolve();
    if (stopping) resolve();
  });
  clearInterval(timer);
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onTerm);
  try {
    await fleet.stop();
  } catch (e) {
    console.error(`latchkey sim: stopping failed: ${(e as Error).message}`);
    return 1;
  }
  console.log("sim: stopped.");
  return 0;
}

const command: CliCommand = { summary, run };
export default command;
