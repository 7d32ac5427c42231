/**
 * One behavioural suite, run against SQLite (always) and PostgreSQL (127.0.0.1:5432, database
 * "test", user postgres; a fresh schema per run, dropped afterwards). Without PostgreSQL the PG
 * suite is skipped with a message, except in CI (CI=true) where it fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, it as vitestIt } from "vitest";
import {
  checkpointTextHash,
  cosignerOf,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  encodeLedgerLeaf,
  isLatchkeyError,
  MemoryMerkleTree,
  openCheckpoint,
  openNote,
  parseNote,
  sha256MerkleHasher,
  signCosignature,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type NoteSignature,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { Ledger, type LedgerOptions } from "./ledger.js";
import { SqliteLedgerStore } from "./sqlite-store.js";
import { PgLedgerStore } from "./pg-store.js";
import type { LedgerStore } from "./store.js";
import { sampleLeaf, TEST_HUB_SEED, TEST_ORIGIN } from "./test-fixtures.js";

const signer = ed25519NoteSigner(TEST_ORIGIN, TEST_HUB_SEED, nodeEd25519);
const WITNESS_SEED = new Uint8Array(32).fill(0x57);
const witness = cosignerOf("witness.test/w1", nodeEd25519.publicKey(WITNESS_SEED));

async function code(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return e.code;
  }
}

interface Backend {
  /** A fresh, empty store; `again()` opens a second handle on the same database. */
  fresh(): Promise<{ store: LedgerStore; again: () => LedgerStore; tamper: (sql: string) => Promise<void> }>;
}

function memoryTreeOf(n: number): MemoryMerkleTree {
  const t = new MemoryMerkleTree(sha256MerkleHasher);
  for (let i = 0; i < n; i++) t.appendData(encodeLedgerLeaf(sampleLeaf(i)));
  return t;
}

