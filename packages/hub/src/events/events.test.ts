/**
 * The site events API against a real hub: real lock-signed records ingested into the real
 * ledger, lock users mapped to people; newest-first order, every filter, cursor paging, counts
 * and positional reads (offset), the start-up fill of rows from before migration 0006, and that
 * one site never shows another's events.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createHash } from "node:crypto";
import {
  EventKind,
  lockIdBytesFromPublicKey,
  signLockEvent,
  ZERO_HASH,
  type EpochMs,
  type EventActor,
  type EventDetails,
  type EventKind as EventKindT,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, type SignedIn } from "../testing/flows.js";
import { registerLock } from "../ingest/locks.js";
import { describeOldEvents } from "./describe.js";
import { eventsLedger } from "../api/ledger-access.js";

const stores = await testStores();
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
const MIN = 60_000;

class Journal {
  readonly publicKey: Uint8Array;
  private readonly seed: Uint8Array;
  private prev: Uint8Array = ZERO_HASH;
  seq = 0;
  constructor(name: string) {
    this.seed = new Uint8Array(createHash("sha256").update(`events-test/${name}`).digest());
    this.publicKey = nodeEd25519.publicKey(this.seed);
  }
  next(kind: EventKindT, at: number, actor: EventActor, details: EventDetails): Uint8Array {
    this.seq++;
    const { event, record } = signLockEvent(
      {
        version: 1,
        lockId: lockIdBytesFromPublicKey(this.publicKey),
        seq: this.seq,
        bootId: new Uint8Array(16).fill(7),
        lockTime: at as EpochMs,
        kind,
        actor,
        details,
        prevHash: this.prev,
      },
      this.seed,
      nodeEd25519,
    );
    this.prev = event.hash;
    return record;
  }
}

interface Item {
  lockId: string;
  doorId: string | null;
  doorName: string | null;
  seq: number;
  kind: string;
  at: number | null;
  personId: string | null;
  personName: string | null;
  credentialType: string | null;
  outcome: string;
  reason: string | null;
  alarm: string | null;
  ledgerIndex: number;
  sealedByLock: boolean;
}
interface Page {
  items: Item[];
  nextBefore: string | null;
  total: number | null;
  top: string | null;
}

describe.each(stores)("site events API (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  const ids: Record<string, string> = {};
  const lockIds: Record<string, string> = {};
  /** Per site: how many events were ingested. */
  let siteAEvents = 0;

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const c = owner.client;
    const post = async (url: string, body: unknown) => (await c.post(url, body)).json<{ id: string }>().id;
    ids.siteA = await post("/api/v1/sites", { name: "Home", timezone: "UTC" });
    ids.siteB = await post("/api/v1/sites", { name: "Flat", timezone: "UTC" });
    ids.front = await post(`/api/v1/sites/${ids.siteA}/doors`, { name: "Front door" });
    ids.back = await post(`/api/v1/sites/${ids.siteA}/doors`, { name: "Back door" });
    ids.flatDoor = await post(`/api/v1/sites/${ids.siteB}/doors`, { name: "Flat door" });
    ids.alice = await post(`/api/v1/sites/${ids.siteA}/people`, { name: "Alice" });
    ids.bob = await post(`/api/v1/sites/${ids.siteA}/people`, { name: "Bob" });
    ids.carol = await post(`/api/v1/sites/${ids.siteB}/people`, { name: "Carol" });

    const db = t.hub.ledger.db;
    const journals = { front: new Journal("front"), back: new Journal("back"), flat: new Journal("flat") };
    const doorOf = { front: ids.front, back: ids.back, flat: ids.flatDoor };
    const siteOf = { front: ids.siteA, back: ids.siteA, flat: ids.siteB };
    for (const name of ["front", "back", "flat"] as const) {
      const j = journals[name];
      const id = await registerLock(db, { signingPublicKey: j.publicKey, commissionedAt: t.clock.now });
      lockIds[name] = id;
      await db
        .updateTable("locks")
        .set({ door_id: doorOf[name], site_id: siteOf[name] })
        .where("id", "=", id)
        .execute();
    }
    const slot = (lock: string, person: string, userIndex: number) =>
      db
        .insertInto("lock_users")
        .values({
          lock_id: lock,
          person_id: person,
          user_index: userIndex,
          desired_json: null,
          applied_json: null,
          updated_at: t.clock.now,
        })
        .execute();
    await slot(lockIds.front as string, ids.alice, 1);
    await slot(lockIds.front as string, ids.bob, 2);
    await slot(lockIds.back as string, ids.alice, 5);
    await slot(lockIds.flat as string, ids.carol, 1);

    // 30 rounds, interleaved across the locks so ledger order mixes them.
    for (let i = 0; i < 30; i++) {
      const at = T0 + i * MIN;
      const front = journals.front;
      const who = i % 2 === 0 ? 1 : 2; // Alice on even rounds, Bob on odd
      const batchFront =
        i % 5 === 4
          ? [
              front.next(
                EventKind.LockOperationError,
                at,
                { credentialType: "PIN" },
                {
                  reason: "unknown-credential",
                  source: "Keypad",
                },
              ),
            ]
          : [
              front.next(
                EventKind.LockOperation,
                at,
                { userIndex: who, credentialType: "PIN", credentialIndex: who },
                {
                  operation: "Unlock",
                  source: "Keypad",
                },
              ),
            ];
      await t.hub.ingestor.ingestBatch(
        { id: lockIds.front as string, publicKey: front.publicKey },
        batchFront,
      );
      const back = journals.back;
      const batchBack =
        i % 10 === 9
          ? [back.next(EventKind.Alarm, at + 1, {}, { alarm: "DoorForcedOpen" })]
          : [
              back.next(
                EventKind.LockOperation,
                at + 1,
                { userIndex: 5, credentialType: "RFID" },
                {
                  operation: "Unlock",
                  source: "RFID",
                },
              ),
            ];
      await t.hub.ingestor.ingestBatch({ id: lockIds.back as string, publicKey: back.publicKey }, batchBack);
      const flat = journals.flat;
      await t.hub.ingestor.ingestBatch({ id: lockIds.flat as string, publicKey: flat.publicKey }, [
        flat.next(
          EventKind.LockOperation,
          at + 2,
          { userIndex: 1, credentialType: "PIN" },
          {
            operation: "Unlock",
            source: "Keypad",
          },
        ),
      ]);
      siteAEvents += 2;
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const get = async (site: string, q = ""): Promise<Page> => {
    const res = await owner.client.get(`/api/v1/sites/${site}/events${q === "" ? "" : `?${q}`}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Page>();
  };
  const all = async (site: string, q: string): Promise<Item[]> => {
    const out: Item[] = [];
    let before: string | null = null;
    for (let n = 0; n < 1000; n++) {
      const page: Page = await get(site, `${q}${before === null ? "" : `&before=${before}`}`);
      out.push(...page.items);
      before = page.nextBefore;
      if (before === null) return out;
    }
    throw new Error("paging did not end");
  };

  it("lists the site's events newest first, in words a screen can use, sealed by the lock", async () => {
    const page = await get(ids.siteA as string, "limit=200");
    expect(page.items).toHaveLength(siteAEvents);
    expect(page.nextBefore).toBeNull();
    const indexes = page.items.map((i) => i.ledgerIndex);
    expect([...indexes].sort((a, b) => b - a)).toEqual(indexes);
    const newest = page.items[0] as Item;
    expect(newest).toMatchObject({
      lockId: lockIds.back,
      doorId: ids.back,
      doorName: "Back door",
      kind: "Alarm",
      outcome: "alarm",
      alarm: "DoorForcedOpen",
      personId: null,
      sealedByLock: true,
      at: T0 + 29 * MIN + 1,
    });
    const granted = page.items.find(
      (i) => i.lockId === lockIds.front && i.outcome === "granted" && i.personName === "Bob",
    );
    expect(granted).toMatchObject({
      personId: ids.bob,
      credentialType: "PIN",
      kind: "LockOperation",
      reason: null,
    });
    const denied = page.items.find((i) => i.outcome === "denied");
    expect(denied).toMatchObject({
      kind: "LockOperationError",
      reason: "unknown-credential",
      personId: null,
    });
  });

  it("never shows another site's events; a door of another site finds nothing", async () => {
    const a = await get(ids.siteA as string, "limit=200");
    expect(a.items.some((i) => i.lockId === lockIds.flat)).toBe(false);
    const b = await get(ids.siteB as string, "limit=200");
    expect(b.items).toHaveLength(30);
    expect(b.items.every((i) => i.lockId === lockIds.flat && i.personName === "Carol")).toBe(true);
    expect((await get(ids.siteA as string, `doorId=${ids.flatDoor}`)).items).toEqual([]);
    expect((await get(ids.siteA as string, `personId=${ids.carol}`)).items).toEqual([]);
  });

  it("pages with the cursor through every event exactly once", async () => {
    const whole = (await get(ids.siteA as string, "limit=200")).items;
    const paged = await all(ids.siteA as string, "limit=7");
    expect(paged.map((i) => `${i.lockId}/${i.seq}`)).toEqual(whole.map((i) => `${i.lockId}/${i.seq}`));
    // A cursor from the middle: everything strictly older.
    const mid = whole[20] as Item;
    const rest = (await get(ids.siteA as string, `limit=200&before=${mid.ledgerIndex}`)).items;
    expect(rest).toEqual(whole.slice(21));
  });

  it("filters by door, person, kind and lock time", async () => {
    const front = await all(ids.siteA as string, `limit=50&doorId=${ids.front}`);
    expect(front).toHaveLength(30);
    expect(front.every((i) => i.doorName === "Front door")).toBe(true);

    const alice = await all(ids.siteA as string, `limit=5&personId=${ids.alice}`);
    // Front: even rounds not denied (i%5==4 are denials: 4,14,24 even) → 15 − 3 = 12; back: 27 RFID unlocks.
    expect(alice).toHaveLength(12 + 27);
    expect(alice.every((i) => i.personId === ids.alice && i.personName === "Alice")).toBe(true);

    const either = await all(ids.siteA as string, "limit=50&kind=LockOperationError,Alarm");
    expect(new Set(either.map((i) => i.kind))).toEqual(new Set(["LockOperationError", "Alarm"]));
    expect(either).toHaveLength(6 + 3);
    expect((await get(ids.siteA as string, "kind=LockOperationError,Alarm&count=true")).total).toBe(9);

    const denied = await all(ids.siteA as string, "limit=50&kind=LockOperationError");
    expect(denied.map((i) => i.at)).toEqual([29, 24, 19, 14, 9, 4].map((r) => T0 + r * MIN));

    const window = await all(ids.siteA as string, `limit=50&from=${T0 + 10 * MIN}&to=${T0 + 12 * MIN}`);
    expect(window.map((i) => i.at)).toEqual(
      [11, 11, 10, 10].map((r, k) => T0 + r * MIN + (k % 2 === 0 ? 1 : 0)),
    );
  });

  it("counts every match and reads any position directly (offset), pinned by top", async () => {
    const whole = (await get(ids.siteA as string, "limit=200")).items;
    const first = await get(ids.siteA as string, "limit=5&count=true");
    expect(first.total).toBe(siteAEvents);
    expect(Number(first.top)).toBe(whole[0]?.ledgerIndex);
    const pin = `before=${Number(first.top) + 1}`;
    for (const offset of [0, 7, 31, siteAEvents - 3]) {
      const page = await get(ids.siteA as string, `limit=5&offset=${offset}&${pin}`);
      expect(page.items.map((i) => i.ledgerIndex)).toEqual(
        whole.slice(offset, offset + 5).map((i) => i.ledgerIndex),
      );
    }
    expect((await get(ids.siteA as string, `limit=5&offset=${siteAEvents}&${pin}`)).items).toEqual([]);
    // Filtered counts match the filtered lists.
    for (const q of [
      `doorId=${ids.front}`,
      `personId=${ids.alice}`,
      "kind=LockOperationError",
      `from=${T0 + 10 * MIN}&to=${T0 + 20 * MIN}`,
      `personId=${ids.bob}&kind=LockOperation&from=${T0 + 5 * MIN}`,
    ]) {
      const counted = await get(ids.siteA as string, `${q}&limit=1&count=true`);
      expect(counted.total, q).toBe((await all(ids.siteA as string, `${q}&limit=50`)).length);
      const deep = await get(ids.siteA as string, `${q}&limit=3&offset=4`);
      expect(deep.items, q).toEqual((await all(ids.siteA as string, `${q}&limit=50`)).slice(4, 7));
    }
    // Another site's person or door counts nothing here.
    expect((await get(ids.siteA as string, `personId=${ids.carol}&count=true`)).total).toBe(0);
    expect((await get(ids.siteA as string, `doorId=${ids.flatDoor}&count=true`)).total).toBe(0);
  });

  it("events ingested before the filter columns existed are described at start, with the same answers", async () => {
    const db = t.hub.ledger.db;
    const queries = ["limit=200", `limit=200&personId=${ids.alice}`, `limit=200&from=${T0 + 10 * MIN}`];
    const before = await Promise.all(queries.map((q) => get(ids.siteA as string, q)));
    // As rows written before migration 0006 look.
    await db
      .updateTable("lock_events")
      .set({ site_id: null, at: null, person_id: null, described: 0 })
      .where("lock_id", "in", [lockIds.front as string, lockIds.back as string])
      .execute();
    expect((await get(ids.siteA as string, "limit=200&count=true")).total).toBe(0);
    const lines: unknown[] = [];
    const n = await describeOldEvents(db, eventsLedger(t.hub.ctx), { info: (o: unknown) => lines.push(o) });
    expect(n).toBe(siteAEvents);
    expect(lines.length).toBeGreaterThan(0);
    const after = await Promise.all(queries.map((q) => get(ids.siteA as string, q)));
    expect(after).toEqual(before);
    expect(await describeOldEvents(db, eventsLedger(t.hub.ctx), { info: () => undefined })).toBe(0);
  });

  it("refuses unknown kinds and oversize pages", async () => {
    for (const q of [
      "kind=Nope",
      "limit=201",
      "limit=0",
      "from=-1",
      "before=0",
      "offset=-1",
      "offset=1e3",
      "count=yes",
    ]) {
      const res = await owner.client.get(`/api/v1/sites/${ids.siteA}/events?${q}`);
      expect(res.statusCode, q).toBe(400);
    }
  });
});
