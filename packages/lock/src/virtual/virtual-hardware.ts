/**
 * Simulated lock electronics: a motor with travel time, stall (jam) detection and jam injection,
 * a battery that drains a little per movement, an emergency-power contact, a door sensor.
 */
import { randomBytes } from "node:crypto";
import type { DoorSensor, LockHardware, Motor, MotorResult, PowerSupply } from "../hardware/hal.js";
import type { VirtualClock } from "./virtual-clock.js";

export class VirtualMotor implements Motor {
  /** Time for a full bolt travel. */
  travelMs = 400;
  /** Time after which a stalled motor is declared jammed. */
  stallDetectMs = 1500;
  /** While true every drive stalls (a bolt hitting the strike plate). */
  jammed = false;
  movements = 0;
  constructor(private readonly power: VirtualPower) {}

  drive(_target: "Locked" | "Unlocked"): MotorResult {
    if (this.jammed) return { outcome: "jammed", durationMs: this.stallDetectMs };
    this.movements++;
    this.power.percent = Math.max(0, this.power.percent - this.power.drainPerMovement);
    return { outcome: "ok", durationMs: this.travelMs };
  }
}

export class VirtualPower implements PowerSupply {
  percent = 100;
  /** Battery percent used by one bolt movement. */
  drainPerMovement = 0.01;
  emergency = false;
  batteryPercent(): number {
    return this.percent;
  }
  emergencyPower(): boolean {
    return this.emergency;
  }
}

export class VirtualDoor implements DoorSensor {
  open = false;
  isOpen(): boolean {
    return this.open;
  }
}

export class VirtualHardware implements LockHardware {
  readonly power = new VirtualPower();
  readonly motor = new VirtualMotor(this.power);
  readonly door = new VirtualDoor();
  constructor(readonly clock: VirtualClock) {}
  randomBytes(n: number): Uint8Array {
    return new Uint8Array(randomBytes(n));
  }
}
