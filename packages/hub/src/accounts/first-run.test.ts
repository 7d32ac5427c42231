import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync } from "node:child_process";
import { testStores } from "../testing/stores.js";
import { startTestHub, TEST_ORIGIN, type TestHub, type TestClient } from "../testing/hub-fixture.js";
import { SoftAuthenticator } from "../testing/soft-authenticator.js";
import { setUpOwner } from "./first-run.js";
import { createLink } from "./links.js";

const stores = await testStores();
const PASSWORD = "a quiet harbour at dawn";

function oathtool(secret: string, atMs: number): string {
  return execFileSync("oathtool", ["--totp", "-b", "-N", `@${Math.floor(atMs / 1000)}`, secret], {
    encoding: "utf8",
  }).trim();
}

function setupToken(link: string | null): string {
  expect(link).not.toBeNull();
  const token = new URL(link ?? "").hash.slice(1);
  expect(token.length).toBeGreaterThan(30);
  return token;
}

async function countRows(
  t: TestHub,
  table: "accounts" | "sessions" | "recovery_codes" | "passkeys",
): Promise<number> {
  const r = await t.hub.ctx.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe.each(stores)("first run over HTTP (%s)", (store) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub(store);
  });
  afterAll(async () => {
    await t.close();
  });

  it("has no default account; refuses a wrong, then a weak-password setup without burning the link", async () => {
    const c = t.client();
    expect((await c.get("/api/v1/setup")).json()).toEqual({ setupRequired: true });
    expect((await c.post("/api/v1/auth/login", { username: "admin", password: "admin" })).json().code).toBe(
      "AUTH_INVALID_CREDENTIALS",
    );
    const wrong = await c.post("/api/v1/setup", {
      token: "x".repeat(43),
      username: "owner",
      password: PASSWORD,
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe("AUTH_SETUP_INVALID");
    const token = setupToken(t.hub.setupLink);
    for (const pw of ["short", "password123", "x".repeat(129)]) {
      const weak = await c.post("/api/v1/setup", { token, username: "owner", password: pw });
      expect(weak.statusCode).toBe(422);
      expect(weak.json().code).toBe("AUTH_PASSWORD_POLICY");
    }
    expect(await countRows(t, "accounts")).toBe(0);
  });

  it("creates the owner, forces TOTP enrolment (checked with oathtool), issues recovery codes", async () => {
    const c = t.client();
    const token = setupToken(t.hub.setupLink);
    const created = await c.post("/api/v1/setup", { token, username: "Owner", password: PASSWORD });
    expect(created.statusCode).toBe(201);
    expect(created.json().stage).toBe("enrol");
    const cookie = created.cookies.find((k) => k.name === "latchkey_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Strict");
    // The link is single use.
    const again = await t.client().post("/api/v1/setup", { token, username: "other", password: PASSWORD });
    expect(["AUTH_SETUP_DONE", "AUTH_SETUP_INVALID"]).toContain(again.json().code);

    // Before a second factor nothing else is allowed.
    const blocked = await c.get("/api/v1/sites");
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe("AUTH_ENROLMENT_REQUIRED");

    const begin = await c.post("/api/v1/account/totp/begin");
    expect(begin.statusCode).toBe(200);
    const { secret, uri } = begin.json<{ secret: string; uri: string }>();
    expect(uri).toMatch(/^otpauth:\/\/totp\/Latchkey:owner\?/);
    const bad = await c.post("/api/v1/account/totp/confirm", {
      code: "000000" === oathtool(secret, t.clock.now) ? "111111" : "000000",
    });
    expect(bad.json().code).toBe("AUTH_INVALID_CREDENTIALS");
    const confirmed = await c.post("/api/v1/account/totp/confirm", { code: oathtool(secret, t.clock.now) });
    expect(confirmed.statusCode).toBe(200);
    const body = confirmed.json<{ session: { stage: string }; recoveryCodes: string[] }>();
    expect(body.session.stage).toBe("full");
    expect(body.recoveryCodes).toHaveLength(10);
    expect(new Set(body.recoveryCodes).size).toBe(10);
    expect(await countRows(t, "recovery_codes")).toBe(10);
    // A new session id after enrolment: the enrolment cookie no longer works.
    expect(confirmed.cookies.find((k) => k.name === "latchkey_session")?.value).not.toBe(cookie?.value);
    expect((await c.get("/api/v1/sites")).statusCode).toBe(200);
    expect((await c.get("/api/v1/setup")).json()).toEqual({ setupRequired: false });

    // Stored secrets are not in clear.
    const row = await t.hub.ctx.db.selectFrom("accounts").selectAll().executeTakeFirstOrThrow();
    expect(row.password_hash.startsWith("$argon2id$")).toBe(true);
    expect(row.totp_secret_sealed).not.toContain(secret);
    const codes = await t.hub.ctx.db.selectFrom("recovery_codes").select("code_hash").execute();
    for (const code of body.recoveryCodes) expect(codes.map((r) => r.code_hash)).not.toContain(code);

    // Sign in again: password, then TOTP. A code is single use: the same time step is refused.
    t.clock.now += 31_000;
    const d = t.client();
    const login = await d.post("/api/v1/auth/login", { username: "owner", password: PASSWORD });
    expect(login.json().stage).toBe("mfa");
    expect((await d.get("/api/v1/sites")).json().code).toBe("AUTH_SECOND_FACTOR_REQUIRED");
    const code = oathtool(secret, t.clock.now);
    const ok = await d.post("/api/v1/auth/second-factor", { method: "totp", code });
    expect(ok.json().stage).toBe("full");
    const e = t.client();
    await e.post("/api/v1/auth/login", { username: "owner", password: PASSWORD });
    const replay = await e.post("/api/v1/auth/second-factor", { method: "totp", code });
    expect(replay.json().code).toBe("AUTH_INVALID_CREDENTIALS");

    // A recovery code works once.
    const rc = body.recoveryCodes[0] ?? "";
    expect(
      (await e.post("/api/v1/auth/second-factor", { method: "recovery", code: rc.toUpperCase() })).json()
        .stage,
    ).toBe("full");
    const f = t.client();
    await f.post("/api/v1/auth/login", { username: "owner", password: PASSWORD });
    expect((await f.post("/api/v1/auth/second-factor", { method: "recovery", code: rc })).json().code).toBe(
      "AUTH_INVALID_CREDENTIALS",
    );
    spare.length = 0;
    spare.push(...body.recoveryCodes.slice(1));
    seenSecrets.push(secret, ...body.recoveryCodes, code, token);
  });

  it("adds a passkey (software authenticator) with step-up, ends other sessions, and signs in with it", async () => {
    t.clock.now += 10 * 60_000;
    const signedIn = await signInWithNewRecoveryCodes(t, t.client());
    // Another device, signed in with its password.
    const other = t.client();
    expect(
      (await other.post("/api/v1/auth/login", { username: "owner", password: PASSWORD })).statusCode,
    ).toBe(200);
    t.clock.now += 6 * 60_000; // step-up has lapsed
    const lapsed = await signedIn.post("/api/v1/account/passkeys/options");
    expect(lapsed.json().code).toBe("AUTH_STEP_UP_REQUIRED");
    const code = signedIn.recovery.shift() ?? "";
    expect((await signedIn.post("/api/v1/auth/second-factor", { method: "recovery", code })).statusCode).toBe(
      200,
    );
    const options = (await signedIn.post("/api/v1/account/passkeys/options")).json<{
      challenge: string;
      rp: { id: string };
    }>();
    expect(options.rp.id).toBe("hub.test");
    const authenticator = new SoftAuthenticator(TEST_ORIGIN);
    const sessionsBefore = await countRows(t, "sessions");
    expect(sessionsBefore).toBeGreaterThan(1);
    const registered = await signedIn.post("/api/v1/account/passkeys", {
      response: authenticator.register(options),
    });
    expect(registered.statusCode).toBe(200);
    expect(registered.json().recoveryCodes).toBeNull();
    expect(await countRows(t, "passkeys")).toBe(1);
    // A factor changed: every other session ended, this one was renewed.
    expect(await countRows(t, "sessions")).toBe(1);
    expect((await other.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");

    // Sign in with the passkey; a replayed assertion (same challenge) is refused.
    const p = t.client();
    await p.post("/api/v1/auth/login", { username: "owner", password: PASSWORD });
    const authOptions = (await p.post("/api/v1/auth/passkey-options")).json<{
      challenge: string;
      rpId: string;
    }>();
    const assertion = authenticator.authenticate(authOptions);
    const done = await p.post("/api/v1/auth/second-factor", { method: "passkey", response: assertion });
    expect(done.json().stage).toBe("full");
    const q = t.client();
    await q.post("/api/v1/auth/login", { username: "owner", password: PASSWORD });
    await q.post("/api/v1/auth/passkey-options");
    expect(
      (await q.post("/api/v1/auth/second-factor", { method: "passkey", response: assertion })).json().code,
    ).toBe("AUTH_INVALID_CREDENTIALS");
    // A different authenticator's assertion is refused.
    const stranger = new SoftAuthenticator(TEST_ORIGIN);
    const o2 = (await q.post("/api/v1/auth/passkey-options")).json<{ challenge: string }>();
    expect(
      (await q.post("/api/v1/auth/second-factor", { method: "passkey", response: stranger.authenticate(o2) }))
        .statusCode,
    ).toBe(401);
  });

  it("CSRF: state changes need the session's token and a matching Origin", async () => {
    const c = await signInWithNewRecoveryCodes(t, t.client());
    const noToken = await c.request("POST", "/api/v1/auth/logout", { noCsrf: true });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().code).toBe("AUTH_CSRF");
    const foreign = await c.request("POST", "/api/v1/auth/logout", {
      headers: { origin: "https://evil.example" },
    });
    expect(foreign.json().code).toBe("AUTH_CSRF");
    const crossSiteLogin = await t.client().request("POST", "/api/v1/auth/login", {
      body: { username: "owner", password: PASSWORD },
      headers: { origin: "https://evil.example" },
    });
    expect(crossSiteLogin.json().code).toBe("AUTH_CSRF");
    expect(
      (await c.request("POST", "/api/v1/auth/logout", { headers: { origin: TEST_ORIGIN } })).statusCode,
    ).toBe(200);
    expect((await c.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
  });

  it("sessions expire when idle and at their absolute limit", async () => {
    const c = await signInWithNewRecoveryCodes(t, t.client());
    t.clock.now += t.hub.ctx.config.sessionIdleMs + 1;
    expect((await c.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
    const d = await signInWithNewRecoveryCodes(t, t.client());
    for (let elapsed = 0; elapsed <= t.hub.ctx.config.sessionAbsoluteMs; elapsed += 20 * 60_000) {
      t.clock.now += 20 * 60_000;
      await d.get("/api/v1/session");
    }
    expect((await d.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
  });

  it("throttles password guessing with a capped backoff that the owner outlasts", async () => {
    t.clock.now += 2 * 60 * 60_000;
    const attacker = t.client();
    let limited = 0;
    for (let i = 0; i < 8; i++) {
      const r = await attacker.post("/api/v1/auth/login", {
        username: "owner",
        password: `guess number ${i}`,
      });
      if (r.statusCode === 429) {
        limited++;
        expect(r.json().code).toBe("AUTH_RATE_LIMITED");
        expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
        expect(Number(r.headers["retry-after"])).toBeLessThanOrEqual(300);
      }
    }
    expect(limited).toBeGreaterThan(0);
    // Even the right password waits during the delay…
    expect(
      (await t.client().post("/api/v1/auth/login", { username: "owner", password: PASSWORD })).statusCode,
    ).toBe(429);
    // …but never more than the cap.
    t.clock.now += 5 * 60_000 + 1;
    expect(
      (await t.client().post("/api/v1/auth/login", { username: "owner", password: PASSWORD })).json().stage,
    ).toBe("mfa");
  });

  it("no secret ever reached the logs", () => {
    const text = t.logs.text();
    expect(text.length).toBeGreaterThan(100);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(setupToken(t.hub.setupLink));
    expect(seenSecrets.length).toBeGreaterThan(20);
    for (const s of seenSecrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/latchkey_session=/);
  });
});

const seenSecrets: string[] = [];
const spare: string[] = [];

/**
 * Signs `client` in as the owner (password, then a recovery code), then immediately issues fresh
 * recovery codes through the stepped-up session, returning the client and its unused codes.
 */
async function signInWithNewRecoveryCodes(
  t: TestHub,
  client: TestClient,
): Promise<TestClient & { recovery: string[] }> {
  const c = client as TestClient & { recovery: string[] };
  const login = await c.post("/api/v1/auth/login", { username: "owner", password: PASSWORD });
  expect(login.statusCode).toBe(200);
  const code = spare.shift();
  if (code === undefined)
    throw new Error("the first-run test leaves spare recovery codes; run the file in order");
  const r = await c.post("/api/v1/auth/second-factor", { method: "recovery", code });
  expect(r.statusCode).toBe(200);
  const renewed = await c.post("/api/v1/account/recovery-codes");
  expect(renewed.statusCode).toBe(200);
  const codes = renewed.json<{ recoveryCodes: string[] }>().recoveryCodes;
  seenSecrets.push(...codes);
  spare.length = 0;
  spare.push(...codes.slice(5));
  c.recovery = codes.slice(0, 5);
  return c;
}

describe.each(stores)("first-run setup, without HTTP (%s)", (store) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub(store);
  });
  afterAll(async () => {
    await t.close();
  });

  it("refuses a second owner even with a fresh setup link, which stays unused", async () => {
    const ctx = t.hub.ctx;
    const first = await setUpOwner(ctx, {
      token: setupToken(t.hub.setupLink),
      username: "Owner",
      password: PASSWORD,
      organisationName: "Harbour Lofts",
      ip: "192.0.2.1",
    });
    expect(first.account.username).toBe("owner");
    expect(first.account.is_owner).toBe(1);
    expect(first.session.stage).toBe("enrol");

    const fresh = await createLink(ctx, "setup");
    await expect(
      setUpOwner(ctx, { token: fresh.token, username: "second", password: PASSWORD, ip: "192.0.2.1" }),
    ).rejects.toMatchObject({ code: "AUTH_SETUP_DONE" });
    expect(await countRows(t, "accounts")).toBe(1);
    const organisations = await ctx.db.selectFrom("organisation").select("name").execute();
    expect(organisations).toEqual([{ name: "Harbour Lofts" }]);
    const links = await ctx.db
      .selectFrom("one_time_links")
      .select("used_at")
      .where("purpose", "=", "setup")
      .execute();
    expect(links.filter((l) => l.used_at === null)).toHaveLength(1);
  });
});
