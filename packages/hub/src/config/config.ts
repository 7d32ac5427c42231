/**
 * Hub configuration: every start flag also as an environment variable (flags win). The table
 * below is the single source for parsing, `--help` and docs/hub.md.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { LatchkeyError } from "@latchkey/protocol";
import { parseWitnessEndpoint, type WitnessEndpoint } from "../witness/config.js";
import type { SyncPolicy } from "./sync-policy.js";

export interface Argon2Params {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** OWASP Password Storage Cheat Sheet's argon2id minimum: 19 MiB, 2 passes, 1 lane. */
export const PRODUCTION_ARGON2: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface HubConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** SQLite path / "sqlite:<path>" or postgres:// URL. */
  readonly database: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly demo: boolean;
  /** Booking calendars may be downloaded from private, loopback and link-local addresses. */
  readonly calendarPrivateFeeds: boolean;
  /** Home Assistant's MQTT broker, for its discovery of the doors (null: no bridge). */
  readonly homeAssistant: HomeAssistantConfig | null;
  /** The origin browsers use (for WebAuthn, Origin checks and printed links). */
  readonly publicUrl: string;
  readonly logLevel: string;
  readonly argon2: Argon2Params;
  readonly sessionIdleMs: number;
  readonly sessionAbsoluteMs: number;
  readonly setupLinkTtlMs: number;
  /** Checkpoint origin for a new ledger (default: `<public-url host>/ledger/<key fingerprint>`). */
  readonly ledgerOrigin: string | undefined;
  /** Sign a ledger checkpoint after this many unsigned leaves, or this many seconds after the first. */
  readonly checkpointEvery: { readonly entries: number; readonly seconds: number };
  /** Device gateway: an external MQTT broker URL, or undefined for the embedded broker. */
  readonly broker: string | undefined;
  /** Device gateway: the embedded broker's opt-in raw MQTT TCP port (on `host`), or undefined. */
  readonly mqttPort: number | undefined;
  /** Device gateway: how many not-yet-commissioned locks may be connected at once. */
  readonly commissioningClients: number;
  /** Device gateway: how many of those may come from one network address (and wait in the lobby). */
  readonly commissioningClientsPerSource: number;
  /** Device gateway: the MQTT topic prefix (default latchkey/v1); hubs sharing a broker need their own. */
  readonly topicPrefix: string | undefined;
  /** Witnesses that cosign the ledger's checkpoints (`--witness URL=VKEY`, repeatable). */
  readonly witnesses?: readonly WitnessEndpoint[];
  /** Tests only: sync engine timings (backoff, breaker, intervals). */
  readonly syncPolicy?: Partial<SyncPolicy>;
  /** Tests only: a PostgreSQL schema to isolate one test file. */
  readonly pgSchema?: string;
  /** Tests only: where pino writes (default stdout). */
  readonly logDestination?: NodeJS.WritableStream;
  /** Tests only: the clock. */
  readonly now?: () => number;
}

interface FlagSpec {
  readonly flag: string;
  readonly env: string;
  readonly type: "string" | "boolean";
  readonly help: string;
  readonly default: string;
  /** Repeatable flag; its variable takes the values separated by spaces. */
  readonly multiple?: true;
}

