/**
 * The email channel against a real SMTP server in this process (smtp-server on 127.0.0.1, port 0):
 * STARTTLS and implicit TLS with a throwaway certificate, AUTH checked by the server, the raw
 * message as the server received it, and the server's refusals mapped to outcomes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { isLatchkeyError } from "@latchkey/protocol";
import { selfSignedCertificate } from "../../testing/tls.js";
import type { DeliveryOutcome, OutboundMessage } from "./channel.js";
import { emailChannel, validateEmailConfig, type EmailConfig } from "./email.js";

const USER = "alerts@example.test";
const PASSWORD = "hunter2-Correct-Horse";

const dir = mkdtempSync(join(tmpdir(), "latchkey-email-test-"));
const certFiles = selfSignedCertificate(dir);
const cert = readFileSync(certFiles.cert, "utf8");
const key = readFileSync(certFiles.key, "utf8");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  readonly raw: string;
  readonly mailFrom: string;
  readonly rcptTo: string[];
  readonly secure: boolean;
  readonly user: unknown;
}

interface TestServer {
  readonly port: number;
  readonly received: Received[];
  readonly authMethods: string[];
}

const servers: SMTPServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

/** A real SMTP server; `options` override its handlers (refusals) and TLS mode. */
async function smtpServer(options: Partial<SMTPServerOptions> = {}): Promise<TestServer> {
  const received: Received[] = [];
  const authMethods: string[] = [];
  const server = new SMTPServer({
    key,
    cert,
    authMethods: ["PLAIN", "LOGIN"],
    // AUTH only over TLS (the default): a login in clear would fail the tests.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, callback) {
      authMethods.push(auth.method);
      if (auth.username === USER && auth.password === PASSWORD) callback(null, { user: auth.username });
      else callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          raw: Buffer.concat(chunks).toString("utf8"),
          mailFrom: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: session.user,
        });
        callback(null, "Ok: queued as TEST1");
      });
    },
    ...options,
  });
  servers.push(server);
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, received, authMethods };
}

function config(port: number, overrides: Partial<EmailConfig> = {}): EmailConfig {
  return {
    host: "localhost",
    port,
    security: "starttls",
    username: USER,
    password: PASSWORD,
    from: "hub@example.test",
    to: ["owner@example.test", "partner@example.test"],
    ca: cert,
    ...overrides,
  };
}

const message: OutboundMessage = {
  id: "01JF8ZK6Q0V3T9X2M4N5P6R7S8",
  event: "alert.forced-entry",
  title: "Forced entry at Front door",
  body: "The Front door opened without an unlock at 03:12.",
  priority: "urgent",
  tags: ["alert", "forced-entry"],
  url: "https://hub.example.test/doors/d1/activity",
  actions: [{ label: "View door", url: "https://hub.example.test/doors/d1" }],
  occurredAt: Date.UTC(2026, 11, 7, 3, 12, 0),
  data: { doorId: "d1", kind: "forced-entry" },
};

const send = (c: EmailConfig, m: OutboundMessage = message): Promise<DeliveryOutcome> =>
  emailChannel(c).send(m, { signal: new AbortController().signal });

