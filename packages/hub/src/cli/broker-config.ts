/**
 * `latchkey broker-config`: writes a locked-down Mosquitto configuration for a hub that uses its
 * own broker (`--broker`), from the hub's database:
 *
 *   <out>/mosquitto.conf  listener, no anonymous clients, the two files below, no persistence
 *   <out>/passwords       Mosquitto 2 hashes: the hub, the commissioning login, every lock
 *   <out>/acl             each lock only its own topics; the hub all lock traffic; commissioning
 *                         clients only their own session (see gateway/broker-policy.ts)
 *   <out>/hub.env         LATCHKEY_BROKER=mqtt://latchkey-hub:…@host:port, for the hub
 *
 * The folder is 0700 and every file 0600; passwords are never printed. Lock passwords are the
 * ones each lock derives at commissioning, the hub's is derived from the hub secret, so running
 * the command again gives the same logins: it adds locks commissioned since, drops removed ones,
 * and leaves every unchanged password line as it was. Mosquitto re-reads both files on SIGHUP.
 */
import { hkdfSync, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Kysely } from "kysely";
import { isLatchkeyError, LatchkeyError, type LockId } from "@latchkey/protocol";
import type { CliCommand } from "./main.js";
import type { HubDatabase, IngestTables, SyncTables } from "../db/schema.js";
import { defaultSqlitePath, openDatabase } from "../db/database.js";
import { loadOrCreateHubSecret } from "../keys/hub-secret.js";
import { LockPasswords } from "../locks/service.js";
import { HUB_USERNAME, mosquittoAcl } from "../gateway/broker-policy.js";
import {
  COMMISSIONING_PASSWORD,
  COMMISSIONING_USERNAME,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_TOPIC_PREFIX,
  TopicScheme,
} from "@latchkey/lock/mqtt";

export const summary = "Write a locked-down Mosquitto configuration (logins and ACLs per lock) for --broker.";

const HELP = `Usage: latchkey broker-config [options]

Writes mosquitto.conf, passwords, acl and hub.env into --out for running your own Mosquitto
locked down: no anonymous clients, each lock limited to its own topics. Run it again after
adding or removing a lock, then reload Mosquitto (kill -HUP). Passwords are never printed.
With a SQLite database, stop the hub first (it holds the database exclusively).

Options (flags win over environment variables):
  --data-dir DIR        LATCHKEY_DATA_DIR      the hub's data directory (default ./data)
  --database URL        LATCHKEY_DATABASE      SQLite path or postgres:// URL (default <data-dir>/latchkey.sqlite)
  --out DIR                                    where to write (default <data-dir>/mosquitto)
  --host ADDR                                  the listener's address (default 127.0.0.1; 0.0.0.0 for locks on the network)
  --port N                                     the listener's port (default 1883)
  --topic-prefix P      LATCHKEY_TOPIC_PREFIX  as the hub's (default latchkey/v1)
  --help                                       show this text`;

/** PBKDF2 rounds per Mosquitto login. Every password here is 256 bits of key, so rounds add nothing
 * against guessing; they only cost the broker at each CONNECT. Mosquitto's own default is 101. */
const MOSQUITTO_ITERATIONS = 101;
/** Mosquitto 2 accepts only 12-byte salts and 64-byte (SHA-512) hashes. */
const SALT_BYTES = 12;
const HASH_BYTES = 64;

/** A Mosquitto 2 password file hash: `$7$<iterations>$<salt b64>$<PBKDF2-HMAC-SHA512 b64>`. */
export function mosquittoPasswordHash(
  password: string,
  salt: Uint8Array = randomBytes(SALT_BYTES),
  iterations = MOSQUITTO_ITERATIONS,
): string {
  const hash = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, HASH_BYTES, "sha512");
  return `$7$${iterations}$${Buffer.from(salt).toString("base64")}$${hash.toString("base64")}`;
}

