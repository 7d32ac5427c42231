/**
 * The hub's side of the Home Assistant bridge: which doors HA sees and in what state (read from
 * the hub's tables every few seconds and published when something changed), and what HA's
 * commands do. Locking goes to the lock at once (making a door safer needs no person). Unlocking
 * is refused unless the door is listed in `unlockDoorIds`, and even then it only asks: it makes an
 * unlock request, which a person approves with their passkey (invariant 1).
 */
import type { Logger } from "pino";
import type { HubContext } from "../../runtime/context.js";
import { allTables } from "../../db/access.js";
import { BOLT_STATE, type BoltState } from "../../drivers/lock-driver.js";
import { HomeAssistantBridge, type CommandOutcome, type DoorSnapshot, type LockCommand } from "./bridge.js";

export interface HomeAssistantSettings {
  readonly url: string;
  readonly username: string | null;
  readonly password: string | null;
  readonly discoveryPrefix?: string | undefined;
  /** Where the doors' states and commands live (default "latchkey"). */
  readonly baseTopic?: string | undefined;
  /** Doors HA may ask to unlock (each ask is an unlock request for a person to approve). */
  readonly unlockDoorIds: readonly string[];
}

/** What the service needs of the hub: locking a door, and asking for an unlock. */
export interface HomeAssistantHub {
  readonly ctx: HubContext;
  readonly log: Logger;
  readonly swVersion: string;
  lockDoor(doorId: string): Promise<string>;
  isOnline(lockId: string): boolean;
  requestUnlock(doorId: string): Promise<void>;
}

export const REFRESH_EVERY_MS = 2_000;

/** Every door with a lock, as Home Assistant is shown it. */
export async function doorSnapshots(
  hub: HomeAssistantHub,
  unlock: ReadonlySet<string>,
): Promise<DoorSnapshot[]> {
  const db = allTables(hub.ctx.db);
  const rows = await db
    .selectFrom("locks")
    .innerJoin("doors", "doors.id", "locks.door_id")
    .innerJoin("sites", "sites.id", "doors.site_id")
    .select([
      "locks.id as lockId",
      "doors.id as doorId",
      "doors.name as name",
      "sites.name as siteName",
      "locks.state_json as state",
    ])
    .orderBy("doors.id")
    .execute();
  const sync = await db
    .selectFrom("credential_sync")
    .select(["lock_id", "state", (eb) => eb.fn.countAll<number>().as("n")])
    .where("state", "in", ["pending", "sending", "removing", "failed"])
    .groupBy(["lock_id", "state"])
    .execute();
  const tampered = new Set(
    (
      await db
        .selectFrom("alerts")
        .select("lock_id")
        .where("kind", "=", "tamper")
        .where("acknowledged_at", "is", null)
        .where("resolved_at", "is", null)
        .execute()
    ).map((a) => a.lock_id),
  );
  return rows.map((r) => {
    const c =
      r.state === null
        ? null
        : (JSON.parse(r.state) as {
            lockState: number | null;
            doorState: number | null;
            batteryPercent: number | null;
          });
    const counts = sync.filter((s) => s.lock_id === r.lockId);
    const bolt: BoltState = BOLT_STATE[c?.lockState ?? -1] ?? "not-fully-locked";
    return {
      doorId: r.doorId,
      name: r.name,
      siteName: r.siteName,
      online: hub.isOnline(r.lockId),
      bolt,
      // Matter DoorStateEnum: 1 = DoorClosed.
      door: c?.doorState === 1 ? "closed" : "open",
      batteryPercent: c?.batteryPercent ?? null,
      tamper: tampered.has(r.lockId),
      syncPending: counts.filter((s) => s.state !== "failed").reduce((n, s) => n + Number(s.n), 0),
      syncFailed: counts.filter((s) => s.state === "failed").reduce((n, s) => n + Number(s.n), 0),
      allowUnlock: unlock.has(r.doorId),
    };
  });
}

export class HomeAssistantService {
  readonly bridge: HomeAssistantBridge;
  readonly #unlock: ReadonlySet<string>;
  #timer: NodeJS.Timeout | null = null;
  #shown = new Map<string, string>();
  #refreshing: Promise<void> | null = null;
  #started = false;

  constructor(
    private readonly hub: HomeAssistantHub,
    settings: HomeAssistantSettings,
  ) {
    this.#unlock = new Set(settings.unlockDoorIds);
    this.bridge = new HomeAssistantBridge({
      url: settings.url,
      username: settings.username,
      password: settings.password,
      discoveryPrefix: settings.discoveryPrefix,
      baseTopic: settings.baseTopic,
      swVersion: hub.swVersion,
      onCommand: (doorId, command) => this.#command(doorId, command),
      onCommandResult: (r) =>
        hub.log.info(
          { doorId: r.doorId, command: r.command, outcome: r.outcome, reason: r.reason },
          "home assistant command",
        ),
    });
  }

  /** Connects (retrying every 30 s while HA's broker is not there) and keeps the doors current. */
  start(): void {
    const connect = async (): Promise<void> => {
      try {
        const doors = await doorSnapshots(this.hub, this.#unlock);
        await this.bridge.start(doors);
        for (const d of doors) this.#shown.set(d.doorId, JSON.stringify(d));
        this.#started = true;
        this.hub.log.info({ doors: doors.length }, "home assistant bridge started");
      } catch (e) {
        this.hub.log.warn(
          { err: (e as { code?: string }).code ?? "error" },
          "home assistant broker not reachable; trying again in 30 s",
        );
        this.#timer = setTimeout(() => void connect(), 30_000);
        this.#timer.unref();
        return;
      }
      this.#timer = setInterval(() => void this.refresh(), REFRESH_EVERY_MS);
      this.#timer.unref();
    };
    void connect();
  }

  /** Publishes the doors whose state changed, new doors, and removes doors gone (coalesced). */
  refresh(): Promise<void> {
    if (!this.#started) return Promise.resolve();
    this.#refreshing ??= (async () => {
      try {
        const doors = await doorSnapshots(this.hub, this.#unlock);
        const seen = new Set<string>();
        for (const d of doors) {
          seen.add(d.doorId);
          const text = JSON.stringify(d);
          if (this.#shown.get(d.doorId) === text) continue;
          await this.bridge.updateDoor(d);
          this.#shown.set(d.doorId, text);
        }
        for (const id of [...this.#shown.keys()]) {
          if (seen.has(id)) continue;
          await this.bridge.removeDoor(id);
          this.#shown.delete(id);
        }
      } catch (e) {
        this.hub.log.warn({ err: (e as { code?: string }).code ?? "error" }, "home assistant refresh failed");
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  async #command(doorId: string, command: LockCommand): Promise<CommandOutcome> {
    if (command === "unlock") {
      // The bridge refuses it for doors not listed; a listed door gets a request, not an unlock.
      await this.hub.requestUnlock(doorId);
      return { ok: false, reason: "an unlock request is waiting for a person's approval in Latchkey" };
    }
    const result = await this.hub.lockDoor(doorId);
    if (result !== "OK") return { ok: false, reason: `the lock refused (${result})` };
    return { ok: true };
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      clearTimeout(this.#timer);
    }
    await this.#refreshing;
    await this.bridge.stop();
  }
}
