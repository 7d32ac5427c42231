/**
 * The terminal demo's lock: a virtual lock with demo users, and a command interpreter that turns
 * typed lines into hardware actions. Separate from the CLI's I/O so tests can drive it directly.
 */
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DaysMask, enumName, isLatchkeyError, OperatingMode, UserType } from "@latchkey/protocol";
import { checkPin } from "../credentials/pin-policy.js";
import type { TamperKind } from "../hardware/hal.js";
import { DEFAULT_SETTINGS, pinPolicyOf } from "../settings/settings.js";
import { STATE_FILE } from "../persistence/state-file.js";
import { VirtualCard } from "../virtual/virtual-card.js";
import { VirtualLock } from "../virtual/virtual-lock.js";

/** What `command` returns for quit/exit. */
export const QUIT = "quit";

export const HELP = `commands:
  <digits>          type a PIN on the keypad
  card <n>          tap card n (1 = Alice's card, 2 = an unknown card)
  finger <n>        touch the fingerprint reader (template n; 0 = unknown finger)
  open | close      open or close the door
  lock              press the lock button
  tamper [refit|drill|rotate]   remove the escutcheon (or refit it, drill, force the rotor)
  battery <pct>     set the battery level
  power on|off      apply or remove emergency power
  jam | unjam       make the motor stall or free it
  mode <name>       Normal, Vacation, Privacy, NoRemoteLockUnlock, Passage
  time +2h          advance the lock's clock (s, m, h, d)
  status            show bolt, door, mode, battery and time
  help | quit`;

export interface DemoUsers {
  /** Demo PINs, shown once at first start (this is a demo). */
  readonly pins: readonly { readonly user: string; readonly pin: string; readonly note: string }[];
}

function demoPin(used: Set<string>): string {
  const policy = pinPolicyOf(DEFAULT_SETTINGS);
  for (;;) {
    const pin = String(randomInt(0, 1_000_000)).padStart(6, "0");
    if (used.has(pin)) continue;
    try {
      checkPin(pin, policy);
      used.add(pin);
      return pin;
    } catch {
      // weak: draw again
    }
  }
}

const CARD_UIDS = [
  Uint8Array.from([0x04, 0xa2, 0x19, 0x5c, 0x33, 0x80, 0x01]),
  Uint8Array.from([0x04, 0x11, 0x22, 0x33]),
];
// A fixed demo card key: the demo card is simulated in this same process.
const DEMO_CARD_KEY = new Uint8Array(16).fill(0x5a);

export class DemoLock {
  readonly cards = [
    new VirtualCard(CARD_UIDS[0] ?? new Uint8Array(7), DEMO_CARD_KEY),
    new VirtualCard(CARD_UIDS[1] ?? new Uint8Array(4)),
  ];

  private constructor(readonly lock: VirtualLock) {}

  /** Starts the demo lock in `dir`; creates the demo users on first start and returns their PINs. */
  static start(dir: string): { demo: DemoLock; users: DemoUsers | null } {
    const fresh = !existsSync(join(dir, STATE_FILE));
    const lock = VirtualLock.start({ dir, wallMs: Date.now(), initialSettings: { timeZone: localZone() } });
    const demo = new DemoLock(lock);
    return { demo, users: fresh ? demo.#createUsers() : null };
  }

  #createUsers(): DemoUsers {
    const rt = this.lock.runtime;
    const used = new Set<string>();
    const alice = rt.addUser({ name: "Alice", type: UserType.UnrestrictedUser });
    const alicePin = demoPin(used);
    rt.setPin(alice, alicePin);
    const [aliceCard] = this.cards;
    if (aliceCard !== undefined) rt.setCard(alice, aliceCard.uid, DEMO_CARD_KEY);
    rt.setFingerprint(alice, 1);
    const cleaner = rt.addUser({ name: "Cleaner", type: UserType.WeekDayScheduleUser });
    const cleanerPin = demoPin(used);
    rt.setPin(cleaner, cleanerPin);
    rt.setWeekDaySchedule(cleaner, {
      index: 1,
      daysMask: DaysMask.Friday,
      startMinute: 10 * 60,
      endMinute: 12 * 60,
    });
    const duress = rt.addUser({ name: "Alice (duress)", type: UserType.ForcedUser });
    const duressPin = demoPin(used);
    rt.setPin(duress, duressPin);
    return {
      pins: [
        { user: "Alice", pin: alicePin, note: "any time; also card 1 and finger 1" },
        { user: "Cleaner", pin: cleanerPin, note: "Fridays 10:00-12:00 lock time" },
        { user: "Alice (duress)", pin: duressPin, note: "opens and raises a silent ForcedUser alarm" },
      ],
    };
  }

