/**
 * `latchkey keys` against a real hub data directory: a demo hub commissions its virtual locks
 * (the site owner key signs their commissioning records) and exports evidence of the front door;
 * once the hub is stopped, the real command prints the site's key card, whose QR code reads back
 * as the trust file it writes, and `latchkey verify` proves the hub's bundle with that trust file
 * and only with it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import decodeQR from "qr/decode.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64, keyFingerprint, parseTrustFile } from "@latchkey/protocol";
import { startDemoSite } from "../demo/demo-site.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp } from "../testing/flows.js";
import { LATCHKEY_FROM_SOURCE } from "../testing/cli.js";

const root = join(import.meta.dirname, "../../../..");

function latchkey(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...LATCHKEY_FROM_SOURCE, ...args], { cwd: root });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Reads a QR code drawn with the `ascii` output (█ light above and below, ▀ above, ▄ below). */
function readAsciiQr(text: string): string {
  const rows = text.split("\n");
  const width = [...rows[0]!].length;
  const scale = 4;
  const w = width * scale;
  const h = rows.length * 2 * scale;
  const data = new Uint8Array(w * h * 4).fill(255);
  rows.forEach((line, y) =>
    [...line].forEach((ch, x) => {
      const halves = [ch === "█" || ch === "▀", ch === "█" || ch === "▄"];
      halves.forEach((light, half) => {
        for (let i = 0; i < scale; i++)
          for (let j = 0; j < scale; j++) {
            const p = (((y * 2 + half) * scale + i) * w + x * scale + j) * 4;
            const v = light ? 255 : 0;
            data[p] = data[p + 1] = data[p + 2] = v;
          }
      });
    }),
  );
  return decodeQR({ width: w, height: h, data });
}

