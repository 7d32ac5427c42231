/**
 * deploy/latchkey.service: the sandboxing it promises is written in it, it starts the compiled
 * hub with plain Node, and systemd itself accepts it (`systemd-analyze verify`, where installed).
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./test-build.js";

const UNIT_FILE = join(REPO_ROOT, "deploy/latchkey.service");
const UNIT = readFileSync(UNIT_FILE, "utf8");

/** The [Service] section's settings, each key with every value it is given. */
function serviceSettings(unit: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = "";
  for (const raw of unit.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header !== null) {
      section = header[1] ?? "";
      continue;
    }
    const eq = line.indexOf("=");
    if (section !== "Service" || eq < 0) continue;
    const key = line.slice(0, eq);
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1)]);
  }
  return settings;
}

describe("deploy/latchkey.service", () => {
  const settings = serviceSettings(UNIT);

  it("sandboxes the hub: dynamic user, read-only system, private state directory, no new privileges", () => {
    const required: Record<string, string> = {
      DynamicUser: "yes",
      ProtectSystem: "strict",
      NoNewPrivileges: "yes",
      StateDirectory: "latchkey",
      StateDirectoryMode: "0700",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      CapabilityBoundingSet: "",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      RestrictNamespaces: "yes",
      SystemCallFilter: "@system-service",
    };
    for (const [key, value] of Object.entries(required)) expect(settings.get(key), key).toContain(value);
    // The hub refuses a data folder others can read; it must be the state directory.
    expect(settings.get("Environment")).toContain("LATCHKEY_DATA_DIR=%S/latchkey");
  });

  it("starts the compiled hub with plain Node, not through tsx", () => {
    const [execStart, ...more] = settings.get("ExecStart") ?? [];
    expect(more).toEqual([]);
    expect(execStart).toMatch(/^\/usr\/bin\/node \S+\/@latchkey\/hub\/bin\/latchkey\.js start$/);
    expect(UNIT).not.toMatch(/tsx/);
  });

  it("passes systemd-analyze verify", (ctx) => {
    const probe = spawnSync("systemd-analyze", ["--version"]);
    if (probe.error !== undefined) {
      console.warn("deploy/latchkey.service: systemd-analyze is not installed here; verify skipped");
      ctx.skip();
    }
    // verify checks that ExecStart's program exists: point it at this Node if /usr/bin/node is absent.
    const dir = mkdtempSync(join(tmpdir(), "latchkey-unit-"));
    try {
      const unit = existsSync("/usr/bin/node")
        ? UNIT
        : UNIT.replace("/usr/bin/node ", `${process.execPath} `);
      const file = join(dir, "latchkey.service");
      writeFileSync(file, unit);
      const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
      // A setting systemd cannot parse is only a warning (exit 0), so warnings about the unit fail too.
      const complaints = r.stderr.split("\n").filter((l) => l.includes("latchkey.service"));
      expect({ status: r.status, complaints }).toEqual({ status: 0, complaints: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