function ledgerSuite(name: string, backend: () => Backend, available: () => boolean = () => true) {
  // Skips (with the reason logged in beforeAll) when the backend is unavailable.
  const it = (title: string, fn: () => Promise<void>) =>
    vitestIt(title, async (ctx) => {
      if (!available()) ctx.skip();
      await fn();
    });
  describe(name, () => {
    const open = (store: LedgerStore, extra: Partial<LedgerOptions> = {}) =>
      Ledger.open({
        store,
        origin: TEST_ORIGIN,
        signer,
        ed: nodeEd25519,
        checkpointEvery: { entries: 8 },
        ...extra,
      });

    it("appends every leaf kind and matches the reference tree, proofs verify against signed checkpoints", async () => {
      const { store } = await backend().fresh();
      const ledger = await open(store);
      const appended = [];
      for (let i = 0; i < 11; i++) appended.push(await ledger.append(sampleLeaf(i)));
      appended.push(
        ...(await ledger.appendMany([12, 13, 14, 15, 16, 17, 18, 19, 20].map((i) => sampleLeaf(i - 1)))),
      );
      expect(appended.map((a) => a.index)).toEqual([...Array(20).keys()]);
      const ref = memoryTreeOf(20);
      expect(toHex(await ledger.root())).toBe(toHex(ref.root()));
      // checkpoint policy: every 8 entries
      const cps = await ledger.listCheckpoints();
      expect(cps.map((c) => c.size)).toEqual([8, 20]);
      for (const cp of cps) {
        const opened = openCheckpoint(cp.note, TEST_ORIGIN, signer.publicKey, nodeEd25519);
        expect(toHex(opened.checkpoint.rootHash)).toBe(toHex(ref.root(cp.size)));
        for (let i = 0; i < cp.size; i++) {
          const p = await ledger.inclusionProof(i, cp.size);
          verifyInclusion(sha256MerkleHasher, i, cp.size, p.leafHash, p.hashes, opened.checkpoint.rootHash);
        }
      }
      const c = await ledger.consistencyProof(8, 20);
      verifyConsistency(sha256MerkleHasher, 8, 20, c.hashes, ref.root(8), ref.root(20));
      const e = await ledger.entry(2);
      expect(e.leaf).toEqual(sampleLeaf(2));
      expect(toHex(e.leafHash)).toBe(toHex(ref.lookup({ level: 0, index: 2 }) as Uint8Array));
    });

    it("refuses bad ranges and unknown rows with stable codes", async () => {
      const { store } = await backend().fresh();
      const ledger = await open(store);
      await ledger.appendMany([0, 1, 2].map(sampleLeaf));
      expect(await code(ledger.inclusionProof(3))).toBe("LEDGER_RANGE_INVALID");
      expect(await code(ledger.inclusionProof(0, 4))).toBe("LEDGER_RANGE_INVALID");
      expect(await code(ledger.consistencyProof(0, 3))).toBe("LEDGER_RANGE_INVALID");
      expect(await code(ledger.getCheckpoint(2))).toBe("LEDGER_CHECKPOINT_NOT_FOUND");
      expect(await code(ledger.entry(3))).toBe("LEDGER_LEAF_NOT_FOUND");
      expect(await ledger.size()).toBe(3);
    });

    it("signs a checkpoint after T seconds when leaves are pending", async () => {
      const { store } = await backend().fresh();
      let now = 1_000_000;
      const ledger = await open(store, { checkpointEvery: { entries: 100, seconds: 30 }, now: () => now });
      await ledger.append(sampleLeaf(0));
      expect(await ledger.checkpointIfDue()).toBeUndefined();
      now += 29_000;
      expect(await ledger.checkpointIfDue()).toBeUndefined();
      now += 2_000;
      expect((await ledger.checkpointIfDue())?.size).toBe(1);
      now += 60_000;
      expect(await ledger.checkpointIfDue()).toBeUndefined(); // nothing new to sign
      await ledger.append(sampleLeaf(1));
      now += 31_000;
      expect((await ledger.checkpointIfDue())?.size).toBe(2);
    });

    it("stores witness cosignatures and lock acks; rejects forged ones without changing state (attack)", async () => {
      const { store } = await backend().fresh();
      const ledger = await open(store);
      await ledger.appendMany([0, 1, 2, 3, 4].map(sampleLeaf));
      const cp = await ledger.checkpoint();
      const text = parseNote(cp.note).text;
      const good = signCosignature(text, witness.name, WITNESS_SEED, 1_700_000_000, nodeEd25519);
      const forged: NoteSignature = {
        ...good,
        signature: good.signature.map((b, i) => (i === 20 ? b ^ 1 : b)),
      };
      expect(await code(ledger.addWitnessCosignature(cp.size, forged, witness))).toBe(
        "NOTE_SIGNATURE_INVALID",
      );
      const otherText = signCosignature(
        text.replace("\n5\n", "\n6\n"),
        witness.name,
        WITNESS_SEED,
        1,
        nodeEd25519,
      );
      expect(await code(ledger.addWitnessCosignature(cp.size, otherText, witness))).toBe(
        "NOTE_SIGNATURE_INVALID",
      );
      expect(await ledger.cosignatures(cp.size)).toEqual([]);

      expect((await ledger.addWitnessCosignature(cp.size, good, witness)).timestamp).toBe(1_700_000_000);
      const lockId = "000102030405060708090a0b0c0d0e0f";
      const wrongHash = checkpointTextHash(text.replace("\n5\n", "\n6\n"));
      expect(await code(ledger.addLockAck(cp.size, lockId, wrongHash, Uint8Array.of(1)))).toBe(
        "LEDGER_ACK_MISMATCH",
      );
      expect((await ledger.cosignatures(cp.size)).map((c) => c.kind)).toEqual(["witness"]);
      await ledger.addLockAck(cp.size, lockId, checkpointTextHash(text), Uint8Array.of(9, 9));
      const all = await ledger.cosignatures(cp.size);
      expect(all.map((c) => [c.kind, c.signer])).toEqual([
        ["lock-ack", lockId],
        ["witness", witness.name],
      ]);
      expect(Array.from(all[0]?.signature ?? [])).toEqual([9, 9]);

      // The cosigned note opens for the hub key and the witness (cosignature/v1 checked separately).
      const cosigned = await ledger.cosignedCheckpoint(cp.size);
      const opened = openNote(cosigned, [ed25519NoteVerifier(TEST_ORIGIN, signer.publicKey, nodeEd25519)]);
      expect(opened.unverified.map((s) => s.name)).toEqual([witness.name]);
      expect(await code(ledger.addWitnessCosignature(999, good, witness))).toBe(
        "LEDGER_CHECKPOINT_NOT_FOUND",
      );
    });

    it("finds the latest checkpoint every named witness cosigned, and tells listeners of each checkpoint", async () => {
      const { store } = await backend().fresh();
      const ledger = await open(store, { checkpointEvery: { entries: 1_000_000 } });
      const seen: number[] = [];
      const stop = ledger.onCheckpoint((cp) => {
        seen.push(cp.size);
        return new Promise((resolve) => setTimeout(resolve, 30));
      });
      const seed2 = new Uint8Array(32).fill(0x58);
      const w2 = cosignerOf("witness.test/w2", nodeEd25519.publicKey(seed2));
      const cosign = async (size: number, who: typeof witness, seed: Uint8Array) => {
        const text = parseNote((await ledger.getCheckpoint(size)).note).text;
        await ledger.addWitnessCosignature(size, signCosignature(text, who.name, seed, 1, nodeEd25519), who);
      };
      for (const n of [2, 4, 6]) {
        await ledger.appendMany([0, 1].map((i) => sampleLeaf(n + i)));
        await ledger.checkpoint();
      }
      expect(seen).toEqual([2, 4, 6]);
      expect(await ledger.checkpointWorkSettled(5_000)).toBe(true);
      stop();
      await ledger.checkpoint();
      expect(seen).toEqual([2, 4, 6]);
      expect(await ledger.latestCosignedSize([witness.name])).toBeUndefined();
      await cosign(2, witness, WITNESS_SEED);
      await cosign(4, witness, WITNESS_SEED);
      await cosign(6, w2, seed2);
      expect(await ledger.latestCosignedSize([witness.name])).toBe(4);
      expect(await ledger.latestCosignedSize([w2.name])).toBe(6);
      expect(await ledger.latestCosignedSize([witness.name, w2.name])).toBeUndefined();
      await cosign(2, w2, seed2);
      expect(await ledger.latestCosignedSize([witness.name, w2.name, witness.name])).toBe(2);
      expect(await ledger.latestCosignedSize([])).toBeUndefined();
      // A lock's acknowledgement is not a witness cosignature.
      await ledger.addLockAck(
        6,
        "witness.test/w1",
        checkpointTextHash(parseNote((await ledger.getCheckpoint(6)).note).text),
        Uint8Array.of(1),
      );
      expect(await ledger.latestCosignedSize([witness.name])).toBe(4);
    });

    it("continues after reopening and with two writers on one database", async () => {
      const { store, again } = await backend().fresh();
      const a = await open(store);
      await a.appendMany([0, 1, 2, 3, 4].map(sampleLeaf));
      const b = await open(again());
      await b.append(sampleLeaf(5)); // b loads the frontier from disk
      await a.append(sampleLeaf(6)); // a's cached frontier is stale and must be reloaded
      await b.appendMany([7, 8].map(sampleLeaf));
      expect(toHex(await a.root())).toBe(toHex(memoryTreeOf(9).root()));
      // Concurrent writers are serialised by the database; nothing is lost or duplicated.
      await Promise.all([
        a.appendMany([9, 10, 11].map(sampleLeaf)),
        b.appendMany([12, 13].map(sampleLeaf)),
        a.append(sampleLeaf(14)),
      ]);
      expect(await b.size()).toBe(15);
      const audit = await b.audit(4);
      expect(audit.reason).toBeUndefined();
      expect(audit.ok).toBe(true);
    });

    it("is append-only in the database and the audit names the first altered leaf (attack)", async () => {
      const { store, tamper } = await backend().fresh();
      const ledger = await open(store);
      await ledger.appendMany([...Array(30).keys()].map(sampleLeaf));
      const rootBefore = toHex(await ledger.root());
      let refused = false;
      try {
        await tamper("UPDATE ledger_leaf SET appended_at = 0 WHERE idx = 3");
      } catch {
        refused = true;
      }
      expect(refused).toBe(true);
      expect((await ledger.audit(7)).ok).toBe(true);
      expect(toHex(await ledger.root())).toBe(rootBefore);
    });
  });
}

