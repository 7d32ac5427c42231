/**
 * The Home Assistant bridge: one mqtt.js connection that announces each door to HA through MQTT
 * discovery (discovery.ts), keeps the doors' states on retained topics and turns HA's lock
 * commands into calls of the injected `onCommand`.
 *
 * Availability: the connection's Last Will is "offline" (retained) on `<base>/status`, and
 * "online" is published (retained) on every connect, so HA marks every door unavailable when
 * the hub goes away (MQTT 3.1.1 §3.1.2.5 Will Flag). Each door also has its own availability,
 * "offline" while its lock is disconnected.
 *
 * Unlocking: "UNLOCK" for a door whose `allowUnlock` is false is refused here, before the hub is
 * asked (see discovery.ts for why HA still shows an unlock button). Nothing is logged; the
 * optional `onCommandResult` observer hears every outcome, and the door's state is published
 * again after each command so HA shows what the lock really did.
 */
import { randomBytes } from "node:crypto";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { LatchkeyError } from "@latchkey/protocol";
import { NETWORK_ERRORS, refusedLogin, validateMqttConfig } from "../channels/mqtt.js";
import {
  AVAILABLE,
  LOCK_COMMANDS,
  NOT_AVAILABLE,
  attributesPayload,
  availabilityPayload,
  batteryStatePayload,
  bridgeStatusTopic,
  checkDoorId,
  checkOptions,
  commandSubscription,
  connectivityStatePayload,
  discoveryPayload,
  doorIdOfCommandTopic,
  doorStatePayload,
  doorTopics,
  eventPayload,
  homeAssistantStatusTopic,
  lockStatePayload,
  removalPayload,
  syncStatePayload,
  tamperStatePayload,
  type DiscoveryOptions,
  type DoorEvent,
  type DoorSnapshot,
} from "./discovery.js";

export type { DoorEvent, DoorSnapshot } from "./discovery.js";

export type LockCommand = "lock" | "unlock";

/**
 * What the hub made of a command. `door`: the door's state afterwards, when the hub knows it
 * already (else the hub's next `updateDoor` brings it). `reason` is shown to HA users' owners:
 * words only, never a secret.
 */
export type CommandOutcome =
  | { readonly ok: true; readonly door?: DoorSnapshot | undefined }
  | { readonly ok: false; readonly reason: string };

/** One handled command, for the optional observer (an audit trail, tests). */
export interface CommandResult {
  readonly doorId: string;
  /** null: the payload was not "LOCK" or "UNLOCK". */
  readonly command: LockCommand | null;
  /** "done": the hub carried it out; "refused": not allowed; "failed": the hub tried and could not. */
  readonly outcome: "done" | "refused" | "failed";
  readonly reason: string | null;
}

export interface HomeAssistantBridgeOptions extends DiscoveryOptions {
  /** mqtt://, mqtts://, ws:// or wss://, without credentials. */
  readonly url: string;
  readonly username: string | null;
  readonly password: string | null;
  /** PEM certificate(s) to trust for a broker with a private CA. */
  readonly ca?: string | undefined;
  /** Carries out a lock command from HA. Never called for a refused unlock. */
  readonly onCommand: (doorId: string, command: LockCommand) => Promise<CommandOutcome>;
  readonly onCommandResult?: ((result: CommandResult) => void) | undefined;
  /** How long `start()` waits for the broker; 10 s unless a test wants less. */
  readonly connectTimeoutMs?: number | undefined;
}

const CONNECT_TIMEOUT_MS = 10_000;
const RECONNECT_PERIOD_MS = 5_000;
/** A command payload is "LOCK" or "UNLOCK"; anything longer is not read. */
const MAX_COMMAND_BYTES = 16;

const UNLOCK_DISABLED = "unlocking from Home Assistant is turned off for this door";
const UNKNOWN_COMMAND = "not a lock command";

export class HomeAssistantBridge {
  readonly #options: HomeAssistantBridgeOptions;
  readonly #doors = new Map<string, DoorSnapshot>();
  /** The discovery message last published per door, to republish only when it changes. */
  readonly #announced = new Map<string, string>();
  #client: MqttClient | null = null;
  #stopped = false;

  constructor(options: HomeAssistantBridgeOptions) {
    checkOptions(options);
    // The broker rules of the MQTT channel (URL shape, no credentials in the URL, no password in
    // clear to another machine, ca only with TLS). The topic was checked above.
    validateMqttConfig({
      url: options.url,
      username: options.username,
      password: options.password,
      ca: options.ca,
      topic: options.baseTopic ?? "latchkey",
      retain: false,
    });
    this.#options = options;
  }