/** The headers (unfolded, lower-case names) and the decoded text/html parts of a raw message. */
function parse(raw: string): { headers: Map<string, string>; text: string; html: string } {
  const [head = "", ...rest] = raw.split("\r\n\r\n");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const i = line.indexOf(":");
    headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  const body = rest.join("\r\n\r\n");
  const part = (type: string): string => {
    const m = new RegExp(
      `Content-Type: ${type}[^\\r]*\\r\\nContent-Transfer-Encoding: ([\\w-]+)\\r\\n\\r\\n([\\s\\S]*?)\\r\\n--`,
    ).exec(body);
    if (m === null) throw new Error(`no ${type} part in:\n${raw}`);
    const [, encoding = "", content = ""] = m;
    if (encoding === "quoted-printable")
      return content
        .replace(/=\r\n/g, "")
        .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (encoding === "base64") return Buffer.from(content, "base64").toString("utf8");
    return content;
  };
  return { headers, text: part("text/plain").replace(/\r\n/g, "\n"), html: part("text/html") };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function expectNoSecret(outcome: DeliveryOutcome): void {
  const text = JSON.stringify(outcome);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(USER);
  expect(text).not.toContain(Buffer.from(PASSWORD).toString("base64"));
  expect(text).not.toContain(Buffer.from(`\0${USER}\0${PASSWORD}`).toString("base64"));
}

describe("email channel over STARTTLS", () => {
  it("delivers the message the server parses: subject, text, HTML, Message-ID, priority, recipients", async () => {
    const server = await smtpServer();
    const outcome = await send(config(server.port));
    expect(outcome).toEqual({ ok: true, detail: "accepted by localhost (250 Ok: queued as TEST1)" });

    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got.secure).toBe(true); // STARTTLS happened before MAIL FROM
    expect(got.user).toBe(USER);
    expect(got.mailFrom).toBe("hub@example.test");
    expect(got.rcptTo).toEqual(["owner@example.test", "partner@example.test"]);

    const { headers, text, html } = parse(got.raw);
    expect(headers.get("subject")).toBe("[Latchkey] Forced entry at Front door");
    expect(headers.get("message-id")).toBe("<01JF8ZK6Q0V3T9X2M4N5P6R7S8@latchkey>");
    expect(headers.get("x-priority")).toMatch(/^1\b/);
    expect(headers.get("auto-submitted")).toBe("auto-generated");
    expect(headers.get("x-latchkey-event")).toBe("alert.forced-entry");
    expect(headers.get("to")).toBe("owner@example.test, partner@example.test");
    expect(headers.get("from")).toBe("Latchkey <hub@example.test>");
    expect(text).toBe(
      "The Front door opened without an unlock at 03:12.\n\n" +
        "https://hub.example.test/doors/d1/activity\n" +
        "View door: https://hub.example.test/doors/d1",
    );
    expect(html).toContain('<a href="https://hub.example.test/doors/d1">View door</a>');
    expect(html).toContain("<strong>Forced entry at Front door</strong>");
  });

  it("logs in with AUTH LOGIN when that is all the server offers, and with PLAIN when offered", async () => {
    const login = await smtpServer({ authMethods: ["LOGIN"] });
    expect((await send(config(login.port))).ok).toBe(true);
    expect(login.authMethods).toEqual(["LOGIN"]);
    expect(login.received).toHaveLength(1);

    const plain = await smtpServer({ authMethods: ["PLAIN"] });
    expect((await send(config(plain.port))).ok).toBe(true);
    expect(plain.authMethods).toEqual(["PLAIN"]);
    expect(plain.received).toHaveLength(1);
  });

  it("sets X-Priority 5 for low priorities and none for the default", async () => {
    const server = await smtpServer();
    await send(config(server.port), { ...message, priority: "min" });
    await send(config(server.port), { ...message, id: "m2", priority: "default" });
    expect(parse(server.received[0]!.raw).headers.get("x-priority")).toMatch(/^5\b/);
    expect(parse(server.received[1]!.raw).headers.has("x-priority")).toBe(false);
  });

  it("escapes everything in the HTML part and keeps CR/LF in a title out of the headers", async () => {
    const server = await smtpServer();
    const hostile: OutboundMessage = {
      ...message,
      title: "Door <b>1</b>\r\nBcc: thief@example.test",
      body: `<script>alert("x")</script> & more`,
      url: null,
      actions: [
        { label: `<img src=x onerror="y">`, url: 'https://hub.example.test/a?x="><script>' },
        { label: "click", url: "javascript:alert(1)" },
      ],
    };
    expect((await send(config(server.port), hostile)).ok).toBe(true);
    const got = server.received[0]!;
    expect(got.rcptTo).toEqual(["owner@example.test", "partner@example.test"]);
    const { headers, html } = parse(got.raw);
    expect(headers.has("bcc")).toBe(false);
    expect(headers.get("subject")).toBe("[Latchkey] Door <b>1</b>  Bcc: thief@example.test");
    expect(html).not.toMatch(/<script|<img|<b>|href="javascript/i);
    expect(html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; more");
    expect(html).toContain('href="https://hub.example.test/a?x=&#34;&#62;&#60;script&#62;"');
    expect(html).toContain("click: javascript:alert(1)");
  });

  it("a wrong password is a permanent failure naming 535, never the password or the login", async () => {
    // A careless server that echoes the credentials it got: the channel must still not repeat them.
    const server = await smtpServer({
      onAuth(auth, _session, callback) {
        callback(new Error(`no user ${auth.username} with password ${String(auth.password)}`));
      },
    });
    const outcome = await send(config(server.port, { password: "wrong-" + PASSWORD }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.retryable).toBe(false);
    expect(outcome.reason).toMatch(/^localhost rejected AUTH (PLAIN|LOGIN): 535 /);
    expect(outcome.reason).toContain("[redacted]");
    expectNoSecret(outcome);
    expect(outcome.reason).not.toContain("wrong-");
    expect(server.received).toHaveLength(0);
  });

  it("a recipient refused with 550 is permanent; with 451 it is retryable", async () => {
    const refusing = await smtpServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error("5.1.1 mailbox unavailable"), { responseCode: 550 }));
      },
    });
    const permanent = await send(config(refusing.port, { to: ["owner@example.test"] }));
    expect(permanent).toMatchObject({ ok: false, retryable: false });
    expect(!permanent.ok && permanent.reason).toBe(
      "localhost rejected RCPT TO: 550 5.1.1 mailbox unavailable",
    );

    const greylisting = await smtpServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error("4.7.1 greylisted, try again later"), { responseCode: 451 }));
      },
    });
    const transient = await send(config(greylisting.port, { to: ["owner@example.test"] }));
    expect(transient).toMatchObject({ ok: false, retryable: true });
    expect(!transient.ok && transient.reason).toMatch(/451 4\.7\.1 greylisted/);
    expectNoSecret(transient);
  });

  it("one refused recipient of two: delivered to the other, the refusal named in the detail", async () => {
    const server = await smtpServer({
      onRcptTo(address, _session, callback) {
        if (address.address === "partner@example.test")
          callback(Object.assign(new Error("no such user"), { responseCode: 550 }));
        else callback();
      },
    });
    const outcome = await send(config(server.port));
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.detail).toContain("refused partner@example.test");
    expect(server.received[0]?.rcptTo).toEqual(["owner@example.test"]);
  });

  it("a 451 after DATA is retryable", async () => {
    const server = await smtpServer({
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () =>
          callback(Object.assign(new Error("4.3.0 local error in processing"), { responseCode: 451 })),
        );
      },
    });
    const outcome = await send(config(server.port));
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(!outcome.ok && outcome.reason).toBe(
      "localhost rejected DATA: 451 4.3.0 local error in processing",
    );
  });

  it("a server that does not offer STARTTLS gets nothing in clear (permanent)", async () => {
    const server = await smtpServer({ disabledCommands: ["STARTTLS"], allowInsecureAuth: true });
    const outcome = await send(config(server.port));
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(!outcome.ok && outcome.reason).toMatch(/^localhost rejected STARTTLS: 5\d\d /);
    expect(server.authMethods).toEqual([]);
    expect(server.received).toHaveLength(0);
    expectNoSecret(outcome);
  });

  it("a certificate the configured CA does not vouch for is refused (permanent)", async () => {
    const server = await smtpServer();
    const { ca: _ca, ...noCa } = config(server.port);
    const outcome = await send(noCa);
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(!outcome.ok && outcome.reason).toMatch(/^TLS with localhost failed/);
    expect(server.authMethods).toEqual([]);
  });

  it("a closed port is retryable", async () => {
    const outcome = await send(config(await closedPort()));
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(!outcome.ok && outcome.reason).toMatch(/connection refused/);
    expectNoSecret(outcome);
  });

  it("an aborted attempt is retryable and sends nothing", async () => {
    const server = await smtpServer();
    const controller = new AbortController();
    controller.abort();
    const outcome = await emailChannel(config(server.port)).send(message, { signal: controller.signal });
    expect(outcome).toEqual({ ok: false, retryable: true, reason: "sending was aborted" });
    expect(server.received).toHaveLength(0);
  });

  it("an abort while the server is slow to answer DATA ends the attempt, retryable", async () => {
    const server = await smtpServer({
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => setTimeout(() => callback(null, "late"), 5_000));
      },
    });
    const started = Date.now();
    const outcome = await emailChannel(config(server.port)).send(message, {
      signal: AbortSignal.timeout(300),
    });
    expect(outcome).toEqual({ ok: false, retryable: true, reason: "sending was aborted" });
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});

