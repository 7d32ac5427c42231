/**
 * One simulated lock for `latchkey sim`: a `VirtualLock` (file journal in its own directory, so it
 * survives a restart of the sim process) that speaks the real protocol to a hub over MQTT.
 *
 *  - Not commissioned: connects as a commissioning client under a random session id, serves the
 *    lock's endpoint on that session's topics and announces itself (`CommAnnounce`) at once and
 *    every `announceEveryMs` until commissioned. While a hub is talking to it (a frame arrived in
 *    the last few seconds) it keeps quiet, so an announcement never lands in the middle of the
 *    PAKE exchange.
 *  - Commissioned (at start, or as soon as the hub commissioned it): connects as itself — client
 *    id and user name its LockId, password derived from the keys exchanged at commissioning — and
 *    serves the endpoint on its own topics; its retained status says online, its will offline.
 *  - A factory reset sends it back to commissioning.
 *
 * mqtt.js reconnects by itself and the transport survives reconnects; a connection the broker
 * refuses (a lock not yet admitted, too many commissioning clients) is retried with backoff.
 * The setup code is known only on a lock's very first start, so it is kept (0600) in the lock's
 * directory as `setup-code`; it is a secret and never logged.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventKind, LatchkeyError, type FrameTransport, type LockId } from "@latchkey/protocol";
import {
  VirtualLock,
  type LockCommissioningOptions,
  type LockEndpointOptions,
  type LockRuntime,
} from "@latchkey/lock";
import { DeviceMqttClient } from "@latchkey/lock/mqtt";

/** The file in a lock's directory holding its setup code (0600). */
export const SETUP_CODE_FILE = "setup-code";

export type SimLockState = "waiting" | "connecting" | "connected" | "stopped";

export interface SimLockOptions {
  /** The lock's state directory (created on first start). */
  readonly dir: string;
  /** The broker: ws(s)://hub:port/mqtt (the hub's embedded broker) or mqtt(s)://host:port. */
  readonly url: string;
  readonly topicPrefix?: string;
  /** The lock's clock at first start (default now; null = time unknown). */
  readonly wallMs?: number | null;
  /** A new lock's setup code / PBKDF2 cost (tests use few iterations). */
  readonly commissioning?: LockCommissioningOptions;
  readonly endpoint?: LockEndpointOptions;
  /** How often a lock waiting for commissioning announces itself (default 2000 ms). */
  readonly announceEveryMs?: number;
  /** mqtt.js reconnect period (default 1000 ms). */
  readonly reconnectPeriodMs?: number;
  readonly connectTimeoutMs?: number;
  /** Longest wait between attempts after the broker refused a connection (default 30 s). */
  readonly maxRetryMs?: number;
  /**
   * How long the lock waits after its last commissioning reply before reconnecting with its own
   * login (default 100 ms; tests widen it to play a slow lock).
   */
  readonly switchDelayMs?: number;
  /** The virtual clock follows real time, advanced every this many ms (default 1000; 0 = never). */
  readonly clockTickMs?: number;
  /** Called whenever `state` or `isCommissioned` may have changed. */
  readonly onChange?: (lock: SimLock) => void;
}

type Connection = { readonly mode: "commissioning" | "lock"; readonly device: DeviceMqttClient };

/** After a frame from the hub, announcements pause this long (a commissioning exchange is running). */
const QUIET_AFTER_FRAME_MS = 3_000;
/** Between the lock's last commissioning reply and closing that connection. */
const SWITCH_DELAY_MS = 100;

export class SimLock {
  readonly lock: VirtualLock;
  readonly dir: string;
  readonly #options: SimLockOptions;
  readonly #setupCode: string | null;
  #connection: Connection | null = null;
  #stopped = false;
  #busy = false;
  #again = false;
  #failures = 0;
  #lastError: Error | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #switchTimer: ReturnType<typeof setTimeout> | null = null;
  #announceTimer: ReturnType<typeof setInterval> | null = null;
  #clockTimer: ReturnType<typeof setInterval> | null = null;
  #lastFrameAt = 0;
  #watched: LockRuntime | null = null;
  #unwatch: (() => void) | null = null;
  #lastState: SimLockState | null = null;
  #lastCommissioned: boolean | null = null;
  readonly #waiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();