export const FLAGS: readonly FlagSpec[] = [
  {
    flag: "data-dir",
    env: "LATCHKEY_DATA_DIR",
    type: "string",
    default: "./data",
    help: "Where the hub keeps its SQLite database, secret key and pid file.",
  },
  {
    flag: "host",
    env: "LATCHKEY_HOST",
    type: "string",
    default: "127.0.0.1",
    help: "Address to listen on (0.0.0.0 for every interface).",
  },
  { flag: "port", env: "LATCHKEY_PORT", type: "string", default: "8080", help: "TCP port for HTTP(S)." },
  {
    flag: "database",
    env: "LATCHKEY_DATABASE",
    type: "string",
    default: "<data-dir>/latchkey.sqlite",
    help: "SQLite file path, or a postgres://user@host/db URL.",
  },
  {
    flag: "tls-cert",
    env: "LATCHKEY_TLS_CERT",
    type: "string",
    default: "(none)",
    help: "PEM certificate file; with --tls-key serves HTTPS and marks cookies Secure.",
  },
  {
    flag: "tls-key",
    env: "LATCHKEY_TLS_KEY",
    type: "string",
    default: "(none)",
    help: "PEM private key file for --tls-cert.",
  },
  {
    flag: "public-url",
    env: "LATCHKEY_PUBLIC_URL",
    type: "string",
    default: "http(s)://<host>:<port> (localhost for a loopback host)",
    help: "The URL browsers use to reach the hub (passkeys are bound to its host name).",
  },
  {
    flag: "log-level",
    env: "LATCHKEY_LOG_LEVEL",
    type: "string",
    default: "info",
    help: "pino log level: fatal, error, warn, info, debug, trace.",
  },
  {
    flag: "demo",
    env: "LATCHKEY_DEMO",
    type: "boolean",
    default: "false",
    help: 'Demo mode: a site "Demo home" with two doors, each with a virtual lock driven from the web app\'s demo panel.',
  },
  {
    flag: "calendar-private-feeds",
    env: "LATCHKEY_CALENDAR_PRIVATE_FEEDS",
    type: "boolean",
    default: "false",
    help: "Let booking calendars be downloaded from private, loopback and link-local addresses (a calendar served on your own network). Off by default: a site manager could otherwise point the hub at internal services.",
  },
  {
    flag: "home-assistant",
    env: "LATCHKEY_HOME_ASSISTANT",
    type: "string",
    default: "(none)",
    help: "Home Assistant's MQTT broker (mqtt://, mqtts://, ws://, wss://): each door appears there as a device with a lock, sensors and availability (MQTT discovery).",
  },
  {
    flag: "home-assistant-user",
    env: "LATCHKEY_HOME_ASSISTANT_USER",
    type: "string",
    default: "(none)",
    help: "User name on Home Assistant's broker; the password comes from LATCHKEY_HOME_ASSISTANT_PASSWORD only (never a flag: flags show in ps).",
  },
  {
    flag: "home-assistant-prefix",
    env: "LATCHKEY_HOME_ASSISTANT_PREFIX",
    type: "string",
    default: "homeassistant",
    help: "Home Assistant's MQTT discovery prefix.",
  },
  {
    flag: "home-assistant-unlock",
    env: "LATCHKEY_HOME_ASSISTANT_UNLOCK",
    type: "string",
    default: "(none)",
    help: "Comma-separated door ids Home Assistant may ask to unlock; each ask is an unlock request a person approves with their passkey. Others can only be locked from Home Assistant.",
  },
];

export interface HomeAssistantConfig {
  readonly url: string;
  readonly username: string | null;
  readonly password: string | null;
  readonly discoveryPrefix: string;
  readonly unlockDoorIds: readonly string[];
}

/**
 * Ledger options. Kept in their own table (joined to FLAGS for parsing and --help) so the
 * original FLAGS list stays as its test pins it.
 */
export const LEDGER_FLAGS: readonly FlagSpec[] = [
  {
    flag: "ledger-origin",
    env: "LATCHKEY_LEDGER_ORIGIN",
    type: "string",
    default: "<public-url host>/ledger/<key fingerprint>",
    help: "Checkpoint origin (log name) used when the ledger key is first created; fixed afterwards.",
  },
  {
    flag: "checkpoint-entries",
    env: "LATCHKEY_CHECKPOINT_ENTRIES",
    type: "string",
    default: "256",
    help: "Sign a ledger checkpoint once this many leaves are unsigned (1-1000000).",
  },
  {
    flag: "checkpoint-seconds",
    env: "LATCHKEY_CHECKPOINT_SECONDS",
    type: "string",
    default: "60",
    help: "Sign a ledger checkpoint at most this many seconds after the first unsigned leaf (1-86400).",
  },
];

/** Device gateway options (own table, joined like LEDGER_FLAGS). */
export const GATEWAY_FLAGS: readonly FlagSpec[] = [
  {
    flag: "broker",
    env: "LATCHKEY_BROKER",
    type: "string",
    default: "(embedded broker at /mqtt on the HTTP port)",
    help: "External MQTT broker for locks: mqtt://, mqtts://, ws:// or wss:// URL (user:password@ for the hub's login; prefer the variable).",
  },
  {
    flag: "mqtt-port",
    env: "LATCHKEY_MQTT_PORT",
    type: "string",
    default: "(none)",
    help: "Also accept raw MQTT over TCP from locks on this port (embedded broker only; 0 = any free port).",
  },
  {
    flag: "commissioning-clients",
    env: "LATCHKEY_COMMISSIONING_CLIENTS",
    type: "string",
    default: "64",
    help: "How many locks waiting to be commissioned may be connected at once (1-100000).",
  },
  {
    flag: "commissioning-per-source",
    env: "LATCHKEY_COMMISSIONING_PER_SOURCE",
    type: "string",
    default: "4",
    help: "How many of those may come from one network address (1-100000; raise it behind a proxy or for a simulator).",
  },
  {
    flag: "topic-prefix",
    env: "LATCHKEY_TOPIC_PREFIX",
    type: "string",
    default: "latchkey/v1",
    help: "MQTT topic prefix for lock traffic; hubs sharing one broker each need their own.",
  },
];

