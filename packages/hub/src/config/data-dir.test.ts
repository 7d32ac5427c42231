/**
 * The data directory is private: created 0700, refused when others can read or enter it, and
 * every file a running hub writes there (databases, their WAL, keys, ledger, pid) is 0600 even
 * in a process whose umask would allow more.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isLatchkeyError } from "@latchkey/protocol";
import { parseConfig } from "./config.js";
import { buildHub } from "../server/app.js";
import { prepareDataDir } from "./data-dir.js";

const scratch = mkdtempSync(join(tmpdir(), "latchkey-data-dir-"));
// A shared parent, as ./data's parent is: readable by others.
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

function everything(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((n) => join(dir, n));
}

function refusal(f: () => unknown): { code: string; message: string } | null {
  try {
    f();
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

describe.skipIf(process.platform === "win32")("the data directory", () => {
  it("is created 0700 (with its missing parents) where the process umask would give 0755", () => {
    const dir = join(scratch, "fresh", "data");
    expect(process.umask() & 0o077).not.toBe(0o077);
    prepareDataDir(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(scratch, "fresh"))).toBe(0o700);
  });

  it("is refused when group or others may read or enter it, naming the folder and the fix", () => {
    for (const open of [0o755, 0o750, 0o701, 0o770]) {
      const dir = join(scratch, `open-${open.toString(8)}`);
      mkdirSync(dir);
      chmodSync(dir, open);
      writeFileSync(join(dir, "secret.key"), "x", { mode: 0o644 });
      const r = refusal(() => prepareDataDir(dir));
      expect(r?.code).toBe("HUB_DATA_DIR_PERMISSIONS");
      expect(r?.message).toContain(`chmod 700 ${dir}`);
      // Refused before anything changed.
      expect(mode(dir)).toBe(open);
      expect(mode(join(dir, "secret.key"))).toBe(0o644);
      expect(readdirSync(dir)).toEqual(["secret.key"]);
    }
  });

  it("tightens what an older run left: files 0600, folders 0700, all the way down", () => {
    const dir = join(scratch, "older");
    mkdirSync(join(dir, "demo-locks", "front"), { recursive: true });
    chmodSync(dir, 0o700);
    chmodSync(join(dir, "demo-locks"), 0o755);
    for (const f of ["latchkey.sqlite", "latchkey.sqlite-wal", "demo-locks/front/journal"])
      writeFileSync(join(dir, f), "x", { mode: 0o644 });
    prepareDataDir(dir);
    for (const path of everything(dir))
      expect(mode(path), path).toBe(statSync(path).isDirectory() ? 0o700 : 0o600);
  });

  it("refuses a key file others could have read instead of quietly fixing it", async () => {
    const dir = join(scratch, "open-key");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, "secret.key"), `${"ab".repeat(32)}\n`, { mode: 0o644 });
    chmodSync(join(dir, "secret.key"), 0o644);
    await expect(
      buildHub({ ...parseConfig([], {}), dataDir: dir, logLevel: "silent" }),
    ).rejects.toMatchObject({
      code: "HUB_DATA_DIR_PERMISSIONS",
      message: expect.stringContaining(`chmod 600 ${join(dir, "secret.key")}`) as unknown,
    });
    expect(mode(join(dir, "secret.key"))).toBe(0o644);
  });

  it("a running hub writes only 0600 files: SQLite database, WAL, keys, ledger, pid", async () => {
    const dir = join(scratch, "hub");
    const hub = await buildHub({
      ...parseConfig([], {}),
      dataDir: dir,
      logLevel: "silent",
      argon2: { memoryCost: 256, timeCost: 1, parallelism: 1 },
    });
    try {
      // Writes reach the WAL (setup creates its one-time link; the ledger checkpoints).
      expect((await hub.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
      const names = readdirSync(dir);
      expect(names).toEqual(
        expect.arrayContaining([
          "latchkey.sqlite",
          "latchkey.sqlite-wal",
          "ledger.sqlite",
          "secret.key",
          "hub.pid",
        ]),
      );
      expect(mode(dir)).toBe(0o700);
      for (const path of everything(dir))
        expect(mode(path), path).toBe(statSync(path).isDirectory() ? 0o700 : 0o600);
    } finally {
      await hub.close();
    }
  });

  it("a hub is refused on an open data directory before it writes anything", async () => {
    const dir = join(scratch, "open-hub");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await expect(
      buildHub({ ...parseConfig([], {}), dataDir: dir, logLevel: "silent" }),
    ).rejects.toMatchObject({
      code: "HUB_DATA_DIR_PERMISSIONS",
    });
    expect(readdirSync(dir)).toEqual([]);
  });
});
