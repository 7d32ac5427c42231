/**
 * The hub's device gateway: the MQTT side of every hub↔lock conversation. It runs the embedded
 * broker (or connects to an external one), keeps one MQTT client for the hub, hands out one
 * `MqttFrameTransport` per lock (a `SecureConnection` runs over it unchanged), and passes on hints
 * of which locks are there: the embedded broker's own connect/disconnect events, or, with an
 * external broker, a lock's `status` message saying online. These are hints only — anyone who can
 * publish on the broker can forge a status — so they never decide presence: the sync engine
 * shows a lock online only while its authenticated session answers. A status saying offline
 * (and the will message, which says the same) is ignored.
 */
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import mqtt, { MqttClient } from "mqtt";
import { LatchkeyError, type LockId } from "@latchkey/protocol";
import { EmbeddedBroker } from "./embedded-broker.js";
import { HUB_USERNAME } from "./broker-policy.js";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameCounters,
  isLockId,
  MqttFrameTransport,
  redactBrokerUrl,
  subscribeAll,
  TopicRouter,
  TopicScheme,
  whenConnected,
} from "@latchkey/lock/mqtt";
import { timingSafeEqual } from "node:crypto";

export interface DeviceGatewayOptions {
  /** An external broker (mqtt://, mqtts://, ws://, wss://); absent: the embedded broker. */
  readonly brokerUrl?: string;
  /** Embedded broker: serve MQTT over WebSocket on this server at `/mqtt`. */
  readonly httpServer?: HttpServer;
  /** Embedded broker: the browser origin allowed on the WebSocket (others are refused). */
  readonly allowedOrigin?: string;
  /** Embedded broker: an opt-in raw MQTT TCP listener (port 0 = any free port). */
  readonly mqttTcp?: { readonly host: string; readonly port: number };
  /** Topic prefix (default "latchkey/v1"); tests use a unique one per run. */
  readonly topicPrefix?: string;
  /** Largest frame carried, in both directions (default 65,535, the channel's limit). */
  readonly maxFrameBytes?: number;
  /** Derives a lock's broker password (e.g. a keyed hash of its LockId under the hub secret). */
  deriveLockPassword(lockId: LockId): string;
  /** Locks already commissioned (admitted to the embedded broker from the start). */
  readonly admittedLocks?: Iterable<LockId>;
  /**
   * Whether not-yet-commissioned locks may connect (default true), how many at once (default 4),
   * and how many of those from one network address (embedded broker; default 4).
   */
  readonly commissioning?: {
    readonly open: boolean;
    readonly maxClients?: number;
    readonly maxClientsPerSource?: number;
  };
  /** mqtt.js reconnect period for the hub's client (default 1000 ms). */
  readonly reconnectPeriodMs?: number;
  /** How long `start()` waits for an external broker (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Where noteworthy events go (pino-compatible); never receives secrets. */
  readonly log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface DeviceGatewayEvents {
  /** A hint that the lock is there (broker connect, or a status message): worth trying a session. */
  lockConnected: [lockId: LockId];
  /** The embedded broker lost the lock's connection (a hint; it decides nothing by itself). */
  lockDisconnected: [lockId: LockId];
  /** A lock sent a frame while no transport was open for it (it initiates a session). */
  session: [lockId: LockId, transport: MqttFrameTransport];
  /** A not-yet-commissioned lock sent its first frame. */
  commissioning: [sessionId: string, transport: MqttFrameTransport];
}

export const LOCKS_CONNECTED_METRIC = "latchkey_locks_connected";

export class DeviceGateway extends EventEmitter<DeviceGatewayEvents> {
  readonly scheme: TopicScheme;
  readonly counters = new FrameCounters();
  readonly maxFrameBytes: number;
  /** The embedded broker, or null with an external one. */
  readonly broker: EmbeddedBroker | null;
  private client: MqttClient | null = null;
  private router: TopicRouter | null = null;
  private readonly admitted = new Set<LockId>();
  private readonly connected = new Map<LockId, number>();
  private readonly lockTransports = new Map<LockId, MqttFrameTransport>();
  private readonly commissioningTransports = new Map<string, MqttFrameTransport>();
  private state: "new" | "running" | "closed" = "new";