/** Witnesses (own table, joined like LEDGER_FLAGS). */
export const WITNESS_FLAGS: readonly FlagSpec[] = [
  {
    flag: "witness",
    env: "LATCHKEY_WITNESSES",
    type: "string",
    multiple: true,
    default: "(none)",
    help: "A witness that cosigns the ledger's checkpoints: URL=VKEY, the verifier key `latchkey witness init` printed (repeat the flag for several; the variable takes them separated by spaces).",
  },
];

const ALL_FLAGS: readonly FlagSpec[] = [...FLAGS, ...LEDGER_FLAGS, ...GATEWAY_FLAGS, ...WITNESS_FLAGS];

export function helpText(): string {
  const lines = ["Usage: latchkey start [options]", "", "Options (each also as an environment variable):"];
  for (const f of ALL_FLAGS) {
    lines.push(`  --${f.flag}${f.type === "string" ? " <value>" : ""}`.padEnd(28) + `${f.env}`);
    lines.push(`      ${f.help} Default: ${f.default}.`);
  }
  lines.push("  --help".padEnd(28) + "Show this text.");
  return lines.join("\n");
}

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Parses flags and environment into a config; throws HUB_CONFIG_INVALID naming the bad option. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): HubConfig & { help: boolean } {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {
    help: { type: "boolean" },
  };
  for (const f of ALL_FLAGS)
    options[f.flag] = { type: f.type, ...(f.multiple === true ? { multiple: true } : {}) };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new LatchkeyError("HUB_CONFIG_INVALID", (e as Error).message);
  }
  const get = (flag: string): string | boolean | undefined => {
    const spec = ALL_FLAGS.find((f) => f.flag === flag);
    const fromFlag = values[flag];
    if (fromFlag !== undefined && !Array.isArray(fromFlag)) return fromFlag;
    const fromEnv = spec === undefined ? undefined : env[spec.env];
    if (fromEnv === undefined || fromEnv === "") return undefined;
    if (spec?.type === "boolean") {
      if (/^(1|true|yes|on)$/i.test(fromEnv)) return true;
      if (/^(0|false|no|off)$/i.test(fromEnv)) return false;
      throw new LatchkeyError("HUB_CONFIG_INVALID", `${spec.env} must be true or false`);
    }
    return fromEnv;
  };
  const str = (flag: string): string | undefined => {
    const v = get(flag);
    return typeof v === "string" ? v : undefined;
  };
  const dataDir = resolve(str("data-dir") ?? "./data");
  const host = str("host") ?? "127.0.0.1";
  const portText = str("port") ?? "8080";
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new LatchkeyError("HUB_CONFIG_INVALID", "--port / LATCHKEY_PORT must be an integer 0-65535");
  }
  const port = Number(portText);
  const tlsCert = str("tls-cert");
  const tlsKey = str("tls-key");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new LatchkeyError("HUB_CONFIG_INVALID", "--tls-cert and --tls-key must be given together");
  }
  const logLevel = str("log-level") ?? "info";
  if (!LOG_LEVELS.has(logLevel))
    throw new LatchkeyError("HUB_CONFIG_INVALID", "--log-level is not a pino level");
  const scheme = tlsCert === undefined ? "http" : "https";
  // Loopback and wildcard addresses are shown as "localhost": WebAuthn refuses IP addresses, so
  // passkeys only work when browsers reach the hub by a host name.
  const loopbackOrAny = host === "0.0.0.0" || host === "::" || host === "::1" || /^127\./.test(host);
  const shownHost = loopbackOrAny ? "localhost" : host.includes(":") ? `[${host}]` : host;
  const publicUrl = (str("public-url") ?? `${scheme}://${shownHost}:${port}`).replace(/\/+$/, "");
  try {
    new URL(publicUrl);
  } catch {
    throw new LatchkeyError("HUB_CONFIG_INVALID", "--public-url must be an absolute URL");
  }
  const bounded = (flag: string, fallback: number, max: number): number => {
    const text = str(flag) ?? String(fallback);
    const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
    if (!(n >= 1 && n <= max)) {
      const env = ALL_FLAGS.find((f) => f.flag === flag)?.env ?? "";
      throw new LatchkeyError("HUB_CONFIG_INVALID", `--${flag} / ${env} must be an integer 1-${max}`);
    }
    return n;
  };
  const checkpointEvery = {
    entries: bounded("checkpoint-entries", 256, 1_000_000),
    seconds: bounded("checkpoint-seconds", 60, 86_400),
  };
  return {
    help: values.help === true,
    dataDir,
    host,
    port,
    database: str("database") ?? "",
    tlsCert,
    tlsKey,
    demo: get("demo") === true,
    calendarPrivateFeeds: get("calendar-private-feeds") === true,
    homeAssistant: homeAssistantConfig(str, env),
    publicUrl,
    logLevel,
    argon2: PRODUCTION_ARGON2,
    sessionIdleMs: 30 * 60_000,
    sessionAbsoluteMs: 12 * 60 * 60_000,
    setupLinkTtlMs: 60 * 60_000,
    ledgerOrigin: str("ledger-origin"),
    checkpointEvery,
    ...gatewayConfig(str),
    commissioningClients: bounded("commissioning-clients", 64, 100_000),
    commissioningClientsPerSource: bounded("commissioning-per-source", 4, 100_000),
    topicPrefix: str("topic-prefix"),
    witnesses: witnessConfig(values.witness, env),
  };
}