describe("email channel over implicit TLS and in clear to this machine", () => {
  it('"tls" talks TLS from the first byte', async () => {
    const server = await smtpServer({ secure: true });
    const outcome = await send(config(server.port, { security: "tls" }));
    expect(outcome.ok).toBe(true);
    expect(server.received[0]?.secure).toBe(true);
    expect(parse(server.received[0]!.raw).headers.get("subject")).toBe(
      "[Latchkey] Forced entry at Front door",
    );
  });

  it('"tls" against a STARTTLS server fails instead of falling back to clear', async () => {
    const server = await smtpServer();
    const outcome = await send(config(server.port, { security: "tls" }));
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(!outcome.ok && outcome.reason).toMatch(/^TLS with localhost failed/);
    expect(server.received).toHaveLength(0);
  });

  it('"none" to a relay on 127.0.0.1 without a login delivers', async () => {
    const server = await smtpServer({ authOptional: true, disabledCommands: ["STARTTLS"] });
    const outcome = await send(
      config(server.port, {
        host: "127.0.0.1",
        security: "none",
        username: null,
        password: null,
        ca: undefined,
      }),
    );
    expect(outcome).toEqual({ ok: true, detail: "accepted by 127.0.0.1 (250 Ok: queued as TEST1)" });
    expect(server.received[0]?.secure).toBe(false);
  });
});

