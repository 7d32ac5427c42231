/**
 * End to end: a witness run as the real `latchkey witness` command (its own process, a free
 * port) and a hub's ledger configured with it (`HubLedger` as `latchkey start` opens it). The hub
 * appends lock events and makes checkpoints; the witness cosigns them; the witness refuses a fork
 * and a rollback signed with the hub's own key; it survives kill -9; a witness that is down never
 * blocks the ledger and is caught up with the next checkpoint; and an exported evidence bundle
 * verifies with the witness key pinned — and fails, naming why, when the cosignature is removed
 * or the pinned key is another.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ed25519NoteSigner,
  encodeAddCheckpointRequest,
  encodeEvidenceBundle,
  encodeSignedLockEvent,
  epochMs,
  EventKind,
  evidenceSealMessage,
  formatNote,
  formatVerifierKey,
  LedgerLeafKind,
  lockIdBytesFromPublicKey,
  MemoryMerkleTree,
  parseNote,
  parseVerifierKey,
  sha256MerkleHasher,
  signCheckpoint,
  signCommissioningRecord,
  SIG_TYPE_ED25519,
  toHex,
  unsealedBundleBytes,
  verifyEvidenceBundle,
  verifyWitnessCosignatures,
  type EvidenceBundle,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { MemoryJournal } from "@latchkey/lock";
import { openDatabase } from "../db/database.js";
import { loadOrCreateCheckpointKey } from "../keys/checkpoint-key.js";
import { HubLedger } from "../ledger-service/hub-ledger.js";
import { createLogger } from "../server/logging.js";
import { LogCapture } from "../testing/hub-fixture.js";
import { exportEvidenceBundle } from "../evidence/export.js";
import { parseWitnessEndpoint } from "./config.js";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";

const root = join(import.meta.dirname, "../../../..");
const tmp = mkdtempSync(join(tmpdir(), "latchkey-witness-e2e-"));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

const PUBLIC_URL = "http://hub.test:8080";
const WITNESS_NAME = "witness.test/grandma";
const T0 = Date.UTC(2026, 2, 1, 21, 0);
const MIN = 60_000;

/** `latchkey witness serve` in its own process; resolves with its URL once it listens. */
function serveWitness(
  dir: string,
  logVkey: string,
  listen: string,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [...LATCHKEY_FROM_SOURCE, "witness", "serve", "--dir", dir, "--log", logVkey, "--listen", listen],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LATCHKEY_LOG_LEVEL: "warn" },
    },
  );
  children.add(child);
  child.on("exit", () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = / listening on (\S+) /.exec(out);
      if (m !== null) resolve({ url: m[1]!, child });
    });
    child.on("exit", (code) => reject(new Error(`witness exited (${code}): ${err}`)));
  });
}

function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

async function post(url: string, body: string) {
  const res = await fetch(`${url}/add-checkpoint`, { method: "POST", body });
  return { status: res.status, text: await res.text() };
}

