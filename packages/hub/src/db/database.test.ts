import { describe, it, expect, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { isLatchkeyError } from "@latchkey/protocol";
import { openDatabase } from "./database.js";
import { dropPgSchema, testStores, TEST_PG_URL } from "../testing/stores.js";

const stores = await testStores();
const dir = mkdtempSync(join(tmpdir(), "latchkey-db-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "opened";
  } catch (e) {
    return isLatchkeyError(e) ? e.code : String(e);
  }
}

describe("SQLite data directory lock", () => {
  it("a second opener is refused with HUB_DATA_DIR_LOCKED; after close the file opens again", async () => {
    const path = join(dir, "a.sqlite");
    const first = await openDatabase({ url: path });
    expect(await refusal(openDatabase({ url: path }))).toBe("HUB_DATA_DIR_LOCKED");
    await first.close();
    const again = await openDatabase({ url: `sqlite:${path}` });
    await again.close();
  });

  it("an unreadable database is HUB_DATABASE_UNAVAILABLE", async () => {
    const path = join(dir, "garbage.sqlite");
    writeFileSync(path, "this is not a database file at all, not even close to one.".repeat(20));
    expect(await refusal(openDatabase({ url: path }))).toBe("HUB_DATABASE_UNAVAILABLE");
  });
});

describe.each(stores)("migrations (%s)", (store) => {
  it("create every table once and are idempotent across restarts", async () => {
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const options =
      store === "postgres" ? { url: TEST_PG_URL, pgSchema: schema } : { url: join(dir, `${schema}.sqlite`) };
    try {
      for (let i = 0; i < 2; i++) {
        const opened = await openDatabase(options);
        const n = await opened.db
          .selectFrom("grants")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        expect(Number(n.n)).toBe(0);
        await opened.close();
      }
    } finally {
      if (store === "postgres") await dropPgSchema(schema);
    }
  });
});

describe("PostgreSQL reachability", () => {
  it("an unreachable server is HUB_DATABASE_UNAVAILABLE", async () => {
    expect(await refusal(openDatabase({ url: "postgres://postgres@127.0.0.1:1/none", pgSchema: "x" }))).toBe(
      "HUB_DATABASE_UNAVAILABLE",
    );
  });
});