describe("validateEmailConfig", () => {
  const good = {
    host: "smtp.example.test",
    port: 587,
    security: "starttls",
    username: USER,
    password: PASSWORD,
    from: "hub@example.test",
    to: ["owner@example.test"],
  };

  function refusal(input: unknown): { field: unknown; message: string } {
    try {
      validateEmailConfig(input);
    } catch (e) {
      if (!isLatchkeyError(e, "HUB_BAD_REQUEST")) throw e;
      expect(e.message).not.toContain(PASSWORD);
      return { field: e.details?.field, message: e.message };
    }
    throw new Error("accepted");
  }

  it("accepts a good configuration and returns it", () => {
    expect(validateEmailConfig(good)).toEqual(good);
    expect(validateEmailConfig({ ...good, username: null, password: null, ca: cert })).toMatchObject({
      username: null,
      ca: cert,
    });
    expect(validateEmailConfig({ ...good, host: "127.0.0.1", security: "none" }).security).toBe("none");
    expect(validateEmailConfig({ ...good, host: "localhost", security: "none" }).security).toBe("none");
    expect(validateEmailConfig({ ...good, host: "::1", security: "none" }).security).toBe("none");
  });

  it('refuses "none" to a host that is not this machine, saying the password would go in clear', () => {
    const r = refusal({ ...good, security: "none" });
    expect(r.field).toBe("security");
    expect(r.message).toMatch(/would send the password in clear to smtp\.example\.test/);
    expect(
      refusal({ ...good, host: "192.168.1.10", security: "none", username: null, password: null }),
    ).toEqual({
      field: "security",
      message: expect.stringMatching(/in clear/) as unknown,
    });
  });

  it("refuses bad fields, naming each", () => {
    expect(refusal({ ...good, port: 0 }).field).toBe("port");
    expect(refusal({ ...good, port: 65536 }).field).toBe("port");
    expect(refusal({ ...good, port: 58.7 }).field).toBe("port");
    expect(refusal({ ...good, host: "smtp://x" }).field).toBe("host");
    expect(refusal({ ...good, host: "a b" }).field).toBe("host");
    expect(refusal({ ...good, security: "ssl" }).field).toBe("security");
    expect(refusal({ ...good, from: "hub" }).field).toBe("from");
    expect(refusal({ ...good, from: "a@b@c" }).field).toBe("from");
    expect(refusal({ ...good, from: "hub@example.test\r\nBcc: x@y" }).field).toBe("from");
    expect(refusal({ ...good, to: [] }).field).toBe("to");
    expect(refusal({ ...good, to: Array.from({ length: 21 }, (_, i) => `u${i}@example.test`) }).field).toBe(
      "to",
    );
    expect(refusal({ ...good, to: ["ok@example.test", "not an address@x"] }).message).toMatch(/to\[1\]/);
    expect(refusal({ ...good, to: ["a@b,c@d"] }).field).toBe("to");
    expect(refusal({ ...good, password: null }).field).toBe("password");
    expect(refusal({ ...good, username: "" }).field).toBe("username");
    expect(refusal({ ...good, ca: "not a certificate" }).field).toBe("ca");
    expect(refusal(null).field).toBe("config");
  });
});