  constructor(private readonly options: DeviceGatewayOptions) {
    super();
    this.scheme = new TopicScheme(options.topicPrefix);
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    for (const id of options.admittedLocks ?? []) this.admitted.add(id);
    const commissioning = options.commissioning ?? { open: true };
    this.broker =
      options.brokerUrl === undefined
        ? new EmbeddedBroker({
            scheme: this.scheme,
            maxFrameBytes: this.maxFrameBytes,
            counters: this.counters,
            isLockPassword: (lockId, password) =>
              this.admitted.has(lockId) &&
              sameBytes(password, Buffer.from(options.deriveLockPassword(lockId))),
            commissioningOpen: () => commissioning.open,
            maxCommissioningClients: commissioning.maxClients ?? 4,
            maxCommissioningClientsPerSource: commissioning.maxClientsPerSource ?? 4,
            ...(options.httpServer === undefined ? {} : { httpServer: options.httpServer }),
            ...(options.allowedOrigin === undefined ? {} : { allowedOrigin: options.allowedOrigin }),
            ...(options.mqttTcp === undefined ? {} : { tcp: options.mqttTcp }),
            onLockOnline: (id) => this.presence(id, +1),
            onLockOffline: (id) => this.presence(id, -1),
            onViolation: (what, clientId) => options.log?.warn({ what, clientId }, "MQTT client refused"),
          })
        : null;
  }

  get mode(): "embedded" | "external" {
    return this.broker === null ? "external" : "embedded";
  }

  async start(): Promise<void> {
    if (this.state !== "new")
      throw new LatchkeyError("HUB_GATEWAY_NOT_RUNNING", "gateway was already started");
    this.state = "running";
    try {
      await this.broker?.start();
      const client = this.createHubClient();
      this.client = client;
      const router = new TopicRouter(client);
      this.router = router;
      router.onUnrouted((topic, payload, retained) => this.unrouted(topic, payload, retained));
      const where =
        this.options.brokerUrl === undefined ? "(embedded)" : redactBrokerUrl(this.options.brokerUrl);
      await whenConnected(client, where, this.options.connectTimeoutMs ?? 10_000);
      client.on("error", (e) =>
        this.options.log?.warn({ err: e.message, broker: where }, "MQTT client error"),
      );
      client.on("offline", () =>
        this.options.log?.warn({ broker: where }, "MQTT broker unreachable; reconnecting"),
      );
      if (this.broker === null) client.on("close", () => this.forgetExternalPresence());
      await subscribeAll(client, this.scheme.hubSubscriptions(), where);
      this.options.log?.info({ broker: where, topicPrefix: this.scheme.prefix }, "device gateway started");
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const t of [...this.lockTransports.values(), ...this.commissioningTransports.values()]) t.end();
    const client = this.client;
    this.client = null;
    if (client !== null) await client.endAsync(true);
    await this.broker?.stop();
    for (const id of [...this.connected.keys()]) this.setOffline(id);
  }

  /** Commissioned locks allowed on the embedded broker; returns the lock's broker credential. */
  admitLock(lockId: LockId): { username: string; password: string } {
    if (!isLockId(lockId)) {
      throw new LatchkeyError("HUB_GATEWAY_TOPIC_INVALID", "lockId must be 32 lower-case hex characters");
    }
    this.admitted.add(lockId);
    return { username: lockId, password: this.options.deriveLockPassword(lockId) };
  }

  /** Refuses the lock from now on and disconnects it (embedded broker). */
  revokeLock(lockId: LockId): void {
    this.admitted.delete(lockId);
    this.broker?.disconnectLock(lockId);
    this.lockTransports.get(lockId)?.end();
  }

  /** Locks the broker hints are there (not presence: see the sync engine). */
  connectedLocks(): LockId[] {
    return [...this.connected.keys()].sort();
  }

  /** Whether the broker hints the lock is there (not presence: see the sync engine). */
  isConnected(lockId: LockId): boolean {
    return this.connected.has(lockId);
  }

  /** A transport to `lockId` (hub side: publishes on its `down`, receives its `up`); replaces any open one. */
  openLockTransport(lockId: LockId): MqttFrameTransport {
    const router = this.requireRouter();
    this.lockTransports.get(lockId)?.end();
    const transport = new MqttFrameTransport(
      router,
      this.scheme.lockDown(lockId),
      this.scheme.lockUp(lockId),
      {
        maxFrameBytes: this.maxFrameBytes,
        counters: this.counters,
        onHandlerError: (e) => this.options.log?.warn({ err: String(e), lockId }, "frame handler failed"),
      },
    );
    this.lockTransports.set(lockId, transport);
    transport.onClose(() => {
      if (this.lockTransports.get(lockId) === transport) this.lockTransports.delete(lockId);
    });
    return transport;
  }

