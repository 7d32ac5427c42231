/**
 * The hardware-abstraction interface: what the runtime needs from a lock's electronics. Real
 * firmware implements it over GPIO/ADC/NFC drivers; `virtual/` implements it in memory for tests
 * and demos. Input devices (keypad, card and fingerprint readers, door and tamper switches) call
 * the runtime's `LockInputs` methods; the runtime drives the motor and reads the gauges.
 */
import type { EpochMs } from "@latchkey/protocol";

export type BoltState = "Locked" | "Unlocked" | "NotFullyLocked";

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since power-on; never goes backwards. Timers run on it. */
  monotonicMs(): number;
  /** The real-time clock's reading, null when the lock does not know the time. */
  wallMs(): EpochMs | null;
  /** Sets the real-time clock (from the hub or an NTP-like source). */
  setWallMs(ms: EpochMs): void;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}

export interface MotorResult {
  readonly outcome: "ok" | "jammed";
  /** How long the motor ran (travel or stall detection). */
  readonly durationMs: number;
}

export interface Motor {
  drive(target: "Locked" | "Unlocked"): MotorResult;
}

export interface PowerSupply {
  /** Battery charge, 0–100. */
  batteryPercent(): number;
  /** True while an emergency source (9 V contacts, USB-C) powers the motor. */
  emergencyPower(): boolean;
}

export interface DoorSensor {
  isOpen(): boolean;
}

/** Challenge-response cards: the reader relays the lock's challenge to the card. */
export type CardAnswer = (challenge: Uint8Array) => Uint8Array;

export type TamperKind = "escutcheon-removed" | "escutcheon-refitted" | "forced-rotation" | "drilling";

/** What input devices report to the runtime. */
export interface LockInputs {
  keypadPin(pin: string): void;
  cardPresented(uid: Uint8Array, answer?: CardAnswer): void;
  fingerprintMatched(templateRef: number): void;
  fingerprintUnknown(): void;
  doorChanged(open: boolean): void;
  tamper(kind: TamperKind): void;
  batteryChanged(percent: number): void;
  /** The inside thumb-turn or key moved the bolt by hand. */
  manualBolt(state: "Locked" | "Unlocked"): void;
}

export interface LockHardware {
  readonly clock: Clock;
  readonly motor: Motor;
  readonly power: PowerSupply;
  readonly door: DoorSensor;
  /** Cryptographic randomness (challenges, boot ids, keys). */
  randomBytes(n: number): Uint8Array;
}