// --- SQLite ----------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), "latchkey-ledger-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

ledgerSuite("ledger on SQLite", () => ({
  fresh: () => {
    const path = join(tmp, `${randomBytes(6).toString("hex")}.db`);
    const db = new Database(path);
    return Promise.resolve({
      store: new SqliteLedgerStore(db),
      again: () => new SqliteLedgerStore(new Database(path)),
      tamper: (sql: string) => {
        db.exec(sql);
        return Promise.resolve();
      },
    });
  },
}));

describe("ledger on SQLite: tampering below the triggers", () => {
  it("names the first altered leaf, node or checkpoint", async () => {
    for (const [sql, want] of [
      ["UPDATE ledger_leaf SET data = data || x'00' WHERE idx = 13", 13],
      ["UPDATE ledger_node SET hash = zeroblob(32) WHERE id = 20", 11], // nodeKey(0, 11) = 20
      ["DELETE FROM ledger_leaf WHERE idx = 17", 17],
    ] as const) {
      const db = new Database(join(tmp, `${randomBytes(6).toString("hex")}.db`));
      const ledger = await Ledger.open({
        store: new SqliteLedgerStore(db),
        origin: TEST_ORIGIN,
        signer,
        ed: nodeEd25519,
        checkpointEvery: { entries: 16 },
      });
      await ledger.appendMany([...Array(24).keys()].map(sampleLeaf));
      // An attacker with file access can drop the triggers; verification must still catch it.
      db.exec("DROP TRIGGER ledger_leaf_no_update; DROP TRIGGER ledger_leaf_no_delete;");
      db.exec("DROP TRIGGER ledger_node_no_update;");
      db.exec(sql);
      const result = await ledger.audit(5);
      expect(result.ok, sql).toBe(false);
      expect(result.firstBadIndex, sql).toBe(want);
    }
  });
});

