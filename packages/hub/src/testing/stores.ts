/**
 * Test support: the stores every hub test runs against. SQLite always; PostgreSQL on
 * 127.0.0.1:5432 (database `test`, user `postgres`) when reachable. Unreachable PostgreSQL fails
 * the run under CI=true and is skipped, loudly, elsewhere.
 */
import pg from "pg";

export const TEST_PG_URL = process.env.LATCHKEY_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

export type StoreKind = "sqlite" | "postgres";

let probe: Promise<boolean> | undefined;

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function testStores(): Promise<StoreKind[]> {
  probe ??= postgresReachable();
  if (await probe) return ["sqlite", "postgres"];
  if (process.env.CI === "true")
    throw new Error(`PostgreSQL is required under CI but ${TEST_PG_URL} is unreachable`);
  console.warn(`SKIPPING PostgreSQL variants: ${TEST_PG_URL} is unreachable (set CI=true to make this fail)`);
  return ["sqlite"];
}

export async function dropPgSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
