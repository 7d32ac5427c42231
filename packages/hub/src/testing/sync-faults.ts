/**
 * Test support for the sync fault tests (faults.test.ts, crash.test.ts): a site with doors and
 * commissioned virtual locks set up through the real API, many PINs for one person, the sync
 * state of credentials, and each lock's events as the ledger holds them compared with the lock's
 * own journal.
 */
import { createServer } from "node:net";
import { decodeSignedLockEvent, encodeSignedLockEvent, LedgerLeafKind, toHex } from "@latchkey/protocol";
import type { LockRuntime } from "@latchkey/lock";
import type { HubLedger } from "../ledger-service/hub-ledger.js";
import type { TestClient, TestHub } from "./hub-fixture.js";
import { stepUp, type SignedIn } from "./flows.js";
import type { SimLock } from "../sim/sim-lock.js";
import { eventually } from "./sync-support.js";

/** A free TCP port on the loopback (listen on 0, close, hand the number on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Site {
  readonly siteId: string;
  /** One door per lock, in the order of the locks. */
  readonly doors: string[];
}

/** A site with one door per lock; every lock commissioned onto its door and online. */
export async function commissionSite(t: TestHub, owner: SignedIn, locks: readonly SimLock[]): Promise<Site> {
  const c = owner.client;
  const site = await c.post("/api/v1/sites", { name: "Faults", timezone: "Europe/London" });
  if (site.statusCode !== 201) throw new Error(`site: ${site.body}`);
  const siteId = site.json<{ id: string }>().id;
  const doors: string[] = [];
  for (const [i, lock] of locks.entries()) {
    const d = await c.post(`/api/v1/sites/${siteId}/doors`, { name: `Door ${i + 1}` });
    if (d.statusCode !== 201) throw new Error(`door: ${d.body}`);
    const doorId = d.json<{ id: string }>().id;
    doors.push(doorId);
    await eventually("the lock announces itself", async () => {
      const r = await c.get(`/api/v1/sites/${siteId}/commissioning`);
      return r.json<{ items: { lockId: string }[] }>().items.some((x) => x.lockId === lock.lockId);
    });
    await stepUp(t, owner);
    const r = await c.post(`/api/v1/doors/${doorId}/lock`, {
      setupCode: lock.setupCode,
      lockId: lock.lockId,
    });
    if (r.statusCode !== 201) throw new Error(`commission: ${r.body}`);
  }
  for (const door of doors) {
    await eventually("the lock is online with its state read", async () => {
      const r = await c.get(`/api/v1/doors/${door}/lock`);
      const v = r.json<{ online: boolean; condition: unknown }>();
      return v.online && v.condition !== null;
    });
  }
  return { siteId, doors };
}

/** A person with an always-on grant to `doorIds`. */
export async function grantedPerson(
  c: TestClient,
  siteId: string,
  doorIds: string[],
  name = "Pat",
): Promise<string> {
  const person = await c.post(`/api/v1/sites/${siteId}/people`, { name });
  if (person.statusCode !== 201) throw new Error(`person: ${person.body}`);
  const personId = person.json<{ id: string }>().id;
  const grant = await c.post(`/api/v1/people/${personId}/grants`, {
    doorIds,
    category: "resident",
    schedule: { kind: "always" },
  });
  if (grant.statusCode !== 201) throw new Error(`grant: ${grant.body}`);
  return personId;
}

export interface NewPin {
  readonly id: string;
  readonly pin: string;
}

export async function addPins(c: TestClient, personId: string, n: number): Promise<NewPin[]> {
  const out: NewPin[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.post(`/api/v1/people/${personId}/credentials`, { kind: "pin" });
    if (r.statusCode !== 201) throw new Error(`credential: ${r.body}`);
    const j = r.json<{ credential: { id: string }; pin: string }>();
    out.push({ id: j.credential.id, pin: j.pin });
  }
  return out;
}

export interface SyncItem {
  readonly lockId: string;
  readonly doorId: string;
  readonly state: string;
  readonly reason: string | null;
  readonly attempts: number;
}

export async function syncOf(c: TestClient, credentialId: string): Promise<SyncItem[]> {
  const r = await c.get(`/api/v1/credentials/${credentialId}/sync`);
  if (r.statusCode !== 200) throw new Error(`sync: ${r.body}`);
  return r.json<{ items: SyncItem[] }>().items;
}

/** The state of `credentialId` on `lockId` (undefined when no row). */
export async function stateOn(
  c: TestClient,
  credentialId: string,
  lockId: string,
): Promise<string | undefined> {
  return (await syncOf(c, credentialId)).find((i) => i.lockId === lockId)?.state;
}

/** Each lock's events in ledger order: lock id → hex of every record. */
export async function ledgerLockRecords(ledger: HubLedger["ledger"]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const entry of await ledger.entries(0, await ledger.size())) {
    if (entry.leaf.kind !== LedgerLeafKind.LockEvent) continue;
    const id = toHex(entry.leaf.lockId);
    const list = out.get(id) ?? [];
    list.push(toHex(entry.leaf.record));
    out.set(id, list);
  }
  return out;
}

/** Seqs of records (hex), in order. */
export function seqsOf(records: readonly string[]): number[] {
  return records.map((hex) => decodeSignedLockEvent(Buffer.from(hex, "hex")).seq);
}

/** The lock's whole journal as hex records (seq 1 … nextSeq − 1). */
export function journalRecords(rt: LockRuntime): string[] {
  const last = rt.journal.nextSeq - 1;
  const out: string[] = [];
  for (let from = 1; from <= last; from += 500) {
    for (const e of rt.journal.read(from, Math.min(500, last - from + 1)))
      out.push(toHex(encodeSignedLockEvent(e)));
  }
  return out;
}

/**
 * Compares the lock's events in the ledger with the lock's own journal: every event exactly once,
 * seqs 1…N gapless, in order, byte for byte. Returns null when they match, else what differs.
 */
export async function ledgerVersusJournal(
  ledger: HubLedger["ledger"],
  lockId: string,
  rt: LockRuntime,
): Promise<string | null> {
  const held = (await ledgerLockRecords(ledger)).get(lockId) ?? [];
  const journal = journalRecords(rt);
  const seqs = seqsOf(held);
  const firstBadSeq = seqs.findIndex((s, i) => s !== i + 1);
  if (firstBadSeq >= 0) return `ledger seq #${firstBadSeq} is ${seqs[firstBadSeq]} (duplicate or gap)`;
  if (held.length !== journal.length)
    return `ledger holds ${held.length} events, the lock's journal ${journal.length}`;
  const differs = held.findIndex((h, i) => h !== journal[i]);
  return differs >= 0 ? `event seq ${differs + 1} differs from the lock's` : null;
}

/** Waits until the ledger holds exactly the lock's journal (see ledgerVersusJournal); throws what differs. */
export async function untilLedgerMatchesJournal(
  ledger: HubLedger["ledger"],
  lockId: string,
  rt: () => LockRuntime,
  timeoutMs = 30_000,
): Promise<void> {
  let last: string | null = "not checked";
  try {
    await eventually(
      `the ledger holds lock ${lockId}'s journal`,
      async () => (last = await ledgerVersusJournal(ledger, lockId, rt())) === null,
      timeoutMs,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${last}`);
  }
}