describe("a hub's ledger with a witness (end to end)", () => {
  it("is cosigned, cannot be forked or rolled back past the witness, and yields bundles that pin it", async () => {
    // --- the witness's operator: `latchkey witness init` ------------------------------------
    const witnessDir = join(tmp, "witness");
    const init = spawnSync(
      process.execPath,
      [...LATCHKEY_FROM_SOURCE, "witness", "init", "--dir", witnessDir, "--name", WITNESS_NAME],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(init.status, init.stderr).toBe(0);
    const witnessVkey = /^Verifier key: (\S+)$/m.exec(init.stdout)?.[1] ?? "";
    const wkey = parseVerifierKey(witnessVkey);
    expect([wkey.name, wkey.type]).toEqual([WITNESS_NAME, 0x04]);
    expect(statSync(join(witnessDir, "witness.key")).mode & 0o777).toBe(0o600);
    expect(init.stdout).not.toContain(readFileSync(join(witnessDir, "witness.key"), "utf8").split("\n")[2]);

    // --- the hub's checkpoint key (what `latchkey start` creates and prints) ----------------
    const hubDir = join(tmp, "hub");
    const key = loadOrCreateCheckpointKey(hubDir, { publicUrl: PUBLIC_URL });
    const hubSigner = ed25519NoteSigner(key.origin, key.seed, nodeEd25519);
    const hubVkey = formatVerifierKey(key.origin, SIG_TYPE_ED25519, key.publicKey);

    let witness = await serveWitness(witnessDir, hubVkey, "127.0.0.1:0");
    const listen = witness.url.replace("http://", "");
    const endpoint = parseWitnessEndpoint(`${witness.url}=${witnessVkey}`);

    // --- the hub, configured with the witness (`latchkey start --witness URL=VKEY`) ---------
    const logs = new LogCapture();
    const opened = await openDatabase({ url: join(hubDir, "latchkey.sqlite") });
    const hub = await HubLedger.open({
      db: opened.db,
      dialect: opened.dialect,
      dataDir: hubDir,
      publicUrl: PUBLIC_URL,
      checkpointEvery: { entries: 1_000_000, seconds: 86_400 },
      now: () => Date.now(),
      log: createLogger("debug", logs),
      witnesses: [endpoint],
    });
    const ledger = hub.ledger;
    try {
      await ledger.checkpointWorkSettled(20_000);
      // The empty log's first checkpoint was submitted at start and cosigned.
      expect((await ledger.cosignatures(0)).map((c) => [c.kind, c.signer])).toEqual([
        ["witness", WITNESS_NAME],
      ]);

      // A lock's signed events enter the ledger; checkpoints follow.
      const journal = new MemoryJournal({
        signingSeed: new Uint8Array(32).fill(7),
        bootId: new Uint8Array(16),
        ed25519: nodeEd25519,
      });
      const lockId = lockIdBytesFromPublicKey(journal.publicKey);
      let t = T0;
      const heartbeats = async (n: number) => {
        for (let i = 0; i < n; i++, t += 5 * MIN) {
          const e = journal.append(
            { kind: EventKind.Heartbeat, details: { lockState: "Locked", doorState: "Closed" } },
            epochMs(t),
          );
          await ledger.append({
            kind: LedgerLeafKind.LockEvent,
            hubTimeMs: epochMs(t + 100),
            lockId,
            record: encodeSignedLockEvent(e),
          });
        }
      };
      const checkpoint = async () => {
        const cp = await ledger.checkpoint();
        expect(await ledger.checkpointWorkSettled(20_000)).toBe(true);
        return cp;
      };
      const witnessedBy = async (size: number) =>
        verifyWitnessCosignatures(
          await ledger.cosignedCheckpoint(size),
          [{ name: wkey.name, publicKey: wkey.publicKey }],
          nodeEd25519,
        ).cosigned;

      await heartbeats(6);
      const cp6 = await checkpoint();
      expect(await witnessedBy(6)).toEqual([WITNESS_NAME]);
      await heartbeats(7);
      const cp13 = await checkpoint(); // old 6 + a consistency proof 6 → 13
      expect(cp13.size).toBe(13);
      expect(await witnessedBy(13)).toEqual([WITNESS_NAME]);
      expect(hub.witnesses?.status()[0]).toMatchObject({ cosignedSize: 13, lastError: null });

      // --- the hub (its key, its disk) tries to rewrite history past the witness ---------------
      const forked = new MemoryMerkleTree(sha256MerkleHasher);
      for (let i = 0; i < 13; i++) forked.appendData(Uint8Array.of(i));
      const forgedAt13 = signCheckpoint(
        { origin: key.origin, size: 13, rootHash: forked.root(), extensions: [] },
        hubSigner,
      );
      expect(
        await post(
          witness.url,
          encodeAddCheckpointRequest({ oldSize: 13, proof: [], checkpoint: forgedAt13 }),
        ),
      ).toEqual({
        status: 409,
        text: "13\n",
      });
      // Rollback: present the older checkpoint as if the witness had seen nothing.
      expect(
        await post(witness.url, encodeAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: cp6.note })),
      ).toEqual({
        status: 409,
        text: "13\n",
      });
      // A longer rewritten log, with a proof that is valid for it but not from what the witness holds.
      for (let i = 13; i < 20; i++) forked.appendData(Uint8Array.of(i));
      const forged20 = signCheckpoint(
        { origin: key.origin, size: 20, rootHash: forked.root(), extensions: [] },
        hubSigner,
      );
      const rewrite = await post(
        witness.url,
        encodeAddCheckpointRequest({
          oldSize: 13,
          proof: forked.consistencyProof(13, 20),
          checkpoint: forged20,
        }),
      );
      expect(rewrite.status).toBe(422);

      // --- kill -9 the witness: its state survives; while it is down the ledger carries on -----
      await kill9(witness.child);
      await heartbeats(3);
      const started = Date.now();
      await checkpoint(); // resolves: a witness never blocks the ledger
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(hub.witnesses?.status()[0]?.lastError).toEqual({ code: "WITNESS_UNAVAILABLE", size: 16 });
      expect(await ledger.cosignatures(16)).toEqual([]);
      expect(logs.text()).toContain("a witness did not cosign the ledger's checkpoint");
      expect(logs.text()).not.toContain(toHex(key.seed));

      witness = await serveWitness(witnessDir, hubVkey, listen);
      expect(witness.url).toBe(endpoint.url);
      // Still refuses the fork after the restart: the state was on disk.
      expect(
        (
          await post(
            witness.url,
            encodeAddCheckpointRequest({ oldSize: 13, proof: [], checkpoint: forgedAt13 }),
          )
        ).status,
      ).toBe(409);
      await heartbeats(3);
      await checkpoint(); // the next checkpoint catches the witness up: old 13 → 19
      expect(await witnessedBy(19)).toEqual([WITNESS_NAME]);

      // --- an evidence bundle, verified with the witness pinned --------------------------------
      const ownerSeed = new Uint8Array(32).fill(2);
      const commissioning = signCommissioningRecord(
        {
          lockId,
          lockSigningKey: journal.publicKey,
          ownerKey: nodeEd25519.publicKey(ownerSeed),
          ledgerKey: key.publicKey,
          commissionedAtMs: epochMs(T0 - MIN),
          ledgerOrigin: key.origin,
          doorName: "Front door",
          timeZone: "UTC",
        },
        ownerSeed,
        nodeEd25519,
      ).bytes;
      const { bundle, bytes } = await exportEvidenceBundle({
        ledger,
        locks: [{ publicKey: journal.publicKey, commissioning }],
        window: { from: T0 + 12 * MIN, to: T0 + 60 * MIN },
        ownerPublicKey: nodeEd25519.publicKey(ownerSeed),
        signer: hubSigner,
      });
      const pinned = [{ name: WITNESS_NAME, publicKey: wkey.publicKey }];
      const head = bundle.checkpoints.length - 1;
      const ok = verifyEvidenceBundle(bytes, { ed25519: nodeEd25519, witnessKeys: pinned });
      expect(ok.status).toBe("valid");
      if (ok.status === "valid") {
        expect(ok.verified.head.checkpoint.size).toBe(19);
        expect(ok.verified.witnesses[head]?.cosigned.map((c) => c.name)).toEqual([WITNESS_NAME]);
      }

      // The hub strips the witness's line and re-seals with its own key: valid without a pin,
      // refused with one.
      const reseal = (b: EvidenceBundle, checkpoints: string[]): Uint8Array => {
        const { seal: _old, ...rest } = b;
        const unsealed = { ...rest, checkpoints };
        return encodeEvidenceBundle({
          ...unsealed,
          seal: hubSigner.sign(evidenceSealMessage(unsealedBundleBytes(unsealed))),
        });
      };
      const edit = (fn: (n: ReturnType<typeof parseNote>) => string) =>
        reseal(
          bundle,
          bundle.checkpoints.map((c, j) => (j === head ? fn(parseNote(c)) : c)),
        );
      const stripped = edit((n) =>
        formatNote(
          n.text,
          n.signatures.filter((s) => s.name !== WITNESS_NAME),
        ),
      );
      expect(verifyEvidenceBundle(stripped, { ed25519: nodeEd25519 }).status).toBe("valid");
      const refused = verifyEvidenceBundle(stripped, { ed25519: nodeEd25519, witnessKeys: pinned });
      expect(refused.status === "invalid" && [refused.failure.element, refused.failure.reason]).toEqual([
        `checkpoints[${head}]`,
        "not-witnessed",
      ]);
      expect(refused.status === "invalid" && refused.failure.message).toContain(`missing: ${WITNESS_NAME}`);
      // Another key under the witness's name (the one the verifier pinned is not the one that signed).
      const wrongKey = verifyEvidenceBundle(bytes, {
        ed25519: nodeEd25519,
        witnessKeys: [{ name: WITNESS_NAME, publicKey: nodeEd25519.publicKey(new Uint8Array(32).fill(9)) }],
      });
      expect(wrongKey.status === "invalid" && wrongKey.failure.reason).toBe("not-witnessed");
      // A cosignature altered in place: forged.
      const altered = edit((n) =>
        formatNote(
          n.text,
          n.signatures.map((s) =>
            s.name === WITNESS_NAME
              ? { ...s, signature: s.signature.map((x, i) => (i === 20 ? x ^ 1 : x)) }
              : s,
          ),
        ),
      );
      const forgedCosig = verifyEvidenceBundle(altered, { ed25519: nodeEd25519, witnessKeys: pinned });
      expect(
        forgedCosig.status === "invalid" && [forgedCosig.failure.element, forgedCosig.failure.reason],
      ).toEqual([`checkpoints[${head}]`, "bad-signature"]);
    } finally {
      await hub.close();
      await opened.close();
      await kill9(witness.child);
    }
  });
});
