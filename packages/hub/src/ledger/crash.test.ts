/**
 * Crash safety: an append acknowledged to the caller survives kill -9. A child process appends
 * leaves and prints each acknowledgement; we SIGKILL it at a random moment (five times on the
 * same database file) and check that every acknowledged leaf is there with the acknowledged
 * root, and that the whole ledger still audits clean.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { ed25519NoteSigner, toHex } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { Ledger } from "./ledger.js";
import { SqliteLedgerStore } from "./sqlite-store.js";
import { TEST_HUB_SEED, TEST_ORIGIN } from "./test-fixtures.js";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "latchkey-crash-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Ack {
  index: number;
  root: string;
}

/** Runs the child until it has acknowledged `acks` appends, then SIGKILLs it. */
function runAndKill(dbPath: string, acks: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dbPath], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const seen: Ack[] = [];
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const [, index, root] = buffer.slice(0, nl).split(" ");
        buffer = buffer.slice(nl + 1);
        seen.push({ index: Number(index), root: root ?? "" });
        if (seen.length === acks) child.kill("SIGKILL");
      }
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(seen);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

describe("ledger crash safety (kill -9)", () => {
  it("keeps every acknowledged append across five SIGKILLs", async () => {
    const dbPath = join(tmp, "ledger.db");
    let lastAck: Ack | undefined;
    for (let round = 0; round < 5; round++) {
      const acks = await runAndKill(dbPath, 5 + Math.floor(Math.random() * 30));
      expect(acks.length).toBeGreaterThan(0);
      lastAck = acks[acks.length - 1];
      if (lastAck === undefined) throw new Error("no acknowledgement");
      const db = new Database(dbPath);
      try {
        const ledger = await Ledger.open({
          store: new SqliteLedgerStore(db),
          origin: TEST_ORIGIN,
          signer: ed25519NoteSigner(TEST_ORIGIN, TEST_HUB_SEED, nodeEd25519),
          ed: nodeEd25519,
        });
        // Acknowledged means on disk: the size may be one more (killed after commit, before print).
        expect(await ledger.size()).toBeGreaterThanOrEqual(lastAck.index + 1);
        expect(toHex(await ledger.root(lastAck.index + 1))).toBe(lastAck.root);
        const audit = await ledger.audit();
        expect(audit.reason).toBeUndefined();
        expect(audit.ok).toBe(true);
      } finally {
        db.close();
      }
    }
    expect(lastAck?.index).toBeGreaterThan(20);
  });
});
