/**
 * Test support for sync tests: the brokers a suite runs against (the embedded one always; the
 * real Mosquitto on 127.0.0.1:1883 when reachable — under CI=true an unreachable Mosquitto is a
 * failure, elsewhere it is skipped with a message), fast sync timings, and polling.
 */
import { connect } from "node:net";
import type { HubConfig } from "../config/config.js";
import type { TestHub } from "./hub-fixture.js";
import type { SyncPolicy } from "../config/sync-policy.js";

export const MOSQUITTO_URL = "mqtt://127.0.0.1:1883";

/** Short timings so failures and retries show within a test's patience. */
export const FAST_SYNC: Partial<SyncPolicy> = {
  requestTimeoutMs: 3_000,
  baseBackoffMs: 100,
  maxBackoffMs: 1_000,
  breakerThreshold: 5,
  breakerCooldownMs: 1_000,
  maxBreakerCooldownMs: 2_000,
  reconcileEveryMs: 1_000,
  stateEveryMs: 1_000,
  checkpointAckEveryMs: 500,
  heartbeatEveryMs: 1_000,
  offlineAlertAfterMs: 1_000,
};

export interface BrokerTarget {
  readonly name: "embedded" | "mosquitto";
  readonly hubConfig: Partial<HubConfig>;
  /** Where a virtual lock connects for this hub. */
  lockUrl(t: TestHub): string;
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function brokerTargets(): Promise<BrokerTarget[]> {
  const embedded: BrokerTarget = {
    name: "embedded",
    hubConfig: { mqttPort: 0, host: "127.0.0.1" },
    lockUrl: (t) => `mqtt://127.0.0.1:${t.hub.gateway.broker?.port ?? 0}`,
  };
  if (!(await reachable("127.0.0.1", 1883))) {
    if (process.env.CI === "true")
      throw new Error("Mosquitto is not reachable on 127.0.0.1:1883 (required under CI=true)");
    console.warn(
      "sync tests: Mosquitto not reachable on 127.0.0.1:1883; running with the embedded broker only",
    );
    return [embedded];
  }
  return [
    embedded,
    { name: "mosquitto", hubConfig: { broker: MOSQUITTO_URL }, lockUrl: () => MOSQUITTO_URL },
  ];
}

/** Polls `check` until it holds (every 50 ms, up to `timeoutMs`). */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
