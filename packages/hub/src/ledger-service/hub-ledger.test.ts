/**
 * The hub owns a ledger: its checkpoint key, administrative actions flowing in from the audit
 * trail (never a secret), crash catch-up across restarts, checkpoint policy, and the HTTP API
 * whose proofs a verifier checks with the pure protocol code. SQLite and PostgreSQL.
 */
import { describe, it, expect } from "vitest";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LedgerLeafKind,
  openCheckpoint,
  sha256MerkleHasher,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { testStores, dropPgSchema, TEST_PG_URL, type StoreKind } from "../testing/stores.js";
import { LogCapture, startTestHub, TEST_ORIGIN } from "../testing/hub-fixture.js";
import { createOwner, OWNER_PASSWORD } from "../testing/flows.js";
import { parseConfig, type HubConfig } from "../config/config.js";
import { buildHub, type Hub } from "../server/app.js";
import { auditIdOfLeaf, auditLeaf, recordAudit } from "../audit/audit.js";
import { CHECKPOINT_KEY_FILE } from "../keys/checkpoint-key.js";
import { beginIntent } from "./intents.js";

const stores = await testStores();

/**
 * The public key of a C2SP vkey, cut like Go's note.NewVerifier (name, key ID, then the rest):
 * standard base64 may itself contain '+', which protocol's parseVerifierKey does not allow yet.
 */
function vkeyPublicKey(vkey: string): Uint8Array {
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  const raw = Buffer.from(vkey.slice(second + 1), "base64");
  expect(raw[0]).toBe(0x01);
  return new Uint8Array(raw.subarray(1));
}