/** `--broker` must be an MQTT or WebSocket URL; `--mqtt-port` only makes sense without it. */
function gatewayConfig(str: (flag: string) => string | undefined): Pick<HubConfig, "broker" | "mqttPort"> {
  const broker = str("broker");
  if (broker !== undefined) {
    let protocol: string;
    try {
      protocol = new URL(broker).protocol;
    } catch {
      throw new LatchkeyError("HUB_CONFIG_INVALID", "--broker / LATCHKEY_BROKER must be an absolute URL");
    }
    if (!["mqtt:", "mqtts:", "ws:", "wss:"].includes(protocol)) {
      throw new LatchkeyError(
        "HUB_CONFIG_INVALID",
        "--broker / LATCHKEY_BROKER must be mqtt://, mqtts://, ws:// or wss://",
      );
    }
  }
  const portText = str("mqtt-port");
  if (portText === undefined) return { broker, mqttPort: undefined };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new LatchkeyError(
      "HUB_CONFIG_INVALID",
      "--mqtt-port / LATCHKEY_MQTT_PORT must be an integer 0-65535",
    );
  }
  if (broker !== undefined) {
    throw new LatchkeyError(
      "HUB_CONFIG_INVALID",
      "--mqtt-port applies to the embedded broker; drop it with --broker",
    );
  }
  return { broker, mqttPort: Number(portText) };
}

/** `--witness URL=VKEY` (repeatable) or LATCHKEY_WITNESSES (space-separated); flags win. */
function witnessConfig(flags: unknown, env: NodeJS.ProcessEnv): WitnessEndpoint[] {
  const texts = Array.isArray(flags)
    ? (flags as string[])
    : (env.LATCHKEY_WITNESSES ?? "").split(/\s+/).filter((t) => t !== "");
  const out = texts.map((t) => parseWitnessEndpoint(t, "HUB_CONFIG_INVALID"));
  const names = out.map((w) => w.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new LatchkeyError("HUB_CONFIG_INVALID", `--witness ${twice} is given twice`);
  return out;
}

function homeAssistantConfig(
  str: (flag: string) => string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): HomeAssistantConfig | null {
  const url = str("home-assistant");
  if (url === undefined) return null;
  const username = str("home-assistant-user") ?? null;
  const password = env.LATCHKEY_HOME_ASSISTANT_PASSWORD ?? null;
  const unlock = (str("home-assistant-unlock") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const id of unlock)
    if (!/^[0-9a-f-]{36}$/.test(id))
      throw new LatchkeyError(
        "HUB_CONFIG_INVALID",
        "--home-assistant-unlock / LATCHKEY_HOME_ASSISTANT_UNLOCK lists door ids (UUIDs)",
      );
  return {
    url,
    username,
    password,
    discoveryPrefix: str("home-assistant-prefix") ?? "homeassistant",
    unlockDoorIds: unlock,
  };
}
