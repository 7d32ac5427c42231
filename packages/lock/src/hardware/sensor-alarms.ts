/**
 * What the lock's sensors raise: the door forced open or left ajar, the escutcheon removed, forced
 * rotation and drilling, and the battery's warning stages. Each alarm is journaled and signalled;
 * a condition that ends (door closed, escutcheon refitted) journals AlarmCleared.
 */
import { AlarmCode, EventKind } from "@latchkey/protocol";
import type { LockReporter } from "../journal/event-log.js";
import type { BoltState, Clock, TamperKind, TimerHandle } from "./hal.js";

export interface DoorMonitorOptions {
  readonly clock: Clock;
  readonly report: LockReporter;
  readonly isOpen: () => boolean;
  readonly bolt: () => BoltState;
  readonly doorAjarMs: () => number;
}

/** Door opened with the bolt thrown (forced), or held open past the ajar time. */
export class DoorMonitor {
  readonly #o: DoorMonitorOptions;
  #ajar: TimerHandle | undefined;
  #ajarRaised = false;
  #stopped = false;

  constructor(options: DoorMonitorOptions) {
    this.#o = options;
  }

  opened(): void {
    const forced = this.#o.bolt() === "Locked";
    this.#o.report.event(
      EventKind.DoorStateChange,
      {},
      { doorState: forced ? "DoorForcedOpen" : "DoorOpen" },
    );
    if (forced) this.#o.report.alarm(AlarmCode.DoorForcedOpen);
    this.#ajar?.cancel();
    this.#ajar = this.#o.clock.setTimer(this.#o.doorAjarMs(), () => {
      if (this.#stopped || !this.#o.isOpen()) return;
      this.#ajarRaised = true;
      this.#o.report.event(EventKind.DoorStateChange, {}, { doorState: "DoorAjar" });
      this.#o.report.alarm(AlarmCode.DoorAjar);
    });
  }

  closed(): void {
    this.#ajar?.cancel();
    this.#o.report.event(EventKind.DoorStateChange, {}, { doorState: "DoorClosed" });
    if (this.#ajarRaised) {
      this.#ajarRaised = false;
      this.#o.report.event(EventKind.AlarmCleared, {}, { alarm: AlarmCode.DoorAjar });
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#ajar?.cancel();
  }
}

/** Tamper switches: the escutcheon alarm is raised once and cleared when it is refitted. */
export class TamperMonitor {
  #escutcheonRemoved = false;

  constructor(private readonly report: LockReporter) {}

  tamper(kind: TamperKind): void {
    switch (kind) {
      case "escutcheon-removed":
        if (this.#escutcheonRemoved) return;
        this.#escutcheonRemoved = true;
        this.report.alarm(AlarmCode.FrontEscutcheonRemoved);
        return;
      case "escutcheon-refitted":
        if (!this.#escutcheonRemoved) return;
        this.#escutcheonRemoved = false;
        this.report.event(EventKind.AlarmCleared, {}, { alarm: AlarmCode.FrontEscutcheonRemoved });
        return;
      case "forced-rotation":
        this.report.alarm(AlarmCode.ForcedRotation);
        return;
      case "drilling":
        this.report.alarm(AlarmCode.Drilling);
        return;
    }
  }
}

/** 0 ok, 1 low, 2 warning, 3 critical (the motor no longer runs on battery). */
export type BatteryStage = 0 | 1 | 2 | 3;

export interface BatteryThresholds {
  readonly batteryLowPercent: number;
  readonly batteryWarningPercent: number;
  readonly batteryCriticalPercent: number;
}

export function batteryStageOf(percent: number, t: BatteryThresholds): BatteryStage {
  if (percent < t.batteryCriticalPercent) return 3;
  if (percent <= t.batteryWarningPercent) return 2;
  if (percent <= t.batteryLowPercent) return 1;
  return 0;
}

/** Journals each change of battery stage; a falling charge raises BatteryLow, then BatteryCritical. */
export class BatteryMonitor {
  #stage: BatteryStage = 0;

  constructor(
    private readonly report: LockReporter,
    /** Called when the stage changes (it is persisted). */
    private readonly changed: () => void,
  ) {}

  get stage(): BatteryStage {
    return this.#stage;
  }

  restore(stage: BatteryStage): void {
    this.#stage = stage;
  }

  changedTo(percent: number, thresholds: BatteryThresholds): void {
    const stage = batteryStageOf(percent, thresholds);
    if (stage === this.#stage) return;
    const rising = stage > this.#stage;
    this.#stage = stage;
    this.changed();
    const level = stage === 3 ? "critical" : stage === 0 ? "ok" : "low";
    this.report.event(EventKind.BatteryLevel, {}, { percent: Math.round(percent), level, stage });
    if (rising && (stage === 1 || stage === 2)) this.report.alarm(AlarmCode.BatteryLow);
    if (rising && stage === 3) this.report.alarm(AlarmCode.BatteryCritical);
  }
}
