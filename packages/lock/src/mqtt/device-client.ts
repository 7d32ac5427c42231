/**
 * The lock's side of the gateway: an MQTT client that carries channel frames on the lock's own
 * topics. Used by the virtual lock and by tests; a firmware port does the same with its own MQTT
 * stack. A commissioned lock logs in with its LockId and the broker password it received at
 * commissioning and announces itself on its retained `status` topic (its will says offline); a
 * lock being commissioned logs in as "latchkey-commissioning" (with that login's public password,
 * for brokers that refuse a user without one) under a fresh random session id.
 */
import { randomBytes } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import type { LockId } from "@latchkey/protocol";
import { COMMISSIONING_PASSWORD, COMMISSIONING_USERNAME } from "./commissioning-login.js";
import { DEFAULT_MAX_FRAME_BYTES, FrameCounters, MqttFrameTransport, TopicRouter } from "./mqtt-transport.js";
import { redactBrokerUrl, subscribeAll, whenConnected } from "./mqtt-connect.js";
import { STATUS_OFFLINE, STATUS_ONLINE, TopicScheme } from "./topics.js";

export interface DeviceClientOptions {
  /** mqtt://host:port, mqtts://…, or ws(s)://hub:port/mqtt for the embedded broker. */
  readonly url: string;
  readonly topicPrefix?: string;
  readonly maxFrameBytes?: number;
  /** mqtt.js reconnect period (default 1000 ms). */
  readonly reconnectPeriodMs?: number;
  readonly connectTimeoutMs?: number;
}

export class DeviceMqttClient {
  readonly counters = new FrameCounters();
  private readonly router: TopicRouter;
  private active: MqttFrameTransport | null = null;
  /**
   * The transport that listens from before the subscription: the hub opens its session as soon as
   * the lock subscribes, and that first frame can arrive in the same read as the SUBACK, before
   * the caller has asked for a transport. It holds such frames until a handler is set.
   */
  private first: MqttFrameTransport | null;

  private constructor(
    readonly client: MqttClient,
    private readonly sendTopic: string,
    private readonly receiveTopic: string,
    private readonly statusTopic: string | null,
    private readonly maxFrameBytes: number,
  ) {
    this.router = new TopicRouter(client);
    this.first = this.newTransport();
    this.active = this.first;
    client.on("end", () => this.active?.end());
    client.on("error", () => {}); // reconnects by itself; a refusal at start is reported by connect
  }

  /** A commissioned lock: user name and client id are its LockId. */
  static async connectLock(
    options: DeviceClientOptions & { readonly lockId: LockId; readonly password: string },
  ): Promise<DeviceMqttClient> {
    const scheme = new TopicScheme(options.topicPrefix);
    const status = scheme.lockStatus(options.lockId);
    const client = mqtt.connect(options.url, {
      ...clientDefaults(options),
      clientId: options.lockId,
      username: options.lockId,
      password: options.password,
      will: { topic: status, payload: Buffer.from(STATUS_OFFLINE), qos: 1, retain: true },
    });
    const device = new DeviceMqttClient(
      client,
      scheme.lockUp(options.lockId),
      scheme.lockDown(options.lockId),
      status,
      options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    );
    return device.ready(options);
  }

  /** A lock waiting to be commissioned, under a random session id (or the one given). */
  static async connectCommissioning(
    options: DeviceClientOptions & { readonly sessionId?: string },
  ): Promise<DeviceMqttClient & { readonly sessionId: string }> {
    const scheme = new TopicScheme(options.topicPrefix);
    const sessionId = options.sessionId ?? `c${randomBytes(16).toString("hex")}`;
    const client = mqtt.connect(options.url, {
      ...clientDefaults(options),
      clientId: sessionId,
      username: COMMISSIONING_USERNAME,
      password: COMMISSIONING_PASSWORD,
    });
    const device = new DeviceMqttClient(
      client,
      scheme.commissionUp(sessionId),
      scheme.commissionDown(sessionId),
      null,
      options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    );
    await device.ready(options);
    return Object.assign(device, { sessionId });
  }

  /** A transport on this client's topics for one channel session; replaces (ends) the previous one. */
  transport(): MqttFrameTransport {
    const first = this.first;
    this.first = null;
    if (first !== null && !first.isClosed) return first;
    this.active?.end();
    const transport = this.newTransport();
    this.active = transport;
    return transport;
  }

  private newTransport(): MqttFrameTransport {
    return new MqttFrameTransport(this.router, this.sendTopic, this.receiveTopic, {
      maxFrameBytes: this.maxFrameBytes,
      counters: this.counters,
    });
  }

  /** Says offline (a clean disconnect sends no will), then disconnects. */
  async close(): Promise<void> {
    if (this.statusTopic !== null && this.client.connected) {
      await this.client
        .publishAsync(this.statusTopic, Buffer.from(STATUS_OFFLINE), { qos: 1, retain: true })
        .catch(() => undefined);
    }
    this.active?.end();
    await this.client.endAsync(!this.client.connected);
  }

  private async ready(options: DeviceClientOptions): Promise<this> {
    const where = redactBrokerUrl(options.url);
    await whenConnected(this.client, where, options.connectTimeoutMs ?? 10_000);
    try {
      await subscribeAll(this.client, [this.receiveTopic], where);
      if (this.statusTopic !== null) {
        const online = () =>
          void this.client
            .publishAsync(this.statusTopic ?? "", Buffer.from(STATUS_ONLINE), { qos: 1, retain: true })
            .catch(() => undefined);
        online();
        this.client.on("connect", online); // after every reconnect
      }
    } catch (e) {
      await this.client.endAsync(true);
      throw e;
    }
    return this;
  }
}

function clientDefaults(options: DeviceClientOptions) {
  return {
    clean: true,
    resubscribe: true,
    protocolVersion: 4 as const,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
  };
}
