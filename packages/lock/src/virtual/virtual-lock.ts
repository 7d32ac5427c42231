/**
 * The virtual lock: the runtime on simulated hardware, scriptable from tests and the demo. Its
 * devices call the runtime's inputs exactly as real drivers would; `restart()` and
 * `powerLoss()` exercise persistence from the state directory.
 */
import type { AttemptResult } from "../access/door-access.js";
import type { JournalFactory } from "../journal/journal-factory.js";
import type { LockCapacity } from "../runtime/lock-runtime.js";
import { LockRuntime } from "../runtime/lock-runtime.js";
import type { LockSettings } from "../settings/settings.js";
import type { TamperKind } from "../hardware/hal.js";
import type { PhoneKeyPolicy } from "../credentials/phone-key.js";
import type { LockCommissioningOptions } from "../commissioning/lock-commissioning.js";
import { LockEndpoint, type LockEndpointOptions } from "../link/endpoint.js";
import { autoMemoryLink, type AutoMemoryLink } from "../link/memory-link.js";
import { listenTcp, type TcpFrameListener } from "@latchkey/protocol/node";
import type { LinkConditions } from "@latchkey/protocol";
import { VirtualClock } from "./virtual-clock.js";
import { VirtualHardware } from "./virtual-hardware.js";
import type { VirtualCard } from "./virtual-card.js";

export interface VirtualLockOptions {
  readonly dir: string;
  /** Default: the file journal in `dir`. */
  readonly journal?: JournalFactory;
  /** Default: a new clock at `wallMs` (null = time unknown). */
  readonly clock?: VirtualClock;
  readonly wallMs?: number | null;
  readonly initialSettings?: Partial<LockSettings>;
  readonly capacity?: Partial<LockCapacity>;
  readonly phoneKeyExtraCheck?: PhoneKeyPolicy["extraCheck"];
  /** A new lock's setup code / PBKDF2 cost / window (tests use few iterations). */
  readonly commissioning?: LockCommissioningOptions;
  /** The network endpoint (WebAuthn relying party for remote unlocks, firmware version). */
  readonly endpoint?: LockEndpointOptions;
}

export class VirtualLock {
  readonly hardware: VirtualHardware;
  #runtime: LockRuntime;
  #endpoint: LockEndpoint | null = null;

  private constructor(
    private readonly opts: VirtualLockOptions,
    hardware: VirtualHardware,
    bootReason: "power-on" | "reset",
  ) {
    this.hardware = hardware;
    this.#runtime = LockRuntime.start({
      dir: opts.dir,
      hardware,
      ...(opts.journal ? { journal: opts.journal } : {}),
      bootReason,
      ...(opts.initialSettings ? { initialSettings: opts.initialSettings } : {}),
      ...(opts.capacity ? { capacity: opts.capacity } : {}),
      ...(opts.phoneKeyExtraCheck ? { phoneKeyExtraCheck: opts.phoneKeyExtraCheck } : {}),
      ...(opts.commissioning ? { commissioning: opts.commissioning } : {}),
    });
  }

  static start(opts: VirtualLockOptions): VirtualLock {
    const clock = opts.clock ?? new VirtualClock(opts.wallMs === undefined ? Date.now() : opts.wallMs);
    return new VirtualLock(opts, new VirtualHardware(clock), "power-on");
  }

  get runtime(): LockRuntime {
    return this.#runtime;
  }
  get clock(): VirtualClock {
    return this.hardware.clock;
  }
  /** The setup code for the label: only on the lock's very first start, null afterwards. */
  get setupCode(): string | null {
    return this.#runtime.setupCode;
  }

  /** The lock's protocol endpoint (one per virtual lock; it follows restarts). */
  get endpoint(): LockEndpoint {
    this.#endpoint ??= new LockEndpoint(() => this.#runtime, this.opts.endpoint ?? {});
    return this.#endpoint;
  }

  /** A new in-memory connection to the endpoint; talk through `.client`. */
  connectMemory(conditions?: LinkConditions): AutoMemoryLink {
    const link = autoMemoryLink(conditions);
    this.endpoint.accept(link.lock);
    return link;
  }

  /** Serves the endpoint over TCP on 127.0.0.1 (port 0 = any free port). */
  listenTcp(port = 0): Promise<TcpFrameListener> {
    return listenTcp({ port, host: "127.0.0.1" }, (t) => this.endpoint.accept(t));
  }

  /** The factory-reset button (journaled, then everything but the lock's identity is erased). */
  factoryReset(): void {
    this.#runtime.factoryReset();
  }

  /** Types a PIN on the keypad. */
  enterPin(pin: string): AttemptResult {
    return this.#runtime.attemptPin(pin, "Keypad");
  }
  tapCard(card: VirtualCard): AttemptResult {
    return this.#runtime.attemptCard(card.uid, card.answer);
  }
  /** A finger on the reader: its matched template slot, or null for an unknown finger. */
  touchFingerprint(templateRef: number | null): AttemptResult | undefined {
    if (templateRef === null) {
      this.#runtime.fingerprintUnknown();
      return undefined;
    }
    return this.#runtime.attemptFingerprint(templateRef);
  }
  openDoor(): void {
    this.hardware.door.open = true;
    this.#runtime.doorChanged(true);
  }
  closeDoor(): void {
    this.hardware.door.open = false;
    this.#runtime.doorChanged(false);
  }
  tamper(kind: TamperKind): void {
    this.#runtime.tamper(kind);
  }
  setBattery(percent: number): void {
    this.hardware.power.percent = percent;
    this.#runtime.batteryChanged(percent);
  }
  setEmergencyPower(on: boolean): void {
    this.hardware.power.emergency = on;
  }
  injectJam(jammed = true): void {
    this.hardware.motor.jammed = jammed;
  }
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** A clean reset: stop and start again from the directory (same hardware, same clock). */
  restart(): VirtualLock {
    this.#runtime.shutdown();
    this.#runtime = new VirtualLock(this.opts, this.hardware, "reset").runtime;
    return this;
  }

  /** Power cut: fail-safe/secure bolt, runtime stops; `keepTime` false also loses the RTC. Then power returns. */
  powerCycle(options: { keepTime?: boolean; offForMs?: number } = {}): VirtualLock {
    this.#runtime.powerLoss();
    this.clock.advance(options.offForMs ?? 0);
    if (options.keepTime === false) this.clock.forgetWallTime();
    this.#runtime = new VirtualLock(this.opts, this.hardware, "power-on").runtime;
    return this;
  }
}
