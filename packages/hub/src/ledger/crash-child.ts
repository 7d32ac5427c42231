/**
 * Child process for the kill -9 test: appends leaves forever and prints "ack <index> <root hex>"
 * after each append resolved (i.e. was acknowledged). The parent SIGKILLs it at a random moment.
 */
import Database from "better-sqlite3";
import { ed25519NoteSigner, toHex } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { Ledger } from "./ledger.js";
import { SqliteLedgerStore } from "./sqlite-store.js";
import { sampleLeaf, TEST_HUB_SEED, TEST_ORIGIN } from "./test-fixtures.js";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: crash-child <db path>");
const db = new Database(path);
const ledger = await Ledger.open({
  store: new SqliteLedgerStore(db),
  origin: TEST_ORIGIN,
  signer: ed25519NoteSigner(TEST_ORIGIN, TEST_HUB_SEED, nodeEd25519),
  ed: nodeEd25519,
  checkpointEvery: { entries: 7 },
});
for (let i = await ledger.size(); ; i++) {
  const r = await ledger.append(sampleLeaf(i));
  process.stdout.write(`ack ${r.index} ${toHex(r.root)}\n`);
}
