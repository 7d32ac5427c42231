/**
 * The account's own sessions and passkeys: listed with public ids (never the cookie or its hash),
 * ended one by one or all but this one, removed with step-up; another account can neither see
 * nor end them (it gets "not found"), an ended session's cookie is useless, and the account's
 * only second factor cannot be removed.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { testStores } from "../testing/stores.js";
import { snapshot } from "../testing/snapshot.js";
import { startTestHub, TEST_ORIGIN, type TestClient, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, invite, oathtool, OWNER_PASSWORD, stepUp, type SignedIn } from "../testing/flows.js";
import { SoftAuthenticator } from "../testing/soft-authenticator.js";
import { hashToken, publicSessionId } from "../sessions/sessions.js";

const stores = await testStores();

interface SessionItem {
  id: string;
  current: boolean;
  stage: string;
  createdAt: number;
  lastSeenAt: number;
  stepUpUntil?: number;
}

async function sessions(c: TestClient): Promise<SessionItem[]> {
  const r = await c.get("/api/v1/account/sessions");
  expect(r.statusCode, r.body).toBe(200);
  return r.json<{ items: SessionItem[] }>().items;
}

function cookieToken(c: TestClient): string {
  return (c.cookie ?? "").split("=").slice(1).join("=");
}

/** A second, fully signed-in session of `who` (password then TOTP at a fresh time step). */
async function signInAgain(
  t: TestHub,
  who: SignedIn,
  username: string,
  password: string,
): Promise<TestClient> {
  t.clock.now += 30_000;
  const c = t.client();
  expect((await c.post("/api/v1/auth/login", { username, password })).statusCode).toBe(200);
  const r = await c.post("/api/v1/auth/second-factor", {
    method: "totp",
    code: oathtool(who.totpSecret, t.clock.now),
  });
  expect(r.json().stage).toBe("full");
  return c;
}

async function auditActions(t: TestHub, accountId: string): Promise<string[]> {
  const rows = await t.hub.ctx.db
    .selectFrom("audit")
    .select("action")
    .where("actor_account_id", "=", accountId)
    .orderBy("id", "asc")
    .execute();
  return rows.map((r) => r.action);
}