  /** Runs one command line; returns text to print (never a PIN), or `QUIT`. */
  command(line: string): string {
    const words = line.trim().split(/\s+/);
    const [cmd = "", arg = ""] = words;
    try {
      return this.#run(cmd.toLowerCase(), arg);
    } catch (e) {
      return isLatchkeyError(e) ? `refused: ${e.code}: ${e.message}` : `error: ${(e as Error).message}`;
    }
  }

  #run(cmd: string, arg: string): string {
    const lock = this.lock;
    if (cmd === "") return "";
    if (/^[0-9]+$/.test(cmd)) {
      const r = lock.enterPin(cmd);
      return r.granted ? "keypad: granted" : `keypad: denied (${r.reason})`;
    }
    switch (cmd) {
      case "help":
      case "?":
        return HELP;
      case "quit":
      case "exit":
        return QUIT;
      case "card": {
        const card = this.cards[Number(arg) - 1];
        if (card === undefined) return "no such card (try card 1 or card 2)";
        const r = lock.tapCard(card);
        return r.granted ? "card: granted" : `card: denied (${r.reason})`;
      }
      case "finger": {
        const n = Number(arg);
        if (!Number.isInteger(n) || n < 0) return "usage: finger <n>";
        const r = lock.touchFingerprint(n === 0 ? null : n);
        return r === undefined
          ? "fingerprint: not recognised"
          : r.granted
            ? "fingerprint: granted"
            : `fingerprint: denied (${r.reason})`;
      }
      case "open":
        lock.openDoor();
        return "door opened";
      case "close":
        lock.closeDoor();
        return "door closed";
      case "lock":
        lock.runtime.lockButton();
        return `bolt: ${lock.runtime.boltState}`;
      case "tamper": {
        const kinds: Record<string, TamperKind> = {
          "": "escutcheon-removed",
          refit: "escutcheon-refitted",
          drill: "drilling",
          rotate: "forced-rotation",
        };
        const kind = kinds[arg];
        if (kind === undefined) return "usage: tamper [refit|drill|rotate]";
        lock.tamper(kind);
        return `tamper: ${kind}`;
      }
      case "battery": {
        const pct = Number(arg.replace("%", ""));
        if (!Number.isFinite(pct) || pct < 0 || pct > 100) return "usage: battery <0-100>";
        lock.setBattery(pct);
        return `battery: ${pct}%`;
      }
      case "power":
        if (arg !== "on" && arg !== "off") return "usage: power on|off";
        lock.setEmergencyPower(arg === "on");
        return `emergency power ${arg}`;
      case "jam":
      case "unjam":
        lock.injectJam(cmd === "jam");
        return cmd === "jam" ? "motor will stall" : "motor free";
      case "mode": {
        const name = Object.keys(OperatingMode).find((m) => m.toLowerCase() === arg.toLowerCase());
        if (name === undefined) return `modes: ${Object.keys(OperatingMode).join(", ")}`;
        lock.runtime.setOperatingMode(OperatingMode[name as keyof typeof OperatingMode]);
        return `mode: ${name}`;
      }
      case "time": {
        const m = /^\+(\d+)([smhd])$/.exec(arg);
        if (m === null) return "usage: time +<n><s|m|h|d>, e.g. time +2h";
        const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
        lock.advance(Number(m[1]) * unit);
        return this.status();
      }
      case "status":
        return this.status();
      default:
        return `unknown command "${cmd.slice(0, 20)}"; type help`;
    }
  }

  status(): string {
    const rt = this.lock.runtime;
    const wall = this.lock.clock.wallMs();
    const local =
      wall === null
        ? "unknown"
        : new Date(wall).toLocaleString("en-GB", {
            timeZone: rt.settings.timeZone,
            weekday: "short",
            day: "numeric",
            month: "short",
            year: "numeric",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
          });
    return [
      `bolt=${rt.boltState}`,
      `door=${this.lock.hardware.door.open ? "open" : "closed"}`,
      `mode=${enumName(OperatingMode, rt.effectiveMode) ?? rt.effectiveMode}`,
      `battery=${Math.round(this.lock.hardware.power.percent)}%`,
      `lockout=${rt.lockoutActive ? "active" : "no"}`,
      `time=${local} (${rt.settings.timeZone})`,
    ].join(" ");
  }

  shutdown(): void {
    this.lock.runtime.shutdown();
  }
}

function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
