/**
 * Test and bench support: a hub's SQLite database, ledger and ingestor in a data directory,
 * wired as `buildHub` wires them, without the HTTP server. `close()` shuts all of it.
 */
import { join } from "node:path";
import pino from "pino";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { openDatabase } from "../db/database.js";
import { HubLedger } from "../ledger-service/hub-ledger.js";
import { Ingestor } from "./ingest.js";

export interface SqliteIngest {
  readonly hubLedger: HubLedger;
  readonly ingestor: Ingestor;
  readonly close: () => Promise<void>;
}

export async function openSqliteIngest(o: {
  readonly dataDir: string;
  readonly publicUrl: string;
  readonly checkpointEntries: number;
}): Promise<SqliteIngest> {
  const opened = await openDatabase({ url: join(o.dataDir, "latchkey.sqlite") });
  const hubLedger = await HubLedger.open({
    db: opened.db,
    dialect: "sqlite",
    dataDir: o.dataDir,
    publicUrl: o.publicUrl,
    checkpointEvery: { entries: o.checkpointEntries, seconds: 3600 },
    now: () => Date.now(),
    log: pino({ level: "silent" }),
  });
  const ingestor = new Ingestor({
    db: hubLedger.db,
    ledger: hubLedger.ledger,
    exclusive: hubLedger.exclusive,
    ed25519: nodeEd25519,
    now: () => Date.now(),
  });
  return {
    hubLedger,
    ingestor,
    close: async () => {
      await hubLedger.close();
      await opened.close();
    },
  };
}
