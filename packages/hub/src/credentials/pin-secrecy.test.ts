/**
 * The hub is no PIN oracle and its disk reveals no PIN (DESIGN invariant 6). Everything real: the
 * hub in-process on a real SQLite file with its embedded broker, a virtual lock commissioned
 * through the API and speaking the protocol over MQTT.
 *
 *  a. A site manager who tries many candidate PINs for a person on a victim's door gets the same
 *     answer for every one, the victim's included; chosen PINs are throttled per account.
 *  b. The duplicate is caught where PINs are kept, on the lock: the credential shows failed
 *     with LOCK_CREDENTIAL_DUPLICATE there, and replace-pin swaps in a new generated PIN.
 *  c. A copy of the whole data folder, taken while the hub runs, holds nothing that its own keys
 *     can test a PIN against: the whole 4-, 5- and 6-digit space is tried against every byte.
 *  d. One PIN policy: a lock set to want 8 digits reports it, and the hub refuses a shorter
 *     chosen PIN for that lock's site before anything is created, and generates 8 digits there.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import SqliteDatabase from "better-sqlite3";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, invite, stepUp, type SignedIn } from "../testing/flows.js";
import { SimLock } from "../sim/sim-lock.js";
import { HubSecret } from "../keys/hub-secret.js";
import { eventually, FAST_SYNC } from "../testing/sync-support.js";
import { commissionSite, grantedPerson, syncOf } from "../testing/sync-faults.js";
import { quickSimLock } from "../sim/test-support.js";

const VICTIM_PIN = "480917";

describe("PIN secrecy (sqlite, embedded broker, a virtual lock)", () => {
  let t: TestHub;
  let owner: SignedIn;
  let manager: SignedIn;
  let lock: SimLock;
  let siteId: string;
  let door: string;
  const lockDir = mkdtempSync(join(tmpdir(), "latchkey-pin-secrecy-"));
  const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
  /** Every PIN this suite made, to look for on disk. */
  const pins: string[] = [VICTIM_PIN];

  beforeAll(async () => {
    t = await startTestHub("sqlite", {
      mqttPort: 0,
      host: "127.0.0.1",
      topicPrefix,
      syncPolicy: FAST_SYNC,
    });
    owner = await createOwner(t);
    lock = await SimLock.start(
      quickSimLock({
        dir: join(lockDir, "front"),
        url: `mqtt://127.0.0.1:${t.hub.gateway.broker?.port ?? 0}`,
        topicPrefix,
        wallMs: t.clock.now,
      }),
    );
    ({
      siteId,
      doors: [door = ""],
    } = await commissionSite(t, owner, [lock]));
    manager = await invite(t, owner, siteId, "mia", "manager");
    const victim = await grantedPerson(owner.client, siteId, [door], "Vic");
    const r = await owner.client.post(`/api/v1/people/${victim}/credentials`, {
      kind: "pin",
      pin: VICTIM_PIN,
    });
    expect(r.statusCode, r.body).toBe(201);
    const id = r.json<{ credential: { id: string } }>().credential.id;
    await eventually("the victim's PIN is set on the lock", async () =>
      (await syncOf(owner.client, id)).every((s) => s.state === "set"),
    );
    expect(lock.lock.enterPin(VICTIM_PIN).granted).toBe(true);
  });
  afterAll(async () => {
    await lock?.stop();
    await t?.close();
    rmSync(lockDir, { recursive: true, force: true });
  });

  /** The answer with what differs by nature (new ids, times, the PIN itself) blanked. */
  function shape(r: { statusCode: number; headers: Record<string, unknown>; body: string }, pin: string) {
    const blanked = r.body
      .replace(/"(id|createdAt)":("[^"]*"|\d+)/g, '"$1":_')
      .replaceAll(`"pin":"${pin}"`, '"pin":_');
    return { status: r.statusCode, headers: Object.keys(r.headers).sort(), body: blanked };
  }

  let duplicateId = "";
  let diId = "";

  it("a: every candidate PIN gets the same answer, the victim's included; chosen PINs are throttled", async () => {
    diId = await grantedPerson(manager.client, siteId, [door], "Di");
    const candidates = [
      "583920",
      "702594",
      VICTIM_PIN,
      "319857",
      "864213",
      "250913",
      "947310",
      "615082",
      "093746",
      "428175",
    ];
    const shapes = [];
    for (const pin of candidates) {
      const r = await manager.client.post(`/api/v1/people/${diId}/credentials`, { kind: "pin", pin });
      shapes.push(shape(r, pin));
      if (pin === VICTIM_PIN) duplicateId = r.json<{ credential: { id: string } }>().credential.id;
    }
    for (const s of shapes) expect(s).toEqual(shapes[0]);
    expect(shapes[0]?.status).toBe(201);

    // The eleventh chosen PIN within the hour waits; a generated one never does.
    const throttled = await manager.client.post(`/api/v1/people/${diId}/credentials`, {
      kind: "pin",
      pin: "736201",
    });
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toMatchObject({ code: "HUB_PIN_RATE_LIMITED" });
    expect(throttled.headers["retry-after"]).toBe("1");
    expect(throttled.body).not.toContain("736201");
    const before = (await manager.client.get(`/api/v1/people/${diId}/credentials`)).json<{
      items: unknown[];
    }>();
    expect(before.items).toHaveLength(candidates.length);
    const generated = await manager.client.post(`/api/v1/people/${diId}/credentials`, { kind: "pin" });
    expect(generated.statusCode).toBe(201);
    pins.push(generated.json<{ pin: string }>().pin);
    t.clock.now += 1000;
    const later = await manager.client.post(`/api/v1/people/${diId}/credentials`, {
      kind: "pin",
      pin: "736201",
    });
    expect(later.statusCode).toBe(201);
    pins.push(...candidates, "736201");
  });

  it("b: the lock refuses the duplicate (failed: LOCK_CREDENTIAL_DUPLICATE); replace-pin swaps in a new PIN", async () => {
    await eventually("the lock refused the duplicate", async () =>
      (await syncOf(owner.client, duplicateId)).some(
        (s) => s.state === "failed" && s.reason === "LOCK_CREDENTIAL_DUPLICATE",
      ),
    );
    // The victim's PIN still opens for the victim only: the lock kept its own copy.
    expect(lock.lock.enterPin(VICTIM_PIN).granted).toBe(true);

    t.clock.now += 6 * 60_000;
    const refused = await manager.client.post(`/api/v1/credentials/${duplicateId}/replace-pin`, {});
    expect(refused.json()).toMatchObject({ code: "AUTH_STEP_UP_REQUIRED" });
    await stepUp(t, manager);
    const r = await manager.client.post(`/api/v1/credentials/${duplicateId}/replace-pin`, {});
    expect(r.statusCode, r.body).toBe(201);
    const replaced = r.json<{
      credential: { id: string; status: string; label: string };
      pin: string;
      replaced: string;
    }>();
    expect(replaced.replaced).toBe(duplicateId);
    expect(replaced.pin).toMatch(/^\d{6}$/);
    expect(replaced.credential).toMatchObject({ status: "active", label: "PIN" });
    pins.push(replaced.pin);
    const list = await manager.client.get(`/api/v1/people/${diId}/credentials`);
    expect(list.body).not.toContain(replaced.pin);
    const old = list
      .json<{ items: { id: string; status: string }[] }>()
      .items.find((c) => c.id === duplicateId);
    expect(old?.status).toBe("revoked");
    await eventually("the new PIN is set and the old one is off the lock", async () => {
      const now = await syncOf(owner.client, replaced.credential.id);
      const before = await syncOf(owner.client, duplicateId);
      return now.every((s) => s.state === "set") && before.every((s) => s.state === "removed");
    });
    expect(lock.lock.enterPin(replaced.pin).granted).toBe(true);

    // Only an active PIN can be replaced; the revoked one cannot be replaced twice.
    const again = await manager.client.post(`/api/v1/credentials/${duplicateId}/replace-pin`, {});
    expect(again.json()).toMatchObject({ code: "HUB_CONFLICT" });
  });

  it("c: a copy of the data folder holds nothing its keys can test a PIN against (4-6 digits, whole space)", async () => {
    // The other ways a PIN reaches the hub: revoked, and handed over by a guest link.
    await stepUp(t, owner);
    const gil = await grantedPerson(owner.client, siteId, [door], "Gil");
    const revoked = await owner.client.post(`/api/v1/people/${gil}/credentials`, { kind: "pin" });
    pins.push(revoked.json<{ pin: string }>().pin);
    const revokedId = revoked.json<{ credential: { id: string } }>().credential.id;
    expect((await owner.client.post(`/api/v1/credentials/${revokedId}/revoke`)).statusCode).toBe(200);
    const guest = await owner.client.post(`/api/v1/people/${gil}/guest-pin`, { length: 6 });
    expect(guest.statusCode, guest.body).toBe(201);
    const token = new URL(guest.json<{ guestLink: { url: string } }>().guestLink.url).hash.slice(1);
    const opened = await t.client().post("/api/v1/guest/open", { token });
    pins.push(opened.json<{ pin: string }>().pin);
    const unopened = await owner.client.post(`/api/v1/people/${gil}/guest-pin`, { length: 6 });
    expect(unopened.statusCode).toBe(201);
    const card = await owner.client.post(`/api/v1/people/${gil}/credentials`, {
      kind: "card",
      cardNumber: "04A1B2C3",
    });
    expect(card.json<{ credential: { label: string } }>().credential.label).toBe("Card …B2C3");
    await eventually("every live credential reached the lock", async () =>
      (await syncOf(owner.client, revokedId)).every((s) => s.state === "removed" || s.state === "idle"),
    );

    // The thief's copy, taken while the hub runs.
    const copy = mkdtempSync(join(tmpdir(), "latchkey-stolen-"));
    try {
      cpSync(t.dataDir, copy, { recursive: true });
      const secret = new HubSecret(Buffer.from(readFileSync(join(copy, "secret.key"), "utf8").trim(), "hex"));
      const raw = Buffer.from(readFileSync(join(copy, "secret.key"), "utf8").trim(), "hex");
      const guesses = new PinGuesses([
        (pin) => Buffer.from(secret.keyedHash("pin", pin), "hex"),
        (pin) => Buffer.from(secret.keyedHash("card", pin), "hex"),
        (pin) => createHmac("sha256", raw).update(pin).digest(),
        (pin) => createHash("sha256").update(pin).digest(),
      ]);
      for (const pin of pins) expect(pin.length).toBeLessThanOrEqual(6);

      // No table keeps a secret hash; the dead pin_seals table is gone.
      const db = new SqliteDatabase(join(copy, "latchkey.sqlite"));
      try {
        const columns = db.prepare("select name from pragma_table_info('credentials')").all() as {
          name: string;
        }[];
        expect(columns.map((c) => c.name).sort()).toEqual(
          ["created_at", "id", "kind", "label", "person_id", "revoked_at", "site_id", "status"].sort(),
        );
        expect(db.prepare("select name from sqlite_master where name = 'pin_seals'").all()).toEqual([]);
      } finally {
        db.close();
      }
      const cardHash = secret.keyedHash("card", "04a1b2c3");

      const files = allFiles(copy);
      expect(files.map((f) => f.slice(copy.length + 1))).toEqual(
        expect.arrayContaining(["latchkey.sqlite", "secret.key", "ledger.sqlite"]),
      );
      for (const file of files) {
        const bytes = readFileSync(file);
        expect(guesses.findIn(bytes), file).toEqual([]);
        expect(bytes.toString("latin1").toLowerCase(), file).not.toContain(cardHash);
      }

      // The search is real: a keyed hash planted in the copy (hex, as the old column held it) is found.
      writeFileSync(join(copy, "planted"), `x${secret.keyedHash("pin", VICTIM_PIN)}\n`);
      expect(guesses.findIn(readFileSync(join(copy, "planted")))).toEqual([VICTIM_PIN]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("the locks' PIN policy (sqlite, embedded broker, a virtual lock set to 8 digits)", () => {
  let t: TestHub;
  let owner: SignedIn;
  let lock: SimLock;
  const lockDir = mkdtempSync(join(tmpdir(), "latchkey-pin-policy-"));
  const topicPrefix = `lk-test/${randomBytes(4).toString("hex")}`;
  afterAll(async () => {
    await lock?.stop();
    await t?.close();
    rmSync(lockDir, { recursive: true, force: true });
  });

  it("d: refuses a chosen PIN the lock would refuse, before creating anything; generates what it accepts", async () => {
    t = await startTestHub("sqlite", { mqttPort: 0, host: "127.0.0.1", topicPrefix, syncPolicy: FAST_SYNC });
    owner = await createOwner(t);
    lock = await SimLock.start(
      quickSimLock({
        dir: join(lockDir, "gate"),
        url: `mqtt://127.0.0.1:${t.hub.gateway.broker?.port ?? 0}`,
        topicPrefix,
        wallMs: t.clock.now,
      }),
    );
    // The installer raised this lock's minimum at the lock itself.
    lock.lock.runtime.updateSettings({ minPinLength: 8 });
    const { siteId, doors } = await commissionSite(t, owner, [lock]);
    const person = await grantedPerson(owner.client, siteId, doors, "Pat");
    const short = await owner.client.post(`/api/v1/people/${person}/credentials`, {
      kind: "pin",
      pin: "583920",
    });
    expect(short.statusCode).toBe(422);
    expect(short.json()).toMatchObject({
      code: "HUB_PIN_WEAK",
      details: { rule: "length", minLength: 8, maxLength: 12 },
    });
    expect(short.body).not.toContain("583920");
    const shortGenerated = await owner.client.post(`/api/v1/people/${person}/credentials`, {
      kind: "pin",
      length: 6,
    });
    expect(shortGenerated.json()).toMatchObject({ code: "HUB_PIN_WEAK" });
    expect((await owner.client.get(`/api/v1/people/${person}/credentials`)).json()).toEqual({ items: [] });

    const chosen = await owner.client.post(`/api/v1/people/${person}/credentials`, {
      kind: "pin",
      pin: "58392071",
    });
    expect(chosen.statusCode).toBe(201);
    const generated = await owner.client.post(`/api/v1/people/${person}/credentials`, { kind: "pin" });
    expect(generated.json<{ pin: string }>().pin).toMatch(/^\d{8}$/);
    for (const r of [chosen, generated]) {
      const id = r.json<{ credential: { id: string } }>().credential.id;
      await eventually("the lock accepts the PIN", async () =>
        (await syncOf(owner.client, id)).every((s) => s.state === "set"),
      );
    }
    expect(lock.lock.enterPin("58392071").granted).toBe(true);
  });
});

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/**
 * Every 4-, 5- and 6-digit PIN under every digest function, indexed by the digest's first four
 * bytes (a sorted array of 4.4 million entries, 35 MB), so a file is searched at every byte
 * offset, as raw bytes, as hex text and as base64/base64url text. A prefix hit is confirmed by
 * computing that one digest again.
 */
class PinGuesses {
  readonly #fns: ((pin: string) => Buffer)[];
  /** Per entry, little-endian 64-bit: low word = entry number, high word = digest prefix; sorted. */
  readonly #index: Uint32Array;
  readonly #pins: string[] = [];

  constructor(fns: ((pin: string) => Buffer)[]) {
    for (const len of [4, 5, 6])
      for (let n = 0; n < 10 ** len; n++) this.#pins.push(String(n).padStart(len, "0"));
    this.#fns = fns;
    const keys = new BigUint64Array(this.#pins.length * fns.length);
    const words = new Uint32Array(keys.buffer);
    let e = 0;
    for (const pin of this.#pins) {
      for (const fn of fns) {
        words[2 * e] = e;
        words[2 * e + 1] = fn(pin).readUInt32BE(0);
        e++;
      }
    }
    keys.sort();
    this.#index = words;
  }

  /** PINs whose digest appears in `bytes` (raw, hex or base64 text), each once. */
  findIn(bytes: Buffer): string[] {
    const found = new Set<string>();
    for (const view of [bytes, ...decodedRuns(bytes.toString("latin1"))]) {
      for (let off = 0; off + 32 <= view.length; off++) {
        for (const e of this.#entriesWithPrefix(view.readUInt32BE(off))) {
          const pin = this.#pins[Math.floor(e / this.#fns.length)] ?? "";
          const digest = this.#fns[e % this.#fns.length]?.(pin);
          if (digest !== undefined && digest.compare(view, off, off + 32) === 0) found.add(pin);
        }
      }
    }
    return [...found];
  }

  *#entriesWithPrefix(prefix: number): Generator<number> {
    const w = this.#index;
    let lo = 0;
    let hi = w.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((w[2 * mid + 1] ?? 0) < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < w.length / 2 && w[2 * i + 1] === prefix; i++) yield w[2 * i] ?? 0;
  }
}

/** The bytes behind every hex run (both nibble alignments) and base64/base64url run of a text. */
function decodedRuns(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(/[0-9a-fA-F]{64,}/g)) {
    out.push(Buffer.from(m[0].slice(0, m[0].length & ~1), "hex"));
    out.push(Buffer.from(m[0].slice(1, 1 + ((m[0].length - 1) & ~1)), "hex"));
  }
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{43,}/g)) {
    for (let shift = 0; shift < 4; shift++) out.push(Buffer.from(m[0].slice(shift), "base64url"));
  }
  return out;
}
