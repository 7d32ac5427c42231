/**
 * The witness over real HTTP (node:http on a free port) with a real state folder: what it
 * cosigns, what it refuses and with which status (c2sp.org/tlog-witness), that its state is on
 * disk before it answers (a kill -9 right after persisting), and that it survives restarts.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  cosignerOf,
  ed25519NoteSigner,
  encodeAddCheckpointRequest,
  formatVerifierKey,
  isLatchkeyError,
  MemoryMerkleTree,
  parseAddCheckpointResponse,
  parseNote,
  sha256MerkleHasher,
  signCheckpoint,
  SIG_TYPE_ED25519,
  verifyCosignature,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { createWitnessKey, loadWitnessKey, WITNESS_KEY_FILE } from "./key.js";
import { readWitnessState, writeWitnessState, WITNESS_STATE_FILE } from "./state.js";
import { Witness, WITNESS_LOCK_FILE, WITNESS_REFUSED_LOG } from "./witness.js";
import { serveWitness, type WitnessServer } from "./http.js";

const ORIGIN = "hub.test/ledger/abcd";
const hub = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(0x42), nodeEd25519);
const impostor = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(0x43), nodeEd25519);
const HUB_VKEY = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, hub.publicKey);
const tmp = mkdtempSync(join(tmpdir(), "latchkey-witness-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;

function tree(n: number, salt = 0): MemoryMerkleTree {
  const t = new MemoryMerkleTree(sha256MerkleHasher);
  for (let i = 0; i < n; i++) t.appendData(Uint8Array.of(i & 0xff, i >> 8, salt));
  return t;
}
const note = (t: MemoryMerkleTree, size: number, signer = hub) =>
  signCheckpoint({ origin: ORIGIN, size, rootHash: t.root(size), extensions: [] }, signer);
const body = (oldSize: number, proof: Uint8Array[], checkpoint: string) =>
  encodeAddCheckpointRequest({ oldSize, proof, checkpoint });

/** A fresh witness folder, as `latchkey witness init` leaves it. */
function newDir(): string {
  const dir = join(tmp, `w${dirs++}`);
  createWitnessKey(dir, "witness.test/family").seed.fill(0);
  writeWitnessState(dir, new Map());
  return dir;
}

async function start(dir: string, logs = new Map([[ORIGIN, hub.publicKey]])) {
  const warnings: string[] = [];
  const witness = Witness.open({
    dir,
    key: loadWitnessKey(dir),
    logs,
    log: { info: () => undefined, warn: (_f, m) => warnings.push(m) },
  });
  const server = await serveWitness(witness, [...logs.keys()], { host: "127.0.0.1", port: 0 });
  return {
    witness,
    server,
    warnings,
    async stop() {
      await server.close();
      witness.close();
    },
  };
}

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return isLatchkeyError(e) ? e.code : "other";
  }
}

