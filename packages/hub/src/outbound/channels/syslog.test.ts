/**
 * The syslog channel: formatSyslog against hand-written RFC 5424 messages, and syslogChannel against
 * a real rsyslogd listening for syslog over TLS (RFC 5425, gtls driver) on loopback. Without
 * rsyslogd the collector tests are skipped with a message, except under CI=true where that fails.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { isLatchkeyError } from "@latchkey/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../testing/sync-support.js";
import { selfSignedCertificate } from "../../testing/tls.js";
import type { DeliveryOutcome, OutboundMessage, Priority } from "./channel.js";
import {
  escapeParamValue,
  formatSyslog,
  frameSyslog,
  MAX_SYSLOG_MESSAGE_OCTETS,
  syslogChannel,
  validateSyslogConfig,
  type SyslogChannelOptions,
} from "./syslog.js";

const BOM = "\uFEFF";

const message: OutboundMessage = {
  id: "01JF8ZK6Q0V3T9X2M4N5P6R7S8",
  event: "alert.door-forced",
  title: "Door forced",
  body: "Front door opened without an unlock.",
  priority: "urgent",
  tags: ["alert", "forced-entry"],
  url: "https://hub.example.test/#/doors/d1",
  actions: [{ label: "View door", url: "https://hub.example.test/#/doors/d1" }],
  occurredAt: Date.UTC(2026, 11, 7, 3, 12, 0, 45),
  data: { doorId: "d1", count: 2, confirmed: true, note: null, "detail.seq": 7 },
};

const fields = { hostname: "hub.example", appName: "latchkey", facility: "authpriv" } as const;

describe("formatSyslog (RFC 5424)", () => {
  it("writes the §6 header, one SD-ELEMENT and a BOM-prefixed UTF-8 MSG", () => {
    // §6.2.1 PRI = 10 (authpriv) × 8 + 2 (critical); §6.2.3 TIMESTAMP in UTC with ms and Z;
    // §6.2.6 PROCID NILVALUE; §6.2.7 MSGID = the event; §6.3 SD with the RFC 5612 example PEN;
    // §6.3.3 null values omitted; §6.4 MSG = BOM + UTF-8.
    expect(formatSyslog(message, fields)).toBe(
      "<82>1 2026-12-07T03:12:00.045Z hub.example latchkey - alert.door-forced " +
        '[latchkey@32473 id="01JF8ZK6Q0V3T9X2M4N5P6R7S8" event="alert.door-forced" ' +
        'doorId="d1" count="2" confirmed="true" detail.seq="7"] ' +
        `${BOM}Door forced: Front door opened without an unlock.`,
    );
  });

  it("maps priorities to §6.2.1 Table 2 severities and takes facility codes or names", () => {
    const pri = (priority: Priority, facility: "local0" | number): string =>
      formatSyslog({ ...message, priority }, { ...fields, facility }).slice(0, 6);
    // local0 = 16 → 128 + severity.
    expect(pri("urgent", "local0")).toBe("<130>1"); // 2 critical
    expect(pri("high", "local0")).toBe("<131>1"); // 3 error
    expect(pri("default", "local0")).toBe("<133>1"); // 5 notice
    expect(pri("low", "local0")).toBe("<134>1"); // 6 informational
    expect(pri("min", "local0")).toBe("<135>1"); // 7 debug
    expect(pri("min", 0).slice(0, 5)).toBe("<7>1 "); // kern
    expect(pri("urgent", 23)).toBe("<186>1"); // local7
    expect(formatSyslog(message, { ...fields, procId: "4242" })).toContain(
      " latchkey 4242 alert.door-forced [",
    );
  });

  it("escapes '\"', '\\' and ']' in PARAM-VALUE (§6.3.3) and drops keys that are not SD-NAMEs", () => {
    expect(escapeParamValue('said "hi" \\ ] done')).toBe('said \\"hi\\" \\\\ \\] done');
    const line = formatSyslog(
      {
        ...message,
        data: {
          reason: 'a"b\\c]d',
          "has space": 1,
          "a=b": 1,
          'q"': 1,
          "x]": 1,
          ["k".repeat(33)]: 1,
          é: 1,
          id: "forged-id",
          event: "forged-event",
          ["k".repeat(32)]: "ok",
        },
      },
      fields,
    );
    expect(line).toContain(
      `[latchkey@32473 id="01JF8ZK6Q0V3T9X2M4N5P6R7S8" event="alert.door-forced" ` +
        `reason="a\\"b\\\\c\\]d" ${"k".repeat(32)}="ok"] ${BOM}`,
    );
    expect(line).not.toContain("forged");
  });

  it("strips CR, LF and other controls, so one message cannot forge another line", () => {
    const forged = "<34>1 2026-12-07T03:12:00.000Z evil.example latchkey - alert.disarmed - all clear";
    const line = formatSyslog(
      {
        ...message,
        title: "Door\r\nforced",
        body: `x\n${forged}\u2028y\u0000z`,
        data: { reason: `a\r\n${forged}]` },
      },
      fields,
    );
    for (const control of ["\r", "\n", "\u0000", "\u2028"]) expect(line).not.toContain(control);
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toContain(`${BOM}Door  forced: x ${forged} y z`);
    expect(line).toContain(`reason="a  ${forged}\\]"`);
  });

  it("keeps MSGID to 32 printable US-ASCII characters (§6.2.7) and HOSTNAME printable (§6.2.4)", () => {
    const line = formatSyslog(
      { ...message, event: `alert.${"x".repeat(40)} é` },
      { ...fields, hostname: "hub host" },
    );
    expect(line.split(" ").slice(2, 6)).toEqual(["hubhost", "latchkey", "-", `alert.${"x".repeat(26)}`]);
    expect(formatSyslog({ ...message, event: "  " }, fields).split(" ")[5]).toBe("-");
  });

  it("stays within the 8192 octets receivers should accept (RFC 5425 §4.3.1), cutting whole characters", () => {
    const line = formatSyslog({ ...message, body: "é".repeat(10_000) }, fields);
    expect(Buffer.byteLength(line, "utf8")).toBeLessThanOrEqual(MAX_SYSLOG_MESSAGE_OCTETS);
    expect(Buffer.byteLength(line, "utf8")).toBeGreaterThan(MAX_SYSLOG_MESSAGE_OCTETS - 2);
    expect(line).not.toContain("\uFFFD");
    expect(line.startsWith("<82>1 2026-12-07T03:12:00.045Z hub.example latchkey - alert.door-forced [")).toBe(
      true,
    );
  });

  it("frames with RFC 5425 §4.3 octet counting: MSG-LEN counts UTF-8 octets", () => {
    expect(frameSyslog(`<13>1 - - - - - - ${BOM}é`).toString("utf8")).toBe(`23 <13>1 - - - - - - ${BOM}é`);
  });
});

describe("validateSyslogConfig", () => {
  const fieldOf = (input: unknown): string | undefined => {
    try {
      validateSyslogConfig(input);
    } catch (error) {
      if (isLatchkeyError(error) && error.code === "HUB_BAD_REQUEST")
        return error.details?.field as string | undefined;
      throw error;
    }
    return undefined;
  };

  it("accepts a collector and defaults port 6514 (RFC 5425 §4.1) and facility authpriv", () => {
    expect(validateSyslogConfig({ host: "siem.example.com" })).toEqual({
      host: "siem.example.com",
      port: 6514,
      facility: "authpriv",
    });
    expect(
      validateSyslogConfig({
        host: "10.0.0.5",
        port: 10514,
        facility: 16,
        hostname: "front-hub",
        appName: "lk",
      }),
    ).toEqual({ host: "10.0.0.5", port: 10514, facility: "local0", hostname: "front-hub", appName: "lk" });
  });

  it("names the field at fault", () => {
    expect(fieldOf(null)).toBe("host");
    expect(fieldOf({ host: "bad host" })).toBe("host");
    expect(fieldOf({ host: "siem.example.com", port: 0 })).toBe("port");
    expect(fieldOf({ host: "siem.example.com", port: "6514" })).toBe("port");
    expect(fieldOf({ host: "siem.example.com", ca: "not a certificate" })).toBe("ca");
    expect(fieldOf({ host: "siem.example.com", hostname: "a b" })).toBe("hostname");
    expect(fieldOf({ host: "siem.example.com", appName: "x".repeat(49) })).toBe("appName");
    expect(fieldOf({ host: "siem.example.com", facility: "local8" })).toBe("facility");
    expect(fieldOf({ host: "siem.example.com", facility: 24 })).toBe("facility");
  });
});

// --- Against a real rsyslogd -------------------------------------------------------------------

function findOnPath(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/bin"];
  for (const dir of dirs) if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const RSYSLOGD = findOnPath("rsyslogd");
if (RSYSLOGD === null && process.env.CI !== "true")
  console.warn("Syslog collector tests skipped: rsyslogd is not installed (with CI=true this fails).");

describe("rsyslogd for the syslog channel tests", () => {
  it.runIf(process.env.CI === "true")("rsyslogd is installed (required in CI)", () => {
    expect(RSYSLOGD).not.toBeNull();
  });
});

/** One template line per message: the parsed RFC 5424 fields rsyslog saw, then the raw message. */
const RSYSLOG_TEMPLATE = `template(name="fields" type="list") {
  constant(value="pri=") property(name="pri")
  constant(value=" severity=") property(name="syslogseverity")
  constant(value=" facility=") property(name="syslogfacility")
  constant(value=" time=") property(name="timereported" dateFormat="rfc3339")
  constant(value=" host=") property(name="hostname")
  constant(value=" app=") property(name="app-name")
  constant(value=" procid=") property(name="procid")
  constant(value=" msgid=") property(name="msgid")
  constant(value=" sd=") property(name="structured-data")
  constant(value=" msg=") property(name="msg")
  constant(value="\\n")
}
template(name="raw" type="list") { property(name="rawmsg") constant(value="\\n") }`;

