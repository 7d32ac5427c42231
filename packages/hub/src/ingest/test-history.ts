/**
 * Test and bench support: a long, real lock history. A new lock is registered on a door, and a
 * child process (history-signer.ts) signs its journal — unlocks by user slot 9 with a refusal
 * every 7th, one second apart — while this process ingests it through the real ingestor in
 * batches of 1,000, as a lock's sync would.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { toHex } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import type { Kysely } from "kysely";
import type { HubDatabase } from "../db/schema.js";
import type { Ingestor } from "./ingest.js";
import { registerLock } from "./locks.js";

const SIGNER = fileURLToPath(new URL("./history-signer.ts", import.meta.url));

export interface SeededHistory {
  readonly lockId: string;
  readonly publicKey: Uint8Array;
  /** Lock time of the first event (ms); event i (0-based) is at firstAt + i s. */
  readonly firstAt: number;
}

export async function seedHistory(
  db: Kysely<HubDatabase>,
  ingestor: Ingestor,
  o: {
    readonly siteId: string;
    readonly doorId: string | null;
    readonly count: number;
    readonly now: number;
    readonly label?: string;
    /** Runs once the lock is registered, before its first event (e.g. to give a slot a person). */
    readonly beforeIngest?: (lockId: string) => Promise<void>;
  },
): Promise<SeededHistory> {
  const seed = new Uint8Array(
    createHash("sha256")
      .update(`history/${o.label ?? "lock"}`)
      .digest(),
  );
  const publicKey = nodeEd25519.publicKey(seed);
  const lockId = await registerLock(db, { signingPublicKey: publicKey, commissionedAt: o.now });
  await db
    .updateTable("locks")
    .set({ door_id: o.doorId, site_id: o.siteId })
    .where("id", "=", lockId)
    .execute();
  await o.beforeIngest?.(lockId);
  const firstAt = o.now - o.count * 1000;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", SIGNER, toHex(seed), String(o.count), String(firstAt)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  let pending: Buffer = Buffer.alloc(0);
  let batch: Uint8Array[] = [];
  let ingested = 0;
  const flush = async () => {
    ingested += (await ingestor.ingestBatch({ id: lockId, publicKey }, batch)).appended;
    batch = [];
  };
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= 2) {
      const len = pending.readUInt16BE(at);
      if (pending.length - at < 2 + len) break;
      batch.push(new Uint8Array(pending.subarray(at + 2, at + 2 + len)));
      at += 2 + len;
      if (batch.length === 1000) await flush();
    }
    pending = pending.subarray(at);
  }
  if (batch.length > 0) await flush();
  const code = await exited;
  if (code !== 0) throw new Error(`history signer exited with ${code}`);
  if (ingested !== o.count) throw new Error(`ingested ${ingested} of ${o.count} events`);
  return { lockId, publicKey, firstAt };
}
