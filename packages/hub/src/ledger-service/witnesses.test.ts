/**
 * The hub's witness client against a real witness (in-process, real HTTP) and a real SQLite
 * ledger: it learns the witness's size from a 409 and carries on; it reports — as errors — a
 * witness that holds another history (a fork after a restore, or more than the ledger has); and
 * it refuses answers without a cosignature from the configured key.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ed25519NoteSigner, encodeAddCheckpointRequest } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { Ledger, SqliteLedgerStore } from "../ledger/index.js";
import { sampleLeaf } from "../ledger/test-fixtures.js";
import { createLogger } from "../server/logging.js";
import { LogCapture } from "../testing/hub-fixture.js";
import { createWitnessKey, loadWitnessKey } from "../witness/key.js";
import { writeWitnessState } from "../witness/state.js";
import { Witness } from "../witness/witness.js";
import { serveWitness } from "../witness/http.js";
import { WitnessSubmitter } from "./witnesses.js";

const ORIGIN = "hub.test/ledger/w";
const signer = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(0x21), nodeEd25519);
const tmp = mkdtempSync(join(tmpdir(), "latchkey-witness-client-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

async function witnessFor(logs: Map<string, Uint8Array>) {
  const dir = join(tmp, `w${n++}`);
  createWitnessKey(dir, "witness.test/w").seed.fill(0);
  writeWitnessState(dir, new Map());
  const refusals: string[] = [];
  const witness = Witness.open({
    dir,
    key: loadWitnessKey(dir),
    logs,
    log: {
      info: (f) => refusals.push(typeof f.code === "string" ? f.code : "ok"),
      warn: (f) => refusals.push(typeof f.code === "string" ? f.code : "?"),
    },
  });
  const server = await serveWitness(witness, [...logs.keys()], { host: "127.0.0.1", port: 0 });
  return { witness, server, refusals, stop: async () => (await server.close(), witness.close()) };
}

/** A hub ledger (its own SQLite file) wired to the witness like HubLedger does. */
async function hubWith(
  w: { server: { url: string }; witness: Witness },
  leaves: number,
  salt = 0,
  publicKey?: Uint8Array,
) {
  const db = new Database(join(tmp, `l${n++}.sqlite`));
  const ledger = await Ledger.open({
    store: new SqliteLedgerStore(db),
    origin: ORIGIN,
    signer,
    ed: nodeEd25519,
    checkpointEvery: { entries: 1_000_000 },
  });
  const logs = new LogCapture();
  const submitter = new WitnessSubmitter({
    ledger,
    witnesses: [{ url: w.server.url, name: w.witness.name, publicKey: publicKey ?? w.witness.publicKey }],
    log: createLogger("debug", logs),
  });
  const listen = () => ledger.onCheckpoint((cp) => submitter.submit(cp));
  let detach = listen();
  const grow = async (to: number) => {
    for (let i = await ledger.size(); i < to; i++) await ledger.append(sampleLeaf(i + salt * 1000));
    const cp = await ledger.checkpoint();
    await ledger.checkpointWorkSettled(10_000);
    return cp;
  };
  if (leaves > 0) await grow(leaves);
  return {
    ledger,
    submitter,
    logs,
    grow,
    /** Checkpoints made while paused never reach the submitter. */
    pause: () => detach(),
    resume: () => {
      detach = listen();
    },
    close: async () => (await submitter.close(), db.close()),
  };
}

describe("the hub's witness client", () => {
  it("learns the witness's size from a 409 (an answer it never got) and continues from there", async () => {
    const w = await witnessFor(new Map([[ORIGIN, signer.publicKey]]));
    const hub = await hubWith(w, 5);
    try {
      expect(hub.submitter.status()[0]).toMatchObject({ cosignedSize: 5, lastError: null });
      // Checkpoint 10 reaches the witness but the answer never reaches the hub.
      hub.pause();
      for (let i = 5; i < 10; i++) await hub.ledger.append(sampleLeaf(i));
      const cp10 = await hub.ledger.checkpoint();
      const lost = await hub.ledger.consistencyProof(5, 10);
      const direct = await fetch(`${w.server.url}/add-checkpoint`, {
        method: "POST",
        body: encodeAddCheckpointRequest({ oldSize: 5, proof: [...lost.hashes], checkpoint: cp10.note }),
      });
      expect(direct.status).toBe(200);
      hub.resume();
      w.refusals.length = 0;
      await hub.grow(15); // old 5 → 409 "10" → old 10 + proof 10 → 15 → 200
      expect(w.refusals).toEqual(["WITNESS_CONFLICT", "ok"]);
      expect((await hub.ledger.cosignatures(15)).map((c) => c.signer)).toEqual(["witness.test/w"]);
      expect(hub.submitter.status()[0]).toMatchObject({ cosignedSize: 15, lastError: null });

      // The hub's disk restored from an older backup with another history of the same length.
      const restored = await hubWith(w, 15, 1);
      expect(restored.submitter.status()[0]?.lastError).toEqual({ code: "WITNESS_CONFLICT", size: 15 });
      expect(restored.logs.text()).toContain("its history differs from ours");
      expect(await restored.ledger.cosignatures(15)).toEqual([]);
      await restored.close();
      // …or with fewer leaves than the witness cosigned.
      const shorter = await hubWith(w, 8);
      expect(shorter.submitter.status()[0]?.lastError).toEqual({ code: "WITNESS_CONFLICT", size: 8 });
      expect(shorter.logs.text()).toContain("the ledger has 8 leaves");
      await shorter.close();
      expect(w.witness.latest(ORIGIN)?.size).toBe(15);
    } finally {
      await hub.close();
      await w.stop();
    }
  });

  it("names a witness that does not know this log, and one whose answer is not from its configured key", async () => {
    const stranger = await witnessFor(new Map([["other.test/ledger", signer.publicKey]]));
    const a = await hubWith(stranger, 3);
    expect(a.submitter.status()[0]?.lastError).toEqual({ code: "WITNESS_UNKNOWN_LOG", size: 3 });
    await a.close();
    await stranger.stop();
    const w = await witnessFor(new Map([[ORIGIN, signer.publicKey]]));
    const b = await hubWith(w, 3, 0, nodeEd25519.publicKey(new Uint8Array(32).fill(0x55)));
    expect(b.submitter.status()[0]?.lastError).toEqual({ code: "WITNESS_RESPONSE_MALFORMED", size: 3 });
    expect(await b.ledger.cosignatures(3)).toEqual([]);
    await b.close();
    await w.stop();
  });
});