describe.each(stores)("account sessions and passkeys (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let bea: SignedIn;
  const BEA_PASSWORD = "bea walks the long pier";

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const site = (await owner.client.post("/api/v1/sites", { name: "Home", timezone: "UTC" })).json<{
      id: string;
    }>().id;
    bea = await invite(t, owner, site, "bea", "resident");
  });
  afterAll(async () => {
    await t.close();
  });

  it("lists the account's sessions with public ids, this one marked, never the cookie or its hash", async () => {
    const phone = await signInAgain(t, owner, "owner", OWNER_PASSWORD);
    const half = t.client();
    await half.post("/api/v1/auth/login", { username: "owner", password: OWNER_PASSWORD });
    const list = await sessions(owner.client);
    expect(list.length).toBe(3);
    expect(list.filter((s) => s.current)).toHaveLength(1);
    expect(list[0]?.current).toBe(true);
    expect(list.map((s) => s.stage).sort()).toEqual(["full", "full", "mfa"]);
    const raw = (await owner.client.get("/api/v1/account/sessions")).body;
    for (const c of [owner.client, phone, half]) {
      const token = cookieToken(c);
      expect(token.length).toBeGreaterThan(30);
      expect(raw).not.toContain(token);
      expect(raw).not.toContain(hashToken(token));
      expect(raw).not.toContain(c.csrf ?? "no csrf");
      expect(list.map((s) => s.id)).toContain(publicSessionId(hashToken(token)));
    }
    for (const s of list) expect(s.id).toMatch(/^[0-9a-f]{16}$/);
    // The other device sees the same sessions, with itself as current.
    const fromPhone = await sessions(phone);
    expect(fromPhone.find((s) => s.current)?.id).toBe(publicSessionId(hashToken(cookieToken(phone))));
    expect(fromPhone.map((s) => s.id).sort()).toEqual(list.map((s) => s.id).sort());
    // A session still waiting for its second factor cannot list anything.
    expect((await half.get("/api/v1/account/sessions")).json().code).toBe("AUTH_SECOND_FACTOR_REQUIRED");
    expect((await t.client().get("/api/v1/account/sessions")).json().code).toBe("AUTH_REQUIRED");
    await phone.post("/api/v1/auth/logout");
    await half.post("/api/v1/auth/logout");
  });

  it("another account can neither see nor end someone else's session (404), and nothing changes", async () => {
    const phone = await signInAgain(t, owner, "owner", OWNER_PASSWORD);
    const phoneId = publicSessionId(hashToken(cookieToken(phone)));
    const beaList = await sessions(bea.client);
    expect(beaList.map((s) => s.id)).not.toContain(phoneId);
    expect(beaList.every((s) => s.current)).toBe(true);
    const before = await snapshot(t);
    const sessionsBefore = await t.hub.ctx.db.selectFrom("sessions").select("id_hash").execute();
    const r = await bea.client.post(`/api/v1/account/sessions/${phoneId}/end`);
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
    // A well-formed id that names no session at all gets the very same answer.
    const none = await bea.client.post(`/api/v1/account/sessions/${"0".repeat(16)}/end`);
    expect(none.json()).toEqual(r.json());
    expect(await snapshot(t)).toBe(before);
    expect(await t.hub.ctx.db.selectFrom("sessions").select("id_hash").execute()).toHaveLength(
      sessionsBefore.length,
    );
    expect((await phone.get("/api/v1/session")).statusCode).toBe(200);
    // Bea's "end the others" ends only Bea's other sessions.
    const beaPhone = await signInAgain(t, bea, "bea", BEA_PASSWORD);
    const ended = await bea.client.post("/api/v1/account/sessions/end-others");
    expect(ended.json()).toEqual({ ok: true, ended: 1 });
    expect((await beaPhone.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
    expect((await phone.get("/api/v1/session")).statusCode).toBe(200);
    expect((await owner.client.get("/api/v1/session")).statusCode).toBe(200);
    await phone.post("/api/v1/auth/logout");
  });

  it("ending a session makes its cookie useless; ending this one signs out", async () => {
    const phone = await signInAgain(t, owner, "owner", OWNER_PASSWORD);
    const stolenCookie = phone.cookie;
    const phoneId = publicSessionId(hashToken(cookieToken(phone)));
    const r = await owner.client.post(`/api/v1/account/sessions/${phoneId}/end`);
    expect(r.json()).toEqual({ ok: true, signedOut: false });
    expect((await phone.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
    // Replaying the old cookie (and CSRF token) by hand is refused too.
    const replay = t.client();
    replay.cookie = stolenCookie;
    replay.csrf = phone.csrf;
    expect((await replay.get("/api/v1/account/sessions")).json().code).toBe("AUTH_REQUIRED");
    expect((await replay.post("/api/v1/account/sessions/end-others")).json().code).toBe("AUTH_REQUIRED");
    expect((await sessions(owner.client)).map((s) => s.id)).not.toContain(phoneId);
    // Ending it again: it no longer exists.
    expect((await owner.client.post(`/api/v1/account/sessions/${phoneId}/end`)).statusCode).toBe(404);

    // Ending the current session signs this browser out (the cookie is cleared and dead).
    const laptop = await signInAgain(t, owner, "owner", OWNER_PASSWORD);
    const laptopCookie = laptop.cookie;
    const self = (await sessions(laptop)).find((s) => s.current);
    const out = await laptop.post(`/api/v1/account/sessions/${self?.id ?? ""}/end`);
    expect(out.json()).toEqual({ ok: true, signedOut: true });
    expect(out.cookies.find((c) => c.name.endsWith("latchkey_session"))?.value).toBe("");
    const again = t.client();
    again.cookie = laptopCookie;
    expect((await again.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
    expect((await owner.client.get("/api/v1/session")).statusCode).toBe(200);
    const actions = await auditActions(t, owner.accountId);
    expect(actions.filter((a) => a === "account.session.end")).toHaveLength(2);
  });

  it("ends every other session, keeping this one, and audits it", async () => {
    const a = await signInAgain(t, owner, "owner", OWNER_PASSWORD);
    const b = await signInAgain(t, owner, "owner", OWNER_PASSWORD);
    const r = await owner.client.post("/api/v1/account/sessions/end-others");
    expect(r.json()).toEqual({ ok: true, ended: 2 });
    for (const c of [a, b]) expect((await c.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
    const list = await sessions(owner.client);
    expect(list).toHaveLength(1);
    expect(list[0]?.current).toBe(true);
    expect(await auditActions(t, owner.accountId)).toContain("account.session.end-others");
    // Bea still signed in: another account's sessions are untouched.
    expect((await bea.client.get("/api/v1/session")).statusCode).toBe(200);
  });

  it("lists passkeys; removal needs step-up, is scoped to the account and ends other sessions", async () => {
    // Owner adds a passkey (step-up first; a factor change renews this session, ends the others).
    await stepUp(t, owner);
    const options = (await owner.client.post("/api/v1/account/passkeys/options")).json<{
      challenge: string;
      rp: { id: string };
    }>();
    const key = new SoftAuthenticator(TEST_ORIGIN);
    const added = await owner.client.post("/api/v1/account/passkeys", { response: key.register(options) });
    expect(added.statusCode, added.body).toBe(200);
    const list = (await owner.client.get("/api/v1/account/passkeys")).json<{
      items: { id: string; createdAt: number; transports: string[] }[];
    }>().items;
    expect(list).toEqual([
      { id: key.credentialId.toString("base64url"), createdAt: t.clock.now, transports: ["internal"] },
    ]);
    const raw = (await owner.client.get("/api/v1/account/passkeys")).body;
    const stored = await t.hub.ctx.db.selectFrom("passkeys").select("public_key").executeTakeFirstOrThrow();
    expect(raw).not.toContain(stored.public_key);
    const passkeyId = list[0]?.id ?? "";

    // Bea can neither see nor remove it, even with a fresh second factor.
    expect((await bea.client.get("/api/v1/account/passkeys")).json()).toEqual({ items: [] });
    await stepUp(t, bea);
    const before = await snapshot(t);
    const foreign = await bea.client.post(`/api/v1/account/passkeys/${passkeyId}/remove`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
    expect(await snapshot(t)).toBe(before);

    // Without a fresh second factor the owner is asked to step up; nothing changes.
    t.clock.now += 10 * 60_000;
    const other = await signInAgain(t, owner, "owner", OWNER_PASSWORD);
    t.clock.now += 6 * 60_000;
    const beforeStale = await snapshot(t);
    const stale = await owner.client.post(`/api/v1/account/passkeys/${passkeyId}/remove`);
    expect(stale.json().code).toBe("AUTH_STEP_UP_REQUIRED");
    expect(await snapshot(t)).toBe(beforeStale);

    // With step-up (TOTP remains as a second factor), the passkey goes and other sessions end.
    await stepUp(t, owner);
    const removed = await owner.client.post(`/api/v1/account/passkeys/${passkeyId}/remove`);
    expect(removed.json()).toEqual({ ok: true, endedSessions: 1 });
    expect((await owner.client.get("/api/v1/account/passkeys")).json()).toEqual({ items: [] });
    expect((await other.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
    expect((await owner.client.get("/api/v1/session")).statusCode).toBe(200);
    expect((await bea.client.get("/api/v1/session")).statusCode).toBe(200);
    const account = await t.hub.ctx.db
      .selectFrom("accounts")
      .select("factors_changed_at")
      .where("id", "=", owner.accountId)
      .executeTakeFirstOrThrow();
    expect(account.factors_changed_at).toBe(t.clock.now);
    expect(await auditActions(t, owner.accountId)).toContain("account.passkey.remove");
    expect((await owner.client.post(`/api/v1/account/passkeys/${passkeyId}/remove`)).statusCode).toBe(404);
  });

  it("refuses to remove the only passkey of an account without TOTP; a second passkey can go", async () => {
    // An account whose only second factor is a passkey.
    const link = (
      await owner.client.post(
        `/api/v1/sites/${(await owner.client.get("/api/v1/sites")).json<{ items: { id: string }[] }>().items[0]?.id ?? ""}/members`,
        { username: "pia", role: "resident" },
      )
    ).json<{ inviteLink: string }>().inviteLink;
    const pia = t.client();
    const accepted = await pia.post("/api/v1/invites/accept", {
      token: new URL(link).hash.slice(1),
      password: "pia keeps one key only",
    });
    expect(accepted.statusCode).toBe(201);
    const first = new SoftAuthenticator(TEST_ORIGIN);
    const o1 = (await pia.post("/api/v1/account/passkeys/options")).json<{
      challenge: string;
      rp: { id: string };
    }>();
    expect((await pia.post("/api/v1/account/passkeys", { response: first.register(o1) })).statusCode).toBe(
      200,
    );
    const firstId = first.credentialId.toString("base64url");

    const before = await snapshot(t);
    const refused = await pia.post(`/api/v1/account/passkeys/${firstId}/remove`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("AUTH_LAST_SECOND_FACTOR");
    expect(await snapshot(t)).toBe(before);

    // With a second passkey, the first can be removed; the second still signs in.
    const second = new SoftAuthenticator(TEST_ORIGIN);
    const o2 = (await pia.post("/api/v1/account/passkeys/options")).json<{
      challenge: string;
      rp: { id: string };
    }>();
    expect((await pia.post("/api/v1/account/passkeys", { response: second.register(o2) })).statusCode).toBe(
      200,
    );
    const removed = await pia.post(`/api/v1/account/passkeys/${firstId}/remove`);
    expect(removed.json()).toEqual({ ok: true, endedSessions: 0 });
    const secondId = second.credentialId.toString("base64url");
    expect((await pia.post(`/api/v1/account/passkeys/${secondId}/remove`)).json().code).toBe(
      "AUTH_LAST_SECOND_FACTOR",
    );
    const again = t.client();
    await again.post("/api/v1/auth/login", { username: "pia", password: "pia keeps one key only" });
    const auth = (await again.post("/api/v1/auth/passkey-options")).json<{ challenge: string }>();
    const done = await again.post("/api/v1/auth/second-factor", {
      method: "passkey",
      response: second.authenticate(auth),
    });
    expect(done.json().stage).toBe("full");
  });
});
