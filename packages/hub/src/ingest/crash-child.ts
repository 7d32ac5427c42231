/**
 * Child process of crash.test.ts (run with `node --import tsx`): plays a lock that sends batches
 * of its journal to a hub's ingestion, on the hub's SQLite database and ledger in DATA_DIR, and
 * prints `ACK <seq> <hash>` after each acknowledgement — only after ingestBatch resolved, so a
 * printed ack claims durability. The parent kills it with SIGKILL at random moments.
 *
 *   node --import tsx crash-child.ts <dataDir> <events> <lockName>
 */
import { toHex } from "@latchkey/protocol";
import { registerLock } from "./locks.js";
import { openSqliteIngest } from "./test-ingest.js";
import { TestJournal } from "./test-journal.js";

const [dataDir, eventsText, lockName] = process.argv.slice(2);
if (dataDir === undefined || eventsText === undefined || lockName === undefined) {
  throw new Error("usage: crash-child.ts <dataDir> <events> <lockName>");
}
const total = Number(eventsText);
const journal = TestJournal.named(lockName);
journal.appendMany(total);

const { hubLedger, ingestor, close } = await openSqliteIngest({
  dataDir,
  publicUrl: "http://crash.test",
  checkpointEntries: 64,
});
await registerLock(hubLedger.db, { signingPublicKey: journal.publicKey, commissionedAt: Date.now() });
process.stdout.write("READY\n");

for (;;) {
  const cursor = await ingestor.cursor(journal.id);
  if (cursor.seq >= total) break;
  // Like a lock that missed some acks: resend a little of what the hub already has.
  const from = Math.max(0, cursor.seq - Math.floor(Math.random() * 4));
  const batch = journal.records.slice(from, from + 1 + Math.floor(Math.random() * 40));
  if (Math.random() < 0.2) batch.reverse();
  const { ack } = await ingestor.ingestBatch(journal.identity, batch);
  if (ack !== null) process.stdout.write(`ACK ${ack.seq} ${toHex(ack.hash)}\n`);
}
process.stdout.write("DONE\n");
await close();