  private constructor(options: SimLockOptions) {
    this.#options = options;
    this.dir = options.dir;
    this.lock = VirtualLock.start({
      dir: options.dir,
      ...(options.wallMs === undefined ? {} : { wallMs: options.wallMs }),
      ...(options.commissioning === undefined ? {} : { commissioning: options.commissioning }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    });
    this.#setupCode = keepSetupCode(options.dir, this.lock.setupCode);
    this.#watchRuntime();
    const tick = options.clockTickMs ?? 1000;
    if (tick > 0) {
      let last = Date.now();
      const timer = setInterval(() => {
        const now = Date.now();
        const elapsed = Math.max(0, now - last);
        last = now;
        this.#watchRuntime();
        try {
          this.lock.advance(elapsed);
        } catch {
          // A timer of a powered-off runtime; nothing to do.
        }
      }, tick);
      timer.unref();
      this.#clockTimer = timer;
    }
  }

  /**
   * Starts the lock from its directory and makes its first connection attempt (resolves either
   * way; a refused or unreachable broker is retried in the background — see `lastError`).
   */
  static async start(options: SimLockOptions): Promise<SimLock> {
    const sim = new SimLock(options);
    await sim.#run();
    return sim;
  }

  /** The lock's id (lower-case hex of 16 bytes): its MQTT client id once commissioned. */
  get lockId(): LockId {
    return this.lock.runtime.lockId;
  }

  /** The code printed on the lock's label (kept from its first start); a secret. */
  get setupCode(): string | null {
    return this.#setupCode;
  }

  get isCommissioned(): boolean {
    return !this.#stopped && this.lock.runtime.commissioning.isCommissioned;
  }

  /**
   * waiting: not commissioned, online on its commissioning topics and announcing itself;
   * connecting: no MQTT connection up (starting, refused, broker unreachable, switching modes);
   * connected: commissioned and online as itself; stopped: after `stop()` / `kill()`.
   */
  get state(): SimLockState {
    if (this.#stopped) return "stopped";
    const c = this.#connection;
    if (c === null || !c.device.client.connected) return "connecting";
    return c.mode === "lock" ? "connected" : "waiting";
  }

  /** The last connection failure (null after a successful connection); never holds a secret. */
  get lastError(): Error | null {
    return this.#lastError;
  }

  /** The MQTT client in use (tests), or null while none is. */
  get device(): DeviceMqttClient | null {
    return this.#connection?.device ?? null;
  }

  /** Resolves once the lock is commissioned and online as itself. */
  whenConnected(): Promise<void> {
    if (this.state === "connected") return Promise.resolve();
    if (this.#stopped) return Promise.reject(stoppedError());
    return new Promise((resolve, reject) => this.#waiters.add({ resolve, reject }));
  }

  /** Says offline, disconnects cleanly (no will) and shuts the lock's runtime down. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#halt();
    const c = this.#connection;
    this.#connection = null;
    if (c !== null) await c.device.close().catch(() => undefined);
    this.lock.runtime.shutdown();
    this.#changed();
  }

  /** Drops the MQTT connection without a DISCONNECT (the broker publishes the will), for tests. */
  kill(): void {
    if (this.#stopped) return;
    this.#halt();
    const c = this.#connection;
    this.#connection = null;
    if (c !== null) {
      c.device.client.stream.destroy();
      c.device.client.end(true);
    }
    this.lock.runtime.shutdown();
    this.#changed();
  }

  #halt(): void {
    this.#stopped = true;
    for (const t of [this.#retryTimer, this.#switchTimer]) if (t !== null) clearTimeout(t);
    for (const t of [this.#announceTimer, this.#clockTimer]) if (t !== null) clearInterval(t);
    this.#retryTimer = this.#switchTimer = this.#announceTimer = this.#clockTimer = null;
    this.#unwatch?.();
    this.#unwatch = null;
  }

  // ---------------------------------------------------------------- the connection loop

  #wanted(): Connection["mode"] {
    return this.lock.runtime.commissioning.isCommissioned ? "lock" : "commissioning";
  }

  /** Brings the connection in line with the lock's commissioning state (one pass at a time). */
  async #run(): Promise<void> {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    try {
      do {
        this.#again = false;
        if (this.#stopped) return;
        const want = this.#wanted();
        if (this.#connection?.mode === want) continue;
        await this.#disconnect();
        if (this.#stopped) return;
        try {
          this.#connection = await this.#connect(want);
          this.#failures = 0;
          this.#lastError = null;
          if (this.#stopped) {
            await this.#disconnect();
            return;
          }
        } catch (e) {
          this.#lastError = e instanceof Error ? e : new Error(String(e));
          if (this.#stopped) return;
          this.#retryLater();
          return;
        } finally {
          this.#changed();
        }
      } while (this.#again);
    } finally {
      this.#busy = false;
    }
  }

  #kick(delayMs = 0): void {
    if (this.#stopped) return;
    if (delayMs === 0) {
      void this.#run();
      return;
    }
    if (this.#switchTimer !== null) return;
    this.#switchTimer = setTimeout(() => {
      this.#switchTimer = null;
      void this.#run();
    }, delayMs);
  }

  #retryLater(): void {
    this.#failures++;
    const cap = this.#options.maxRetryMs ?? 30_000;
    const base = Math.min(cap, 500 * 2 ** Math.min(this.#failures, 16));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#run();
    }, delay);
  }

  async #connect(mode: Connection["mode"]): Promise<Connection> {
    const o = this.#options;
    const common = {
      url: o.url,
      ...(o.topicPrefix === undefined ? {} : { topicPrefix: o.topicPrefix }),
      ...(o.reconnectPeriodMs === undefined ? {} : { reconnectPeriodMs: o.reconnectPeriodMs }),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
    };
    let device: DeviceMqttClient;
    if (mode === "lock") {
      const password = this.lock.runtime.commissioning.brokerPassword();
      if (password === null) throw new LatchkeyError("LOCK_NOT_COMMISSIONED", "the lock is not commissioned");
      device = await DeviceMqttClient.connectLock({ ...common, lockId: this.lockId, password });
    } else {
      device = await DeviceMqttClient.connectCommissioning(common);
    }
    const client = device.client;
    client.on("connect", () => this.#changed());
    client.on("close", () => this.#changed());
    const transport = this.#observed(device.transport());
    this.lock.endpoint.accept(transport);
    if (mode === "commissioning") {
      this.#lastFrameAt = 0;
      this.#announce(device, transport);
      const timer = setInterval(() => this.#announce(device, transport), o.announceEveryMs ?? 2000);
      timer.unref();
      this.#announceTimer = timer;
    }
    return { mode, device };
  }

  async #disconnect(): Promise<void> {
    if (this.#announceTimer !== null) clearInterval(this.#announceTimer);
    this.#announceTimer = null;
    const c = this.#connection;
    this.#connection = null;
    if (c !== null) await c.device.close().catch(() => undefined);
  }

  #announce(device: DeviceMqttClient, transport: FrameTransport): void {
    if (this.#stopped || this.#wanted() !== "commissioning") return;
    if (Date.now() - this.#lastFrameAt < QUIET_AFTER_FRAME_MS) return;
    // While offline, QoS 1 messages would queue up: skip this one, the next will go.
    if (!device.client.connected) return;
    const frame = this.lock.endpoint.announcement();
    if (frame !== null) transport.send(frame);
  }

  /** The transport as the endpoint sees it, noting each frame from the hub and what it changed. */
  #observed(inner: FrameTransport): FrameTransport {
    return {
      send: (frame) => inner.send(frame),
      // Over MQTT a session's end is not the carrier's: the lock keeps listening on its topic, and
      // the hub's next handshake opens a new session on it.
      close: () => undefined,
      onClose: (handler) => inner.onClose(handler),
      onFrame: (handler) =>
        inner.onFrame((frame) => {
          this.#lastFrameAt = Date.now();
          handler(frame);
          this.#reconcile();
        }),
    };
  }

  /** Switches connection when the lock's commissioning state no longer matches it. */
  #reconcile(): void {
    if (this.#stopped) return;
    this.#watchRuntime();
    const want = this.#wanted();
    if (this.#connection !== null && this.#connection.mode !== want) {
      // Let the lock's last reply (e.g. the final commissioning message) leave first.
      this.#kick(this.#options.switchDelayMs ?? SWITCH_DELAY_MS);
    }
    this.#changed();
  }

  /** Follows the runtime's journal (a restart of the virtual lock brings a new runtime). */
  #watchRuntime(): void {
    const rt = this.lock.runtime;
    if (this.#watched === rt || this.#stopped) return;
    this.#unwatch?.();
    this.#watched = rt;
    this.#unwatch = rt.onEvent((e) => {
      if (e.kind === EventKind.Commissioned || e.kind === EventKind.FactoryReset) {
        // The event is journaled before the change completes: look once it has.
        setTimeout(() => this.#reconcile(), 0);
      }
    });
    if (this.#connection !== null) this.#reconcile();
  }

  #changed(): void {
    const state = this.state;
    const commissioned = this.isCommissioned;
    if (state === this.#lastState && commissioned === this.#lastCommissioned) return;
    this.#lastState = state;
    this.#lastCommissioned = commissioned;
    if (state === "connected" || state === "stopped") {
      for (const w of [...this.#waiters]) {
        this.#waiters.delete(w);
        if (state === "connected") w.resolve();
        else w.reject(stoppedError());
      }
    }
    this.#options.onChange?.(this);
  }
}

function stoppedError(): LatchkeyError {
  return new LatchkeyError("LOCK_POWERED_OFF", "the simulated lock was stopped");
}

/** Writes the first start's setup code to the lock's directory (0600), or reads it back later. */
function keepSetupCode(dir: string, fresh: string | null): string | null {
  const file = join(dir, SETUP_CODE_FILE);
  if (fresh !== null) {
    writeFileSync(file, fresh + "\n", { mode: 0o600 });
    chmodSync(file, 0o600);
    return fresh;
  }
  try {
    const code = readFileSync(file, "utf8").trim();
    return code === "" ? null : code;
  } catch {
    return null;
  }
}