async function post(server: WitnessServer | string, text: string) {
  const url = typeof server === "string" ? server : server.url;
  const res = await fetch(`${url}/add-checkpoint`, { method: "POST", body: text });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

describe("latchkey witness (c2sp.org/tlog-witness over HTTP)", () => {
  const t = tree(40);

  it("cosigns checkpoints that extend what it cosigned, with a cosignature/v1 that verifies", async () => {
    const dir = newDir();
    const w = await start(dir);
    try {
      const first = await post(w.server, body(0, [], note(t, 10)));
      expect(first.status).toBe(200);
      const [sig] = parseAddCheckpointResponse(first.text);
      const cosigner = cosignerOf("witness.test/family", w.witness.publicKey);
      expect(
        verifyCosignature(parseNote(note(t, 10)).text, sig!, cosigner, nodeEd25519).timestamp,
      ).toBeGreaterThan(1_700_000_000);
      const next = await post(w.server, body(10, t.consistencyProof(10, 25), note(t, 25)));
      expect(next.status).toBe(200);
      // The same checkpoint again is fine (an answer may have been lost).
      expect((await post(w.server, body(25, [], note(t, 25)))).status).toBe(200);
      expect(w.witness.latest(ORIGIN)?.size).toBe(25);
      expect(readWitnessState(dir).get(ORIGIN)?.size).toBe(25);
      expect(readWitnessState(dir).get(ORIGIN)?.checkpoint).toBe(note(t, 25));
    } finally {
      await w.stop();
    }
  });

  it("refuses a fork (409), a rollback (409 / 400), a rewritten history (422), keeping the evidence", async () => {
    const dir = newDir();
    const w = await start(dir);
    try {
      expect((await post(w.server, body(0, [], note(t, 20)))).status).toBe(200);
      // Fork: same size, another root, signed by the hub's own key.
      const forked = tree(20, 1);
      const fork = await post(w.server, body(20, [], note(forked, 20)));
      expect([fork.status, fork.type, fork.text]).toEqual([409, "text/x.tlog.size", "20\n"]);
      // Rollback: a smaller checkpoint, claimed from scratch or from the witness's own size.
      const stale = await post(w.server, body(0, [], note(t, 12)));
      expect([stale.status, stale.text]).toEqual([409, "20\n"]);
      const down = await post(w.server, body(20, [], note(t, 12)));
      expect(down.status).toBe(400);
      // Rewritten history: a longer log whose first 20 leaves differ; its own proof is valid for it.
      const rewritten = tree(30, 2);
      const rewrite = await post(w.server, body(20, rewritten.consistencyProof(20, 30), note(rewritten, 30)));
      expect(rewrite.status).toBe(422);
      expect(w.witness.latest(ORIGIN)?.size).toBe(20);
      const kept = readFileSync(join(dir, WITNESS_REFUSED_LOG), "utf8");
      expect(kept).toContain("WITNESS_CONFLICT");
      expect(kept).toContain("WITNESS_PROOF_INVALID");
      expect(kept).toContain(parseNote(note(forked, 20)).text);
      expect(statSync(join(dir, WITNESS_REFUSED_LOG)).mode & 0o077).toBe(0);
      expect(w.warnings).toHaveLength(2);
    } finally {
      await w.stop();
    }
  });

  it("answers 404 for another log, 403 without the log's signature, 400 for a malformed body", async () => {
    const w = await start(newDir());
    try {
      const stranger = ed25519NoteSigner("other.test/ledger", new Uint8Array(32).fill(0x42), nodeEd25519);
      const other = signCheckpoint(
        { origin: stranger.name, size: 1, rootHash: t.root(1), extensions: [] },
        stranger,
      );
      expect((await post(w.server, body(0, [], other))).status).toBe(404);
      expect((await post(w.server, body(0, [], note(t, 5, impostor)))).status).toBe(403);
      const bad = await post(w.server, `old 01\n\n${note(t, 5)}`);
      expect([bad.status, bad.text.split(":")[0]]).toEqual([400, "WITNESS_REQUEST_MALFORMED"]);
      expect((await post(w.server, "x".repeat(200_000))).status).toBe(400);
      expect((await fetch(`${w.server.url}/add-checkpoint`)).status).toBe(405);
      const about = await (await fetch(`${w.server.url}/`)).text();
      expect(about).toContain("verifier key: witness.test/family+");
      expect(about).toContain(`witnesses: ${ORIGIN}`);
      // Nothing was cosigned: the first honest checkpoint still starts from 0.
      expect(w.witness.latest(ORIGIN)).toBeUndefined();
    } finally {
      await w.stop();
    }
  });

  it("keeps its state across restarts and refuses to start without it or beside another witness", async () => {
    const dir = newDir();
    const a = await start(dir);
    expect((await post(a.server, body(0, [], note(t, 16)))).status).toBe(200);
    // A second process on the same folder could roll the state back: refused.
    expect(code(() => Witness.open({ dir, key: loadWitnessKey(dir), logs: new Map() }))).toBe(
      "WITNESS_DIR_LOCKED",
    );
    await a.stop();
    expect(existsSync(join(dir, WITNESS_LOCK_FILE))).toBe(false);
    const b = await start(dir);
    try {
      expect((await post(b.server, body(0, [], note(t, 30)))).text).toBe("16\n");
      expect((await post(b.server, body(16, [], note(tree(16, 3), 16)))).status).toBe(409);
      expect((await post(b.server, body(16, t.consistencyProof(16, 30), note(t, 30)))).status).toBe(200);
    } finally {
      await b.stop();
    }
    writeFileSync(join(dir, WITNESS_STATE_FILE), "{ not json");
    expect(code(() => Witness.open({ dir, key: loadWitnessKey(dir), logs: new Map() }))).toBe(
      "WITNESS_STATE_CORRUPT",
    );
    rmSync(join(dir, WITNESS_STATE_FILE));
    expect(code(() => Witness.open({ dir, key: loadWitnessKey(dir), logs: new Map() }))).toBe(
      "WITNESS_STATE_CORRUPT",
    );
    expect(code(() => createWitnessKey(dir, "again"))).toBe("WITNESS_KEY_INVALID");
    expect(statSync(join(dir, WITNESS_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it("holds what it persisted when killed (kill -9) between persisting and answering", async () => {
    const dir = newDir();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./crash-child.ts", import.meta.url)), dir, HUB_VKEY],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, s) => resolve(s)));
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening (\S+)\n/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      child.on("exit", () => reject(new Error(`crash child exited early: ${err}`)));
    });
    // The child dies after its fsync, before its answer: the hub sees a dropped connection.
    await expect(post(url, body(0, [], note(t, 24)))).rejects.toThrow();
    expect(await exited).toBe("SIGKILL");
    expect(existsSync(join(dir, WITNESS_LOCK_FILE))).toBe(true); // left behind by the dead process
    const w = await start(dir); // takes over the stale lock
    try {
      expect(w.witness.latest(ORIGIN)?.size).toBe(24);
      // It never cosigned size 24, but it remembers it: a fork at 24 and a rollback are refused.
      expect((await post(w.server, body(24, [], note(tree(24, 5), 24)))).status).toBe(409);
      expect((await post(w.server, body(0, [], note(t, 8)))).text).toBe("24\n");
      // The honest log learns the size from the 409 and carries on.
      expect((await post(w.server, body(24, [], note(t, 24)))).status).toBe(200);
    } finally {
      await w.stop();
    }
  });
});