describe("latchkey keys", () => {
  let t: TestHub;
  let dataDir: string;
  const out = mkdtempSync(join(tmpdir(), "latchkey-keys-"));
  const bundle = join(out, "bundle.json");
  let ledger: { origin: string; publicKey: Uint8Array };
  let demoSiteId: string;
  let hubClosed = false;

  beforeAll(async () => {
    t = await startTestHub("sqlite");
    dataDir = t.dataDir;
    // As `latchkey start --demo` does: the demo site, its two virtual locks commissioned over the
    // hub's own broker.
    await t.hub.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = t.hub.app.server.address() as AddressInfo;
    const demo = await startDemoSite({
      db: t.hub.ledger.db,
      service: t.hub.locks,
      dataDir,
      brokerUrl: `ws://127.0.0.1:${port}/mqtt`,
      now: () => t.clock.now,
      log: t.hub.ctx.log.child({ part: "demo" }),
    });
    t.hub.ctx.devices.demo = demo;
    demoSiteId = demo.siteId;
    const owner = await createOwner(t);
    const created = await owner.client.post("/api/v1/sites", { name: "Cabin", timezone: "UTC" });
    expect(created.statusCode).toBe(201);
    const l = t.hub.ctx.devices.ledger!;
    ledger = { origin: l.origin, publicKey: l.publicKey };
    const front = await t.hub.ctx.db
      .selectFrom("doors")
      .select("id")
      .where("site_id", "=", demoSiteId)
      .where("name", "=", "Front door")
      .executeTakeFirstOrThrow();
    await stepUp(t, owner);
    // The demo lock's first events reach the ledger shortly after it connects.
    const now = Date.now();
    let r = await owner.client.post(`/api/v1/sites/${demoSiteId}/evidence`, {
      doorIds: [front.id],
      from: now - 3_600_000,
      to: now,
    });
    for (let i = 0; i < 100 && r.statusCode === 409; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await owner.client.post(`/api/v1/sites/${demoSiteId}/evidence`, {
        doorIds: [front.id],
        from: now - 3_600_000,
        to: now,
      });
    }
    expect(r.statusCode, r.body).toBe(200);
    writeFileSync(bundle, r.rawPayload);
  }, 120_000);

  afterAll(async () => {
    if (!hubClosed) await t?.hub.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it("refuses while the hub holds its SQLite database, and for a folder that is no hub's", async () => {
    const running = await latchkey("keys", "--data-dir", dataDir);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain("HUB_DATA_DIR_LOCKED");
    const empty = mkdtempSync(join(tmpdir(), "latchkey-keys-empty-"));
    const none = await latchkey("keys", "--data-dir", empty);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/HUB_CONFIG_INVALID: no secret\.key in/);
    expect(existsSync(join(empty, "secret.key")) || existsSync(join(empty, "ledger-checkpoint.key"))).toBe(
      false,
    );
    rmSync(empty, { recursive: true, force: true });
    expect((await latchkey("keys", "--frobnicate")).code).toBe(2);
    const help = await latchkey("--help");
    expect(help.stdout).toMatch(/^ {2}keys +Print a site's key card/m);
  });

  it("prints the key card, whose QR code is the trust file it writes, and verify proves the hub's bundle with it", async () => {
    await t.hub.close(); // the database is the hub's alone while it runs
    hubClosed = true;
    const several = await latchkey("keys", "--data-dir", dataDir);
    expect(several.code).toBe(1);
    expect(several.stderr).toMatch(/choose a site with --site ID; the sites are: .*Demo home.*Cabin/);

    const trustPath = join(out, "trust.json");
    const r = await latchkey("keys", "--data-dir", dataDir, "--site", "Demo home", "--out", trustPath);
    expect(r.code, r.stderr).toBe(0);
    const trustText = readFileSync(trustPath, "utf8");
    const trust = parseTrustFile(trustText);
    // The owner key is the one that signed the locks' commissioning records (it is in the bundle),
    // the ledger key the hub's own.
    const exported = JSON.parse(readFileSync(bundle, "utf8")) as { owner: { publicKey: string } };
    expect(trust.owners.map(encodeBase64)).toEqual([exported.owner.publicKey]);
    expect(trust.ledgers).toEqual([ledger]);
    expect(trust.site).toBe("Demo home");
    expect(r.stdout).toContain(`fingerprint ${keyFingerprint(trust.owners[0]!)}`);
    expect(r.stdout).toContain(exported.owner.publicKey);
    expect(r.stdout).toContain(`fingerprint ${keyFingerprint(ledger.publicKey)}`);
    expect(r.stdout).toContain(`origin ${ledger.origin}`);
    const lines = r.stdout.split("\n");
    const qrStart = lines.findIndex((l) => l.startsWith("Trust file")) + 1;
    const qrEnd = lines.findIndex((l, i) => i >= qrStart && l.startsWith("{"));
    expect(readAsciiQr(lines.slice(qrStart, qrEnd).join("\n"))).toBe(trustText.trimEnd());

    expect((await latchkey("verify", bundle)).code).toBe(3);
    const proven = await latchkey("verify", bundle, "--trust", trustPath);
    expect(proven.code, proven.stderr).toBe(0);
    expect(proven.stdout).toMatch(/^PROVEN: /);

    // Another site's card (its own owner key) refuses this site's bundle.
    const cabinPath = join(out, "cabin.json");
    const cabin = await latchkey(
      "keys",
      "--data-dir",
      dataDir,
      "--site",
      "Cabin",
      "--out",
      cabinPath,
      "--json",
    );
    expect(cabin.code, cabin.stderr).toBe(0);
    const card = JSON.parse(cabin.stdout) as { owner: { fingerprint: string }; trustFile: string };
    expect(card.trustFile).toBe(readFileSync(cabinPath, "utf8"));
    expect(card.owner.fingerprint).not.toBe(keyFingerprint(trust.owners[0]!));
    const refused = await latchkey("verify", bundle, "--trust", cabinPath);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("first failing element: owner.publicKey (untrusted-key)");
  });
});
