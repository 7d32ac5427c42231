/**
 * Shared by crash.test.ts and its child (sync-crash-child.ts): the one hub configuration both
 * build on the same data directory, so every restart is the same hub — same database, keys,
 * ledger, embedded broker port and topic prefix — with fast sync timings and cheap argon2.
 */
import { Writable } from "node:stream";
import { parseConfig, type HubConfig } from "../config/config.js";
import { TEST_ORIGIN } from "./hub-fixture.js";
import { FAST_SYNC } from "./sync-support.js";

export interface CrashHubOptions {
  readonly dataDir: string;
  /** The embedded broker's raw MQTT port (the locks reconnect to it after every restart). */
  readonly mqttPort: number;
  readonly topicPrefix: string;
  /** The hub's clock. */
  readonly now: () => number;
  readonly logDestination?: NodeJS.WritableStream;
}

/** A log sink that keeps nothing. */
export function discardLogs(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

export function crashHubConfig(o: CrashHubOptions): HubConfig {
  return {
    ...parseConfig([], {}),
    dataDir: o.dataDir,
    database: "",
    host: "127.0.0.1",
    publicUrl: TEST_ORIGIN,
    logLevel: "warn",
    argon2: { memoryCost: 256, timeCost: 1, parallelism: 1 },
    logDestination: o.logDestination ?? discardLogs(),
    now: o.now,
    mqttPort: o.mqttPort,
    topicPrefix: o.topicPrefix,
    syncPolicy: FAST_SYNC,
  };
}
