/** Connecting an mqtt.js client and waiting for the broker's answer, with a stable error on failure. */
import { LatchkeyError } from "@latchkey/protocol";
import type { MqttClient } from "mqtt";

/** Resolves once `client` is connected; on refusal or timeout ends it and throws HUB_GATEWAY_BROKER_UNAVAILABLE. */
export function whenConnected(client: MqttClient, where: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string, cause?: unknown) => {
      cleanup();
      client.end(true);
      reject(
        new LatchkeyError("HUB_GATEWAY_BROKER_UNAVAILABLE", `MQTT broker ${where}: ${reason}`, undefined, {
          cause,
        }),
      );
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const onError = (e: Error & { code?: unknown }) =>
      fail(typeof e.code === "number" ? `connection refused (CONNACK code ${e.code})` : "cannot connect", e);
    const cleanup = () => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("error", onError);
    };
    client.on("connect", onConnect);
    client.on("error", onError);
  });
}

/** Subscribes with QoS 1 and returns the granted QoS per filter (128 = refused by the broker). */
export async function grantedQos(client: MqttClient, filters: readonly string[]): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync([...filters], { qos: 1 });
    return granted.map((g) => g.qos);
  } catch (e) {
    // mqtt.js rejects when any filter was refused; the SUBACK still says which.
    const packet = (e as { packet?: { granted?: unknown } }).packet;
    if (Array.isArray(packet?.granted)) return packet.granted.map((g) => (typeof g === "number" ? g : 128));
    throw e;
  }
}

/** Subscribes with QoS 1; throws HUB_GATEWAY_BROKER_UNAVAILABLE when the broker refuses a filter. */
export async function subscribeAll(
  client: MqttClient,
  filters: readonly string[],
  where: string,
): Promise<void> {
  let granted: number[];
  try {
    granted = await grantedQos(client, filters);
  } catch (e) {
    throw new LatchkeyError(
      "HUB_GATEWAY_BROKER_UNAVAILABLE",
      `MQTT broker ${where}: subscribing failed`,
      undefined,
      {
        cause: e,
      },
    );
  }
  if (granted.length !== filters.length || granted.some((q) => q === 128)) {
    throw new LatchkeyError("HUB_GATEWAY_BROKER_UNAVAILABLE", `MQTT broker ${where} refused a subscription`);
  }
}

/** A broker URL for logs: scheme, host and port only (never the user name or password). */
export function redactBrokerUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