// --- PostgreSQL ------------------------------------------------------------------------------

const PG = {
  host: "127.0.0.1",
  port: 5432,
  user: "postgres",
  database: "test",
  connectionTimeoutMillis: 2000,
};
const schema = `ledger_test_${process.pid}_${randomBytes(4).toString("hex")}`;
let pgAvailable = false;
let pool: pg.Pool | undefined;
let schemaCount = 0;

beforeAll(async () => {
  const probe = new pg.Client(PG);
  try {
    await probe.connect();
    await probe.end();
    pgAvailable = true;
  } catch (e) {
    if (process.env.CI === "true") throw new Error(`PostgreSQL is required in CI: ${(e as Error).message}`);
    console.warn(
      `PostgreSQL not reachable at 127.0.0.1:5432 (${(e as Error).message}): skipping the PostgreSQL ledger tests`,
    );
  }
  if (pgAvailable) pool = new pg.Pool({ ...PG, max: 4 });
});

afterAll(async () => {
  if (pool !== undefined) {
    for (let i = 0; i < schemaCount; i++) await pool.query(`DROP SCHEMA IF EXISTS ${schema}_${i} CASCADE`);
    await pool.end();
  }
});

describe("PostgreSQL availability", () => {
  it("is reachable, or the PostgreSQL suite is skipped outside CI", (ctx) => {
    if (!pgAvailable) ctx.skip();
    expect(pool).toBeDefined();
  });
});

ledgerSuite(
  "ledger on PostgreSQL",
  () => ({
    fresh: () => {
      if (!pgAvailable || pool === undefined) throw new Error("PostgreSQL unavailable");
      const p = pool;
      const s = `${schema}_${schemaCount++}`;
      return Promise.resolve({
        store: new PgLedgerStore(p, { schema: s }),
        again: () => new PgLedgerStore(p, { schema: s }),
        tamper: async (sql: string) => {
          await p.query(sql.replaceAll("ledger_", `${s}.ledger_`));
        },
      });
    },
  }),
  () => pgAvailable,
);