/** Whether a `$7$` hash is of `password` (false for anything else). */
export function mosquittoHashMatches(hash: string, password: string): boolean {
  const m = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (m === null) return false;
  const salt = Buffer.from(m[2] ?? "", "base64");
  const expected = Buffer.from(m[3] ?? "", "base64");
  const iterations = Number(m[1]);
  if (salt.length !== SALT_BYTES || expected.length !== HASH_BYTES || iterations < 1) return false;
  return timingSafeEqual(
    pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, HASH_BYTES, "sha512"),
    expected,
  );
}

/** The hub's broker password: derived from the hub secret, so every hub process and every run agree. */
export function hubBrokerPassword(hubNoiseSecret: Uint8Array): string {
  return Buffer.from(hkdfSync("sha256", hubNoiseSecret, "", "latchkey/broker/hub-password/v1", 32)).toString(
    "base64url",
  );
}

export interface MosquittoConfigOptions {
  readonly db: Kysely<HubDatabase>;
  /** The hub's Noise static secret (lock passwords and the hub's are derived from it). */
  readonly hubNoiseSecret: Uint8Array;
  readonly outDir: string;
  readonly host: string;
  readonly port: number;
  readonly topicPrefix?: string;
}

export interface MosquittoConfigResult {
  readonly outDir: string;
  readonly locks: number;
  /** Password lines written anew (new locks, or the first run); unchanged ones are kept. */
  readonly changed: number;
  readonly conf: string;
  readonly hubEnv: string;
}