  /** A transport to a lock being commissioned, keyed by its random session id. */
  openCommissioningTransport(sessionId: string): MqttFrameTransport {
    const router = this.requireRouter();
    this.commissioningTransports.get(sessionId)?.end();
    const transport = new MqttFrameTransport(
      router,
      this.scheme.commissionDown(sessionId),
      this.scheme.commissionUp(sessionId),
      { maxFrameBytes: this.maxFrameBytes, counters: this.counters },
    );
    this.commissioningTransports.set(sessionId, transport);
    transport.onClose(() => {
      if (this.commissioningTransports.get(sessionId) === transport)
        this.commissioningTransports.delete(sessionId);
    });
    return transport;
  }

  private requireRouter(): TopicRouter {
    if (this.state !== "running" || this.router === null) {
      throw new LatchkeyError("HUB_GATEWAY_NOT_RUNNING", "the device gateway is not running");
    }
    return this.router;
  }

  private createHubClient(): MqttClient {
    const common = {
      clientId: `latchkey-hub-${randomBytes(8).toString("hex")}`,
      clean: true,
      reconnectPeriod: this.options.reconnectPeriodMs ?? 1000,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      resubscribe: true,
      // No table of 65,536 pre-made two-byte Buffers (~6 MiB): the setting is mqtt-packet's, so
      // it holds for the embedded broker's packets too; the hub sends too few to need it.
      writeCache: false,
    };
    const broker = this.broker;
    if (broker === null) return mqtt.connect(this.options.brokerUrl ?? "", common);
    return new MqttClient(() => broker.connectInMemory(), {
      ...common,
      username: HUB_USERNAME,
      password: broker.hubPassword,
      protocolVersion: 4,
    });
  }

  private unrouted(topic: string, payload: Uint8Array, retained: boolean): void {
    const parsed = this.scheme.parse(topic);
    if (parsed?.kind === "lock" && parsed.channel === "status") {
      // Unauthenticated: "online" is a hint to try a session (every time: the lock may have
      // restarted); "offline" and the will are ignored, so a forged byte cannot hide a lock.
      if (this.broker === null && payload.byteLength === 1 && payload[0] === 1) {
        this.connected.set(parsed.lockId, 1);
        this.emit("lockConnected", parsed.lockId);
      }
      return;
    }
    if (parsed === null || parsed.channel !== "up" || this.state !== "running") {
      this.counters.unroutedDropped++;
      return;
    }
    if (retained) {
      // A retained frame is replayed to every new subscriber: never start a session from one.
      this.counters.retainedDropped++;
      return;
    }
    if (parsed.kind === "lock") {
      if (this.listenerCount("session") === 0) {
        this.counters.unroutedDropped++;
        return;
      }
      const transport = this.openLockTransport(parsed.lockId);
      this.emit("session", parsed.lockId, transport);
      transport.receive(payload, retained);
    } else {
      if (this.listenerCount("commissioning") === 0) {
        this.counters.unroutedDropped++;
        return;
      }
      const transport = this.openCommissioningTransport(parsed.sessionId);
      this.emit("commissioning", parsed.sessionId, transport);
      transport.receive(payload, retained);
    }
  }

  /** Counts connections per lock (a reconnect can overlap its old connection's disconnect). */
  private presence(lockId: LockId, delta: 1 | -1): void {
    const before = this.connected.get(lockId) ?? 0;
    const after = Math.max(0, before + delta);
    if (after === 0) {
      this.setOffline(lockId);
      return;
    }
    this.connected.set(lockId, after);
    if (before === 0) this.emit("lockConnected", lockId);
  }

  private setOffline(lockId: LockId): void {
    if (!this.connected.delete(lockId)) return;
    this.emit("lockDisconnected", lockId);
  }

  /** Without our own connection to the external broker we cannot know who is there. */
  private forgetExternalPresence(): void {
    for (const id of [...this.connected.keys()]) this.setOffline(id);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