  /** Connects, announces the bridge online, listens for commands and announces `doors`. */
  async start(doors: readonly DoorSnapshot[] = []): Promise<void> {
    if (this.#client !== null || this.#stopped) {
      throw new LatchkeyError(
        "HUB_GATEWAY_NOT_RUNNING",
        "the Home Assistant bridge was already started or stopped",
      );
    }
    for (const door of doors) checkDoorId(door.doorId);
    const o = this.#options;
    const status = bridgeStatusTopic(o);
    const clientOptions: IClientOptions = {
      clientId: `latchkey-ha-${randomBytes(6).toString("hex")}`,
      ...(o.username === null ? {} : { username: o.username }),
      ...(o.password === null ? {} : { password: o.password }),
      ...(o.ca === undefined ? {} : { ca: o.ca }),
      rejectUnauthorized: true,
      clean: true,
      connectTimeout: o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      // No reconnects until the first connect succeeded: start() reports that failure instead.
      reconnectPeriod: 0,
      will: { topic: status, payload: Buffer.from(NOT_AVAILABLE), qos: 1, retain: true },
    };
    const client = await connectOnce(o.url, clientOptions);
    this.#client = client;
    client.options.reconnectPeriod = RECONNECT_PERIOD_MS;
    client.on("error", () => {
      // mqtt.js reconnects by itself; an "error" without a listener would crash the process.
    });
    client.on("message", (topic, payload) => void this.#onMessage(topic, payload));
    client.on("connect", () => void this.#announceAll().catch(() => undefined));
    for (const door of doors) this.#doors.set(door.doorId, door);
    await client.subscribeAsync([commandSubscription(o), homeAssistantStatusTopic(o)], { qos: 1 });
    await this.#announceAll();
  }

  /** Publishes a door's discovery (when new or renamed) and its states, all retained. */
  async updateDoor(door: DoorSnapshot): Promise<void> {
    checkDoorId(door.doorId);
    this.#doors.set(door.doorId, door);
    if (this.#client === null) return;
    await this.#announce(door);
  }

  /**
   * Publishes a lock event on the door's event topic (not retained: an event happens once).
   * Returns false when nothing was published: a duress event, or a door HA does not know.
   */
  async publishEvent(doorId: string, event: DoorEvent): Promise<boolean> {
    checkDoorId(doorId);
    const payload = eventPayload(event);
    if (payload === null || !this.#doors.has(doorId)) return false;
    await this.#publish(doorTopics(doorId, this.#options).event, JSON.stringify(payload), false);
    return true;
  }

  /** Removes the door from HA (empty retained config) and clears its retained states. */
  async removeDoor(doorId: string): Promise<void> {
    checkDoorId(doorId);
    this.#doors.delete(doorId);
    this.#announced.delete(doorId);
    const t = doorTopics(doorId, this.#options);
    await this.#publish(t.config, removalPayload(), true);
    // An empty retained message deletes the broker's retained one (MQTT 3.1.1 §3.3.1.3).
    for (const topic of [
      t.lockState,
      t.attributes,
      t.availability,
      t.battery,
      t.door,
      t.tamper,
      t.connectivity,
      t.sync,
    ]) {
      await this.#publish(topic, removalPayload(), true);
    }
  }

  /** Announces the bridge offline (retained) and closes the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const client = this.#client;
    this.#client = null;
    if (client === null) return;
    try {
      if (client.connected) {
        await client.publishAsync(bridgeStatusTopic(this.#options), NOT_AVAILABLE, { qos: 1, retain: true });
      }
    } finally {
      await client.endAsync(false).catch(() => client.end(true));
    }
  }

  async #announceAll(): Promise<void> {
    const client = this.#client;
    if (client === null) return;
    await client.publishAsync(bridgeStatusTopic(this.#options), AVAILABLE, { qos: 1, retain: true });
    this.#announced.clear();
    for (const door of this.#doors.values()) await this.#announce(door);
  }

  async #announce(door: DoorSnapshot): Promise<void> {
    const t = doorTopics(door.doorId, this.#options);
    const config = JSON.stringify(discoveryPayload(door, this.#options));
    if (this.#announced.get(door.doorId) !== config) {
      await this.#publish(t.config, config, true);
      this.#announced.set(door.doorId, config);
    }
    await this.#publish(t.attributes, attributesPayload(door), true);
    await this.#publish(t.lockState, lockStatePayload(door.bolt), true);
    await this.#publish(t.door, doorStatePayload(door.door), true);
    await this.#publish(t.tamper, tamperStatePayload(door.tamper), true);
    await this.#publish(t.battery, batteryStatePayload(door.batteryPercent), true);
    await this.#publish(t.sync, syncStatePayload(door.syncPending, door.syncFailed), true);
    await this.#publish(t.connectivity, connectivityStatePayload(door.online), true);
    // Last: HA shows the door available only once its states are there.
    await this.#publish(t.availability, availabilityPayload(door.online), true);
  }

  async #onMessage(topic: string, payload: Buffer): Promise<void> {
    const o = this.#options;
    if (topic === homeAssistantStatusTopic(o)) {
      // HA restarted (its birth message): announce everything again, as HA's docs advise.
      if (payload.toString("utf8") === "online") await this.#announceAll().catch(() => undefined);
      return;
    }
    const doorId = doorIdOfCommandTopic(topic, o);
    const door = doorId === null ? undefined : this.#doors.get(doorId);
    if (doorId === null || door === undefined) return;
    const text = payload.length > MAX_COMMAND_BYTES ? "" : payload.toString("utf8");
    const command: LockCommand | null =
      text === LOCK_COMMANDS.lock ? "lock" : text === LOCK_COMMANDS.unlock ? "unlock" : null;
    if (command === null) {
      this.#report({ doorId, command: null, outcome: "refused", reason: UNKNOWN_COMMAND });
      return;
    }
    let result: CommandResult;
    if (command === "unlock" && !door.allowUnlock) {
      result = { doorId, command, outcome: "refused", reason: UNLOCK_DISABLED };
    } else {
      result = await this.#carryOut(doorId, command);
    }
    // Republish the state: after a refusal HA keeps showing the real (unchanged) state.
    const latest = this.#doors.get(doorId);
    if (latest !== undefined && this.#client !== null) await this.#announce(latest).catch(() => undefined);
    this.#report(result);
  }

  async #carryOut(doorId: string, command: LockCommand): Promise<CommandResult> {
    try {
      const outcome = await this.#options.onCommand(doorId, command);
      if (!outcome.ok) return { doorId, command, outcome: "failed", reason: outcome.reason };
      if (outcome.door !== undefined && outcome.door.doorId === doorId) this.#doors.set(doorId, outcome.door);
      return { doorId, command, outcome: "done", reason: null };
    } catch {
      // The error may quote anything (a lock's reply, a credential): only say that it failed.
      return { doorId, command, outcome: "failed", reason: "the hub could not carry out the command" };
    }
  }

  #report(result: CommandResult): void {
    try {
      this.#options.onCommandResult?.(result);
    } catch {
      // An observer's bug must not stop the bridge.
    }
  }

  async #publish(topic: string, payload: string | Buffer, retain: boolean): Promise<void> {
    const client = this.#client;
    if (client === null) return;
    await client.publishAsync(topic, payload, { qos: 1, retain });
  }
}

/** The first connection: resolves once connected, or rejects with a reason free of secrets. */
function connectOnce(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise<MqttClient>((resolve, reject) => {
    const client = mqtt.connect(url, options);
    let lastError: unknown = null;
    let settled = false;
    const settle = (error: unknown): void => {
      if (settled) return;
      settled = true;
      if (error === null) return resolve(client);
      client.end(true);
      reject(
        new LatchkeyError(
          "HUB_GATEWAY_BROKER_UNAVAILABLE",
          `the Home Assistant broker could not be reached (${describeConnectError(error)})`,
        ),
      );
    };
    client.on("error", (error) => {
      lastError = error;
      settle(error);
    });
    client.once("connect", () => settle(null));
    client.once("close", () => settle(lastError ?? new Error("connection closed")));
  });
}

/**
 * A short, fixed-vocabulary reason: a network code, the CONNACK refusal (MQTT 3.1.1 §3.2.2.3:
 * 4 bad user name or password, 5 not authorised; MQTT 5 §3.2.2.2: 0x86, 0x87), or "connection
 * closed". Never the error's own text, which could echo what was sent.
 */
function describeConnectError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (refusedLogin(error)) return "not authorised by the broker";
  if (typeof code === "string") return NETWORK_ERRORS[code] ?? "network error";
  if (typeof code === "number") return `MQTT reason code ${code}`;
  return "connection closed";
}