export async function writeMosquittoConfig(o: MosquittoConfigOptions): Promise<MosquittoConfigResult> {
  const scheme = new TopicScheme(o.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  chmodSync(outDir, 0o700);
  const passwords = await LockPasswords.load(o.db, o.hubNoiseSecret);
  const lockIds: LockId[] = passwords.lockIds().sort();
  const hubPassword = hubBrokerPassword(o.hubNoiseSecret);

  const files = {
    conf: join(outDir, "mosquitto.conf"),
    passwords: join(outDir, "passwords"),
    acl: join(outDir, "acl"),
    hubEnv: join(outDir, "hub.env"),
  };
  const previous = readPasswordFile(files.passwords);
  let changed = 0;
  const line = (user: string, password: string): string => {
    const kept = previous.get(user);
    if (kept !== undefined && mosquittoHashMatches(kept, password)) return `${user}:${kept}`;
    changed++;
    return `${user}:${mosquittoPasswordHash(password)}`;
  };
  const passwordLines = [
    line(HUB_USERNAME, hubPassword),
    line(COMMISSIONING_USERNAME, COMMISSIONING_PASSWORD),
    ...lockIds.map((id) => line(id, passwords.password(id))),
  ];

  const conf = [
    "# Generated by `latchkey broker-config`: a Mosquitto 2 configuration for Latchkey locks.",
    "# Use it whole (mosquitto -c this file) or as an include_dir fragment. Re-run the command after",
    "# adding or removing a lock, then reload Mosquitto (kill -HUP) to re-read passwords and acl.",
    "per_listener_settings false",
    "allow_anonymous false",
    `password_file ${files.passwords}`,
    `acl_file ${files.acl}`,
    `listener ${o.port} ${o.host}`,
    "# Frames are end-to-end encrypted, but CONNECT carries each lock's password in clear: over a",
    "# network, give this listener TLS (certfile, keyfile) and have locks use mqtts://.",
    "allow_zero_length_clientid false",
    "# The largest frame plus room for the MQTT header and topic, as the embedded broker allows.",
    `max_packet_size ${DEFAULT_MAX_FRAME_BYTES + 1024}`,
    "# Nothing to keep across restarts: locks use clean sessions and resend, and a retained",
    '# "online" status kept from before a restart would be stale.',
    "persistence false",
    "",
  ].join("\n");
  const brokerHost = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host;
  const hubUrl = `mqtt://${HUB_USERNAME}:${hubPassword}@${brokerHost.includes(":") ? `[${brokerHost}]` : brokerHost}:${o.port}`;
  const hubEnv = [
    "# The hub's login to this broker (a secret): e.g. systemd EnvironmentFile= for `latchkey start`.",
    `LATCHKEY_BROKER=${hubUrl}`,
    ...(scheme.prefix === DEFAULT_TOPIC_PREFIX ? [] : [`LATCHKEY_TOPIC_PREFIX=${scheme.prefix}`]),
    "",
  ].join("\n");

  writePrivate(files.passwords, passwordLines.join("\n") + "\n");
  writePrivate(files.acl, mosquittoAcl(scheme, lockIds));
  writePrivate(files.hubEnv, hubEnv);
  writePrivate(files.conf, conf);
  return { outDir, locks: lockIds.length, changed, conf: files.conf, hubEnv: files.hubEnv };
}

function readPasswordFile(path: string): Map<string, string> {
  const users = new Map<string, string>();
  if (!existsSync(path)) return users;
  for (const l of readFileSync(path, "utf8").split("\n")) {
    const i = l.indexOf(":");
    if (i > 0) users.set(l.slice(0, i), l.slice(i + 1).trim());
  }
  return users;
}

/**
 * Written beside, then renamed over: Mosquitto reloading meanwhile never reads half a file. A file
 * handed to the broker's user (chown mosquitto) stays that user's when root writes it again.
 */
function writePrivate(path: string, text: string): void {
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, text, { mode: 0o600, flag: "wx" });
  chmodSync(temp, 0o600);
  if (existsSync(path) && process.getuid?.() === 0) {
    const owner = statSync(path);
    chownSync(temp, owner.uid, owner.gid);
  }
  renameSync(temp, path);
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        database: { type: "string" },
        out: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "topic-prefix": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error(`latchkey broker-config: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const env = (name: string): string | undefined =>
    process.env[name] === "" ? undefined : process.env[name];
  const dataDir = resolve(values["data-dir"] ?? env("LATCHKEY_DATA_DIR") ?? "./data");
  const portText = values.port ?? "1883";
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    console.error(`latchkey broker-config: --port must be an integer 1-65535\n\n${HELP}`);
    return 2;
  }
  const host = values.host ?? "127.0.0.1";
  if (!/^[0-9A-Za-z.:-]+$/.test(host)) {
    console.error(`latchkey broker-config: --host must be an address or host name\n\n${HELP}`);
    return 2;
  }
  const topicPrefix = values["topic-prefix"] ?? env("LATCHKEY_TOPIC_PREFIX") ?? DEFAULT_TOPIC_PREFIX;
  const database = values.database ?? env("LATCHKEY_DATABASE");
  const outDir = resolve(values.out ?? join(dataDir, "mosquitto"));
  let opened;
  try {
    new TopicScheme(topicPrefix);
    // The passwords derive from the hub's secret: never make a new one here.
    if (!existsSync(join(dataDir, "secret.key")))
      throw new LatchkeyError(
        "HUB_CONFIG_INVALID",
        `no hub secret at ${join(dataDir, "secret.key")}; point --data-dir at the hub's data directory`,
      );
    const secret = loadOrCreateHubSecret(dataDir);
    opened = await openDatabase({ url: database ?? defaultSqlitePath(dataDir) });
    const hubNoiseSecret = secret.noiseStaticSecret();
    try {
      const r = await writeMosquittoConfig({
        // The migrated schema has the ingest tables (locks); this is how the hub types it too.
        db: opened.db.withTables<Pick<IngestTables & SyncTables, keyof (IngestTables & SyncTables)>>(),
        hubNoiseSecret,
        outDir,
        host,
        port: Number(portText),
        topicPrefix,
      });
      console.log(
        `Wrote ${r.conf} for ${r.locks} lock${r.locks === 1 ? "" : "s"} (${r.changed} login${r.changed === 1 ? "" : "s"} new or changed).`,
      );
      console.log(`The hub's login is in ${r.hubEnv} (LATCHKEY_BROKER); passwords are not shown.`);
      console.log("Reload Mosquitto to apply: kill -HUP <mosquitto pid> (or systemctl reload mosquitto).");
    } finally {
      hubNoiseSecret.fill(0);
    }
    return 0;
  } catch (e) {
    if (isLatchkeyError(e)) {
      console.error(`latchkey broker-config: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await opened?.close();
  }
}

const command: CliCommand = { summary, run };
export default command;
