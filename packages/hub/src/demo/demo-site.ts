/**
 * Demo mode (`latchkey start --demo`, which `npm start` uses): a site "Demo home" with two doors,
 * each with a virtual lock that runs in the hub process but speaks the real protocol through the
 * hub's own broker — it announces itself, is commissioned with its setup code, connects with its
 * derived password and syncs like any lock. Its keypad, card reader, fingerprint reader, door
 * sensor, tamper switch and battery are driven through the demo API (routes.ts) and the web
 * app's demo panel. Lock state lives in `<data-dir>/demo-locks`, so a restart keeps it.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { HubDatabase } from "../db/schema.js";
import { SimLock } from "../sim/sim-lock.js";
import type { LockService } from "../locks/service.js";

export const DEMO_SITE_NAME = "Demo home";
export const DEMO_DOORS = [
  { key: "front", name: "Front door" },
  { key: "back", name: "Back door" },
] as const;

export interface DemoSite {
  readonly siteId: string;
  /** The virtual lock of each demo door. */
  readonly locks: ReadonlyMap<string, SimLock>;
  stop(): Promise<void>;
}

function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

async function ensureSite(
  db: Kysely<HubDatabase>,
  now: number,
): Promise<{ siteId: string; doors: Map<string, string> }> {
  let site = await db.selectFrom("sites").select("id").where("name", "=", DEMO_SITE_NAME).executeTakeFirst();
  if (site === undefined) {
    site = { id: randomUUID() };
    await db
      .insertInto("sites")
      .values({ id: site.id, name: DEMO_SITE_NAME, timezone: localTimeZone(), created_at: now })
      .execute();
  }
  const doors = new Map<string, string>();
  for (const d of DEMO_DOORS) {
    let door = await db
      .selectFrom("doors")
      .select("id")
      .where("site_id", "=", site.id)
      .where("name", "=", d.name)
      .executeTakeFirst();
    if (door === undefined) {
      door = { id: randomUUID() };
      await db
        .insertInto("doors")
        .values({
          id: door.id,
          site_id: site.id,
          name: d.name,
          lock_id: null,
          lock_public_key: null,
          created_at: now,
        })
        .execute();
    }
    doors.set(d.key, door.id);
  }
  return { siteId: site.id, doors };
}

/**
 * Starts the demo site's locks against the hub at `brokerUrl` and commissions any that are new.
 * Resolves once both locks are connected (or throws after `timeoutMs`).
 */
export async function startDemoSite(o: {
  readonly db: Kysely<HubDatabase>;
  readonly service: LockService;
  readonly dataDir: string;
  readonly brokerUrl: string;
  readonly topicPrefix?: string;
  readonly now: () => number;
  readonly log: Logger;
  readonly timeoutMs?: number;
  /** Who may sign remote unlocks for these locks: the hub web app's WebAuthn relying party. */
  readonly relyingParty?: { readonly rpId: string; readonly origins: readonly string[] };
}): Promise<DemoSite> {
  const { siteId, doors } = await ensureSite(o.db, o.now());
  const locks = new Map<string, SimLock>();
  const stopAll = async (): Promise<void> => {
    for (const l of locks.values()) await l.stop();
  };
  try {
    for (const d of DEMO_DOORS) {
      const doorId = doors.get(d.key) ?? "";
      const lock = await SimLock.start({
        dir: join(o.dataDir, "demo-locks", d.key),
        url: o.brokerUrl,
        ...(o.topicPrefix === undefined ? {} : { topicPrefix: o.topicPrefix }),
        announceEveryMs: 500,
        ...(o.relyingParty === undefined ? {} : { endpoint: { relyingParty: o.relyingParty } }),
        // A demo should commission in a blink; real locks use the stronger default.
        commissioning: { pbkdf2Iterations: 1000 },
      });
      locks.set(doorId, lock);
      if (!lock.isCommissioned) {
        const code = lock.setupCode;
        if (code === null)
          throw new Error(`demo lock ${d.key} lost its setup code; delete ${lock.dir} to start afresh`);
        const deadline = Date.now() + (o.timeoutMs ?? 30_000);
        while (!(await o.service.waiting()).some((w) => w.lockId === lock.lockId)) {
          if (Date.now() > deadline) throw new Error(`demo lock ${d.key} did not reach the hub`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await o.service.commission({ doorId, setupCode: code, lockId: lock.lockId });
        o.log.info({ door: d.name, lockId: lock.lockId }, "demo lock commissioned");
      }
    }
    await Promise.race([
      Promise.all([...locks.values()].map((l) => l.whenConnected())),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("demo locks did not connect")), o.timeoutMs ?? 30_000).unref(),
      ),
    ]);
  } catch (e) {
    await stopAll();
    throw e;
  }
  return { siteId, locks, stop: stopAll };
}
