/**
 * A controllable clock: time moves only when a test (or the demo's ticker) calls `advance`.
 * Timers fire in deadline order with the clock set to each deadline. The RTC can be unknown,
 * set, lost (power loss without RTC backup) and can drift (ppm).
 */
import { epochMs, type EpochMs } from "@latchkey/protocol";
import type { Clock, TimerHandle } from "../hardware/hal.js";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  private mono = 0;
  private rtcBase: number | null;
  private rtcSetAtMono = 0;
  private timers: Timer[] = [];
  private seq = 0;
  /** Drift of the RTC against real time, parts per million (positive = runs fast). */
  driftPpm = 0;

  constructor(initialWallMs: number | null = null) {
    this.rtcBase = initialWallMs;
  }

  monotonicMs(): number {
    return this.mono;
  }

  wallMs(): EpochMs | null {
    if (this.rtcBase === null) return null;
    const elapsed = this.mono - this.rtcSetAtMono;
    return epochMs(Math.floor(this.rtcBase + elapsed * (1 + this.driftPpm / 1e6)));
  }

  setWallMs(ms: EpochMs): void {
    this.rtcBase = ms;
    this.rtcSetAtMono = this.mono;
  }

  /** The RTC lost its time (power loss without backup battery). */
  forgetWallTime(): void {
    this.rtcBase = null;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const t: Timer = { at: this.mono + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers in order (timers they set fire too). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError("advance needs a non-negative duration");
    const end = this.mono + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: Timer | undefined;
      for (const t of this.timers)
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq)))
          next = t;
      if (next === undefined) break;
      this.mono = Math.max(this.mono, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.mono = end;
  }
}