describe.runIf(RSYSLOGD !== null)("syslogChannel against a real rsyslogd (RFC 5425 over TLS)", () => {
  const outcomes: DeliveryOutcome[] = [];
  let dir = "";
  let ca = "";
  let otherCa = "";
  let port = 0;
  let rsyslogd: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const fieldsLog = (): string => join(dir, "fields.log");
  const rawLog = (): string => join(dir, "raw.log");
  const readLines = (file: string): string[] =>
    existsSync(file)
      ? readFileSync(file, "utf8")
          .split("\n")
          .filter((line) => line !== "")
      : [];

  const send = async (
    options: Partial<SyslogChannelOptions>,
    sent: OutboundMessage = message,
    signal = new AbortController().signal,
  ): Promise<DeliveryOutcome> => {
    const outcome = await syslogChannel({
      host: "localhost",
      port,
      ca,
      hostname: "hub.example",
      timeoutMs: 5_000,
      ...options,
    }).send(sent, { signal });
    outcomes.push(outcome);
    return outcome;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "latchkey-syslog-"));
    const server = selfSignedCertificate(dir);
    ca = readFileSync(server.cert, "utf8");
    const otherDir = mkdtempSync(join(tmpdir(), "latchkey-syslog-other-"));
    try {
      otherCa = readFileSync(selfSignedCertificate(otherDir).cert, "utf8");
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    port = await freePort();
    const conf = join(dir, "rsyslog.conf");
    writeFileSync(
      conf,
      [
        `global(workDirectory="${dir}" DefaultNetstreamDriver="gtls"`,
        `  DefaultNetstreamDriverCAFile="${server.cert}"`,
        `  DefaultNetstreamDriverCertFile="${server.cert}" DefaultNetstreamDriverKeyFile="${server.key}")`,
        `module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")`,
        `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="siem")`,
        RSYSLOG_TEMPLATE,
        `ruleset(name="siem") {`,
        `  action(type="omfile" file="${fieldsLog()}" template="fields")`,
        `  action(type="omfile" file="${rawLog()}" template="raw")`,
        `}`,
      ].join("\n"),
    );
    execFileSync(RSYSLOGD!, ["-N1", "-f", conf], { stdio: "pipe" });
    const child = spawn(RSYSLOGD!, ["-n", "-f", conf, "-i", join(dir, "rsyslogd.pid")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    rsyslogd = child;
    exited = new Promise((resolve) => child.once("exit", () => resolve()));
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    await eventually(
      `rsyslogd listens on 127.0.0.1:${port} (${stderr})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`rsyslogd exited ${child.exitCode}: ${stderr}`);
        return accepting(port);
      },
      15_000,
    );
  });

  afterAll(async () => {
    if (rsyslogd !== null && rsyslogd.exitCode === null) {
      rsyslogd.kill("SIGTERM");
      await exited;
    }
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
    expect(outcomes.length).toBeGreaterThanOrEqual(6);
    // Reasons name host:port and fixed words only — no certificate, key or message text.
    for (const outcome of outcomes) {
      const text = JSON.stringify(outcome);
      expect(text).not.toContain("BEGIN");
      expect(text).not.toContain(message.body);
      if (!outcome.ok) expect(outcome.reason).toMatch(/^(aborted|[^()]+ \((localhost|127\.0\.0\.1):\d+\))$/);
    }
  });

  it("delivers a message rsyslog parses into the right PRI, severity, MSGID, SD and text", async () => {
    const sent: OutboundMessage = { ...message, id: `m-${Date.now()}`, body: "Front door opened — café." };
    const outcome = await send({});
    const second = await send({ facility: "local3" }, { ...sent, priority: "low" });
    expect(outcome).toEqual({ ok: true, detail: `sent to localhost:${port}` });
    expect(second.ok).toBe(true);
    await eventually("rsyslog wrote both messages", () => readLines(fieldsLog()).length >= 2, 10_000);

    const [first, other] = readLines(fieldsLog());
    expect(first).toBe(
      "pri=82 severity=2 facility=10 time=2026-12-07T03:12:00.045Z host=hub.example app=latchkey " +
        `procid=${process.pid} msgid=alert.door-forced ` +
        'sd=[latchkey@32473 id="01JF8ZK6Q0V3T9X2M4N5P6R7S8" event="alert.door-forced" doorId="d1" ' +
        'count="2" confirmed="true" detail.seq="7"] ' +
        `msg=${BOM}Door forced: Front door opened without an unlock.`,
    );
    // local3 = 19 → 19 × 8 + 6 (informational).
    expect(other).toContain("pri=158 severity=6 facility=19 ");
    expect(other).toContain(`sd=[latchkey@32473 id="${sent.id}" event="alert.door-forced" `);
    expect(other).toContain(`msg=${BOM}Door forced: Front door opened — café.`);
    // What arrived is byte for byte what formatSyslog made (the framing removed by rsyslog).
    expect(readLines(rawLog())[0]).toBe(formatSyslog(message, { ...fields, procId: String(process.pid) }));
  });

  it("keeps a message with line breaks and ']' in it to one record", async () => {
    const before = readLines(fieldsLog()).length;
    const forged = "<34>1 2026-12-07T03:12:00.000Z evil.example latchkey - alert.disarmed - all clear";
    const outcome = await send({}, { ...message, body: `ok\n${forged}`, data: { reason: `x"]\n${forged}` } });
    expect(outcome.ok).toBe(true);
    await eventually("rsyslog wrote the message", () => readLines(fieldsLog()).length > before, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const added = readLines(fieldsLog()).slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toContain(
      `sd=[latchkey@32473 id="${message.id}" event="alert.door-forced" reason="x\\"\\] `,
    );
    expect(added[0]).toContain(`msg=${BOM}Door forced: ok ${forged}`);
    expect(added[0]).not.toContain("host=evil.example");
  });

  it("fails for good when the collector's certificate is not trusted", async () => {
    const before = readLines(fieldsLog()).length;
    // No CA: the system roots do not know the self-signed certificate.
    const untrusted = await send({ ca: undefined });
    expect(untrusted).toMatchObject({ ok: false, retryable: false });
    expect(!untrusted.ok && untrusted.reason).toMatch(/^TLS handshake failed: [A-Z_]+ \(localhost:\d+\)$/);
    // Another CA.
    expect(await send({ ca: otherCa })).toMatchObject({ ok: false, retryable: false });
    // The right CA, but the certificate names localhost, not 127.0.0.1.
    const mismatch = await send({ host: "127.0.0.1" });
    expect(mismatch).toEqual({
      ok: false,
      retryable: false,
      reason: `TLS handshake failed: ERR_TLS_CERT_ALTNAME_INVALID (127.0.0.1:${port})`,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readLines(fieldsLog())).toHaveLength(before);
  });

  it("gives up on a peer that never completes the handshake when the time is up or the signal aborts", async () => {
    const silent: Server = createServer((socket: Socket) => socket.on("error", () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const timedOut = await send({ port: silentPort, timeoutMs: 300 });
      expect(timedOut).toEqual({
        ok: false,
        retryable: true,
        reason: `timed out after 0.3 s (localhost:${silentPort})`,
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      expect(await send({ port: silentPort }, message, controller.signal)).toEqual({
        ok: false,
        retryable: true,
        reason: "aborted",
      });
    } finally {
      silent.close();
    }
  });

  it("is retryable once the collector has stopped", async () => {
    rsyslogd?.kill("SIGTERM");
    await exited;
    expect(await accepting(port)).toBe(false);
    expect(await send({})).toEqual({
      ok: false,
      retryable: true,
      reason: `connection refused (localhost:${port})`,
    });
  });
});
