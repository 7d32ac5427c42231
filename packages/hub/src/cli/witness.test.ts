/** `latchkey witness`, run as the real command in child processes (serving is in witness/e2e.test.ts). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatVerifierKey, parseVerifierKey, SIG_TYPE_ED25519 } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";

const root = join(import.meta.dirname, "../../../..");
const tmp = mkdtempSync(join(tmpdir(), "latchkey-witness-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function latchkey(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...LATCHKEY_FROM_SOURCE, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("latchkey witness", () => {
  it("init creates a private key and prints the verifier key; show prints it again; init twice is refused", () => {
    const dir = join(tmp, "w");
    const r = latchkey("witness", "init", "--dir", dir, "--name", "witness.example.org/alice");
    expect(r.code, r.stderr).toBe(0);
    const vkey = /^Verifier key: (\S+)$/m.exec(r.stdout)?.[1] ?? "";
    const parsed = parseVerifierKey(vkey);
    expect([parsed.name, parsed.type]).toEqual(["witness.example.org/alice", 0x04]);
    expect(r.stdout).toContain(`--witness http://THIS-HOST:7380=${vkey}`);
    expect(statSync(join(dir, "witness.key")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const seedHex = readFileSync(join(dir, "witness.key"), "utf8").split("\n")[2] ?? "";
    expect(seedHex).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout + r.stderr).not.toContain(seedHex);
    expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8"))).toEqual({
      format: "latchkey-witness-state",
      version: 1,
      logs: {},
    });
    expect(latchkey("witness", "show", "--dir", dir).stdout.trim()).toBe(vkey);
    const again = latchkey("witness", "init", "--dir", dir, "--name", "other");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("WITNESS_KEY_INVALID");
  });

  it("refuses bad command lines (exit 2) and bad values with a stable code (exit 1)", () => {
    const dir = join(tmp, "w2");
    expect(latchkey("witness", "init", "--dir", dir).code).toBe(2); // no --name
    expect(latchkey("witness", "init", "--dir", dir, "--name", "has space").stderr).toContain(
      "WITNESS_CONFIG_INVALID",
    );
    expect(latchkey("witness", "frobnicate", "--dir", dir).code).toBe(2);
    expect(latchkey("witness", "serve", "--dir", dir, "--bogus").code).toBe(2);
    expect(latchkey("witness", "serve", "--dir", dir).code).toBe(2); // no --log
    const badLog = latchkey("witness", "serve", "--dir", dir, "--log", "not-a-key");
    expect([badLog.code, badLog.stderr.includes("WITNESS_CONFIG_INVALID")]).toEqual([1, true]);
    // A cosigner key (type 0x04) is not a log key.
    const cosignerKey = formatVerifierKey("w", 0x04, nodeEd25519.publicKey(new Uint8Array(32).fill(1)));
    expect(latchkey("witness", "serve", "--dir", dir, "--log", cosignerKey).stderr).toContain("not a log");
    // A real log key, but no witness in that folder.
    const logKey = formatVerifierKey(
      "hub.test/ledger",
      SIG_TYPE_ED25519,
      nodeEd25519.publicKey(new Uint8Array(32).fill(1)),
    );
    const noWitness = latchkey("witness", "serve", "--dir", dir, "--log", logKey, "--listen", "127.0.0.1:0");
    expect([noWitness.code, noWitness.stderr.includes("WITNESS_KEY_INVALID")]).toEqual([1, true]);
    expect(latchkey("witness", "serve", "--dir", dir, "--log", logKey, "--listen", "nowhere").code).toBe(2);
  });

  it("explains itself in --help and in latchkey's command list", () => {
    const help = latchkey("witness", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("latchkey witness serve --dir DIR --log LOG");
    expect(latchkey("--help").stdout).toMatch(/witness\s+Run a witness that cosigns/);
  });
});
