/**
 * The bolt: where it is, driving it with the motor (never below the critical battery level unless
 * on emergency power), jams, auto-relock (held while the door is open, off in Passage mode) and
 * the mode changes that move it. Every movement is journaled through the reporter.
 */
import {
  AlarmCode,
  DenyReason,
  type EventActor,
  EventKind,
  OperatingMode,
  OperationSource,
} from "@latchkey/protocol";
import type { LockReporter } from "../journal/event-log.js";
import type { BoltState, LockHardware, TimerHandle } from "./hal.js";

export type BoltTarget = "Locked" | "Unlocked";

export interface BoltOptions {
  readonly hardware: LockHardware;
  readonly report: LockReporter;
  readonly settings: () => { readonly autoRelockTime: number; readonly batteryCriticalPercent: number };
  /** The operating mode in force now (a holiday may override the configured one). */
  readonly mode: () => OperatingMode;
  /** Called whenever the bolt position changes (it is persisted). */
  readonly changed: () => void;
}

/** The motor's answer to an unlock for a granted credential. */
export type UnlockOutcome =
  | { readonly ok: true; readonly motorMs: number }
  | { readonly ok: false; readonly reason: typeof DenyReason.Jammed; readonly motorMs: number };

export class Bolt {
  readonly #o: BoltOptions;
  #state: BoltState = "Locked";
  #relock: TimerHandle | undefined;
  #relockWhenClosed = false;
  #stopped = false;

  constructor(options: BoltOptions) {
    this.#o = options;
  }

  get state(): BoltState {
    return this.#state;
  }

  /** Whether an emergency source (9 V contacts, USB-C) powers the motor now. */
  get onEmergencyPower(): boolean {
    return this.#o.hardware.power.emergencyPower();
  }

  /** Whether the motor may run: on emergency power, or with the battery above critical. */
  get motorMayRun(): boolean {
    const power = this.#o.hardware.power;
    return power.emergencyPower() || power.batteryPercent() >= this.#o.settings().batteryCriticalPercent;
  }

  /** Sets the remembered position at start (from the counters file). */
  restore(state: BoltState): void {
    this.#state = state;
  }

  /** Drives the bolt for a command (lock side); journals LockOperation, the refusal or the jam. */
  drive(target: BoltTarget, source: OperationSource, actor: EventActor): boolean {
    const operation = target === "Locked" ? "Lock" : "Unlock";
    if (!this.motorMayRun) {
      this.#o.report.event(EventKind.LockOperationError, actor, {
        operation,
        reason: DenyReason.InsufficientBattery,
        source,
      });
      return false;
    }
    if (this.#state === target) {
      this.#o.report.event(EventKind.LockOperation, actor, { operation, source });
      return true;
    }
    const result = this.#o.hardware.motor.drive(target);
    if (result.outcome === "jammed") {
      this.#jammed(operation, source, actor, result.durationMs);
      return false;
    }
    this.#state = target;
    if (target === "Locked") {
      this.#relock?.cancel();
      this.#relockWhenClosed = false;
    }
    this.#o.changed();
    this.#o.report.event(EventKind.LockOperation, actor, { operation, source, motorMs: result.durationMs });
    return true;
  }

  /**
   * Unlocks for a granted access (the caller journals the grant with the motor time); a jam is
   * journaled here and raises the alarm. The caller has checked `motorMayRun`.
   */
  unlockForAccess(source: OperationSource, actor: EventActor): UnlockOutcome {
    if (this.#state === "Unlocked") return { ok: true, motorMs: 0 };
    const result = this.#o.hardware.motor.drive("Unlocked");
    if (result.outcome === "jammed") {
      this.#jammed("Unlock", source, actor, result.durationMs);
      return { ok: false, reason: DenyReason.Jammed, motorMs: result.durationMs };
    }
    this.#state = "Unlocked";
    return { ok: true, motorMs: result.durationMs };
  }

  /** The inside thumb-turn or key moved the bolt by hand. Returns whether it moved. */
  movedByHand(state: BoltTarget): boolean {
    if (state === this.#state) return false;
    this.#state = state;
    this.#o.changed();
    this.#o.report.event(EventKind.LockStateChange, {}, { lockState: state, source: OperationSource.Manual });
    if (state === "Unlocked") this.scheduleRelock();
    else this.#relock?.cancel();
    return true;
  }

  /** Power is lost: the bolt falls to `target` (fail-safe or fail-secure) without the motor's help. */
  fallTo(target: BoltState): void {
    if (target === this.#state) return;
    this.#state = target;
    this.#o.changed();
    this.#o.report.event(
      EventKind.LockStateChange,
      {},
      { lockState: target, source: OperationSource.Auto, reason: "power-loss" },
    );
  }

  /** Starts the auto-relock timer (off when AutoRelockTime is 0 or in Passage mode). */
  scheduleRelock(): void {
    this.#relock?.cancel();
    const seconds = this.#o.settings().autoRelockTime;
    if (seconds === 0 || this.#o.mode() === OperatingMode.Passage) return;
    this.#relock = this.#o.hardware.clock.setTimer(seconds * 1000, () => {
      if (this.#stopped || this.#state === "Locked" || this.#o.mode() === OperatingMode.Passage) return;
      if (this.#o.hardware.door.isOpen()) this.#relockWhenClosed = true;
      else this.drive("Locked", OperationSource.Auto, {});
    });
  }

  /** The door closed: a relock held while it was open happens now. */
  doorClosed(): void {
    if (!this.#relockWhenClosed) return;
    this.#relockWhenClosed = false;
    this.drive("Locked", OperationSource.Auto, {});
  }

  /** Passage opens the door and holds it open; leaving Passage locks again. */
  modeChanged(from: OperatingMode, to: OperatingMode): void {
    if (to === OperatingMode.Passage) {
      this.#relock?.cancel();
      if (this.#state !== "Unlocked") this.drive("Unlocked", OperationSource.Auto, {});
    } else if (from === OperatingMode.Passage && this.#state !== "Locked") {
      this.drive("Locked", OperationSource.Auto, {});
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#relock?.cancel();
  }

  #jammed(operation: string, source: OperationSource, actor: EventActor, motorMs: number): void {
    this.#state = "NotFullyLocked";
    this.#o.changed();
    this.#o.report.event(EventKind.LockOperationError, actor, {
      operation,
      reason: DenyReason.Jammed,
      source,
      motorMs,
    });
    this.#o.report.alarm(AlarmCode.LockJammed);
  }
}