/** A hub on a data dir (and PG schema) that outlives it, so it can be restarted. */
function place(store: StoreKind) {
  const dataDir = mkdtempSync(join(tmpdir(), "latchkey-ledger-"));
  const schema = store === "postgres" ? `t_${randomBytes(6).toString("hex")}` : undefined;
  const logs = new LogCapture();
  const clock = { now: Date.UTC(2026, 10, 20, 12, 0, 0) };
  const config = (over: Partial<HubConfig> = {}): HubConfig => ({
    ...parseConfig([], {}),
    dataDir,
    database: store === "postgres" ? TEST_PG_URL : "",
    publicUrl: TEST_ORIGIN,
    logLevel: "debug",
    argon2: { memoryCost: 256, timeCost: 1, parallelism: 1 },
    logDestination: logs,
    now: () => clock.now,
    ...(schema === undefined ? {} : { pgSchema: schema }),
    ...over,
  });
  return {
    dataDir,
    logs,
    clock,
    start: (over: Partial<HubConfig> = {}): Promise<Hub> => buildHub(config(over)),
    async cleanup() {
      if (schema !== undefined) await dropPgSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminLeaves(hub: Hub) {
  const l = hub.ledger.ledger;
  return (await l.entries(0, await l.size())).flatMap((e) =>
    e.leaf.kind === LedgerLeafKind.AdminAction ? [{ index: e.index, leaf: e.leaf, data: e.data }] : [],
  );
}

describe.each(stores)("the hub's ledger (%s)", (store) => {
  it("creates its checkpoint key once (0600, never logged) and signs checkpoints naming this hub", async () => {
    const p = place(store);
    try {
      const hub = await p.start();
      const keyPath = join(p.dataDir, CHECKPOINT_KEY_FILE);
      expect(statSync(keyPath).mode & 0o777).toBe(0o600);
      const [, origin, seedHex] = readFileSync(keyPath, "utf8").split("\n");
      expect(origin).toMatch(/^hub\.test\/ledger\/[0-9a-f]{8}$/);
      expect(hub.ledger.origin).toBe(origin);
      const cp = await hub.ledger.ledger.latestCheckpoint();
      const vkey = vkeyPublicKey(hub.ledger.verifierKey);
      expect(toHex(vkey)).toBe(toHex(hub.ledger.ledger.publicKey));
      expect(openCheckpoint(cp?.note ?? "", origin ?? "", vkey, nodeEd25519).checkpoint.size).toBe(cp?.size);
      await hub.close();
      // A restart keeps the key and the origin, even if the public URL changes.
      const again = await p.start({ publicUrl: "http://other.test:8080" });
      expect(again.ledger.verifierKey).toBe(hub.ledger.verifierKey);
      await again.close();
      expect(p.logs.text()).not.toContain(seedHex ?? "missing");
      expect(p.logs.text()).not.toContain(Buffer.from(seedHex ?? "", "hex").toString("base64"));
    } finally {
      await p.cleanup();
    }
  });

  it("refuses a key file others can read, and an attempt to rename the log", async () => {
    const p = place(store);
    try {
      await (await p.start()).close();
      const keyPath = join(p.dataDir, CHECKPOINT_KEY_FILE);
      chmodSync(keyPath, 0o644);
      await expect(p.start()).rejects.toMatchObject({ code: "HUB_LEDGER_KEY_INVALID" });
      chmodSync(keyPath, 0o600);
      await expect(p.start({ ledgerOrigin: "elsewhere.example/log" })).rejects.toMatchObject({
        code: "HUB_LEDGER_KEY_INVALID",
      });
      await (await p.start()).close();
    } finally {
      await p.cleanup();
    }
  });

  it("puts every administrative action in the ledger before answering, and never a secret", async () => {
    const t = await startTestHub(store);
    try {
      const owner = await createOwner(t);
      const site = (
        await owner.client.post("/api/v1/sites", { name: "Home", timezone: "Europe/Paris" })
      ).json<{
        id: string;
      }>().id;
      const person = (await owner.client.post(`/api/v1/sites/${site}/people`, { name: "Ann" })).json<{
        id: string;
      }>().id;
      const created = await owner.client.post(`/api/v1/people/${person}/credentials`, {
        kind: "pin",
        length: 8,
      });
      expect(created.statusCode).toBe(201);
      const pin = created.json<{ pin: string }>().pin;
      // No wait: the responses above were sent after their rows reached the ledger.
      const audit = await t.hub.ctx.db.selectFrom("audit").selectAll().orderBy("id").execute();
      expect(audit.length).toBeGreaterThanOrEqual(5);
      const leaves = await adminLeaves(t.hub);
      expect(leaves.map((l) => l.leaf.action)).toEqual(audit.map((a) => a.action));
      expect(audit.map((a) => Number(a.ledger_index))).toEqual(leaves.map((l) => l.index));
      expect(leaves.map((l) => auditIdOfLeaf(l.leaf))).toEqual(audit.map((a) => Number(a.id)));
      expect(leaves[0]?.leaf.actor).toBe(`account:${owner.accountId}`);
      const everything = Buffer.concat(leaves.map((l) => Buffer.from(l.data))).toString("latin1");
      for (const secret of [OWNER_PASSWORD, owner.totpSecret, pin]) expect(everything).not.toContain(secret);
      // Same through the API.
      const page = await owner.client.get("/api/v1/ledger/leaves?limit=1000");
      expect(page.statusCode).toBe(200);
      const items = page.json<{ items: { kind: string; assurance: string; summary: string }[] }>().items;
      expect(
        items.filter((i) => i.kind === "admin-action").every((i) => i.assurance === "hub-attested"),
      ).toBe(true);
      expect(
        items.some((i) => i.summary.startsWith("credential.create") || i.summary.includes("credential")),
      ).toBe(true);
      for (const secret of [OWNER_PASSWORD, owner.totpSecret, pin]) expect(page.body).not.toContain(secret);
    } finally {
      await t.close();
    }
  });

  it("keeps acknowledged actions across a restart and catches up what a crash left out, once", async () => {
    const p = place(store);
    try {
      const hub = await p.start();
      const db = hub.ctx.db;
      await recordAudit(db, p.clock.now, { actorAccountId: null, action: "test.acknowledged" });
      await hub.ledger.flushAudit(); // what the hub does before answering
      const acked = await adminLeaves(hub);
      // Crash 1: the row committed, the hub died before the feed ran.
      await recordAudit(db, p.clock.now, { actorAccountId: null, action: "test.not-yet-fed" });
      // Crash 2: the leaf was appended, the hub died before recording where.
      await recordAudit(db, p.clock.now, { actorAccountId: null, action: "test.half-fed" });
      const rows = await db
        .selectFrom("audit")
        .selectAll()
        .where("ledger_index", "is", null)
        .orderBy("id")
        .execute();
      expect(rows.map((r) => r.action)).toEqual(["test.not-yet-fed", "test.half-fed"]);
      const half = rows[1];
      if (half === undefined) throw new Error("missing row");
      await beginIntent(hub.ledger.db, "audit", await hub.ledger.ledger.size(), p.clock.now);
      await hub.ledger.ledger.append(auditLeaf(half));
      await hub.close();

      const again = await p.start();
      const leaves = await adminLeaves(again);
      expect(leaves.slice(0, acked.length).map((l) => toHex(l.data))).toEqual(
        acked.map((l) => toHex(l.data)),
      );
      const audit = await again.ctx.db.selectFrom("audit").selectAll().orderBy("id").execute();
      expect(audit.every((a) => a.ledger_index !== null)).toBe(true);
      const ids = leaves.map((l) => auditIdOfLeaf(l.leaf));
      expect(ids).toEqual([...new Set(ids)]); // each row exactly once
      expect(new Set(ids)).toEqual(new Set(audit.map((a) => Number(a.id))));
      expect((await again.ledger.ledger.audit()).ok).toBe(true);
      await again.close();
    } finally {
      await p.cleanup();
    }
  });

  it("checkpoints every N entries, and on the timer after T seconds", async () => {
    const p = place(store);
    try {
      const hub = await p.start({ checkpointEvery: { entries: 3, seconds: 1 }, now: () => Date.now() });
      const l = hub.ledger.ledger;
      const base = await l.size();
      for (let i = 0; i < 3; i++)
        await recordAudit(hub.ctx.db, Date.now(), { actorAccountId: null, action: `n.${i}` });
      await hub.ledger.flushAudit();
      expect((await l.latestCheckpoint())?.size).toBe(base + 3);
      await recordAudit(hub.ctx.db, Date.now(), { actorAccountId: null, action: "t.1" });
      await hub.ledger.flushAudit();
      const deadline = Date.now() + 10_000;
      while (((await l.latestCheckpoint())?.size ?? 0) < base + 4 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await l.latestCheckpoint())?.size).toBe(base + 4);
      await hub.close();
    } finally {
      await p.cleanup();
    }
  });

  it("serves checkpoints and proofs a verifier checks offline", async () => {
    const t = await startTestHub(store, { checkpointEvery: { entries: 2, seconds: 3600 } });
    try {
      const owner = await createOwner(t);
      const first = (await owner.client.get("/api/v1/ledger/checkpoint")).json<{
        origin: string;
        verifierKey: string;
        size: number;
        checkpoint: string;
      }>();
      await owner.client.post("/api/v1/sites", { name: "One", timezone: "Europe/Paris" });
      await owner.client.post("/api/v1/sites", { name: "Two", timezone: "Europe/Paris" });
      const r = await owner.client.get("/api/v1/ledger/checkpoint");
      expect(r.statusCode).toBe(200);
      const latest = r.json<typeof first>();
      const vkey = vkeyPublicKey(latest.verifierKey);
      const opened = openCheckpoint(latest.checkpoint, latest.origin, vkey, nodeEd25519).checkpoint;
      const firstOpened = openCheckpoint(first.checkpoint, first.origin, vkey, nodeEd25519).checkpoint;
      expect(opened.size).toBeGreaterThan(firstOpened.size);
      const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
      for (let index = 0; index < opened.size; index++) {
        const proof = (
          await owner.client.get(`/api/v1/ledger/proofs/inclusion?index=${index}&size=${opened.size}`)
        ).json<{ leafHash: string; hashes: string[] }>();
        const leaf = await t.hub.ledger.ledger.entry(index);
        expect(proof.leafHash).toBe(Buffer.from(sha256MerkleHasher.hashLeaf(leaf.data)).toString("base64"));
        verifyIncl(index, opened.size, b64(proof.leafHash), proof.hashes.map(b64), opened.rootHash);
      }
      const c = (
        await owner.client.get(`/api/v1/ledger/proofs/consistency?from=${firstOpened.size}&to=${opened.size}`)
      ).json<{ hashes: string[] }>();
      verifyCons(firstOpened.size, opened.size, c.hashes.map(b64), firstOpened.rootHash, opened.rootHash);
      const bad = await owner.client.get(
        `/api/v1/ledger/proofs/inclusion?index=${opened.size}&size=${opened.size}`,
      );
      expect([bad.statusCode, bad.json<{ code: string }>().code]).toEqual([400, "LEDGER_RANGE_INVALID"]);
      const badQuery = await owner.client.get("/api/v1/ledger/leaves?limit=0");
      expect(badQuery.statusCode).toBe(400);
      const anonymous = await t.client().get("/api/v1/ledger/checkpoint");
      expect(anonymous.statusCode).toBe(401);
      const spec = (await t.client().get("/api/v1/openapi.json")).json<{ paths: Record<string, unknown> }>();
      expect(Object.keys(spec.paths)).toEqual(
        expect.arrayContaining([
          "/api/v1/ledger/checkpoint",
          "/api/v1/ledger/proofs/inclusion",
          "/api/v1/ledger/proofs/consistency",
          "/api/v1/ledger/leaves",
        ]),
      );
    } finally {
      await t.close();
    }
  });
});

const verifyIncl = (i: number, n: number, leaf: Uint8Array, path: Uint8Array[], root: Uint8Array) =>
  verifyInclusion(sha256MerkleHasher, i, n, leaf, path, root);
const verifyCons = (a: number, b: number, path: Uint8Array[], r1: Uint8Array, r2: Uint8Array) =>
  verifyConsistency(sha256MerkleHasher, a, b, path, r1, r2);
