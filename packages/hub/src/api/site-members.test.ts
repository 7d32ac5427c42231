/**
 * Adding administrators and members: invitations are one-time links; adding a manager is the
 * owner's alone; every invitation and removal needs a fresh second factor; removing a member takes
 * away that site only; inviting answers alike whether or not the user name exists.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, invite, OWNER_PASSWORD, stepUp, type SignedIn } from "../testing/flows.js";

const stores = await testStores();

describe.each(stores)("site members (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let siteId: string;

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    siteId = (await owner.client.post("/api/v1/sites", { name: "Flats", timezone: "Europe/Berlin" })).json<{
      id: string;
    }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  it("adding a manager needs the owner's fresh second factor; nothing is created without it", async () => {
    t.clock.now += 6 * 60_000;
    const r = await owner.client.post(`/api/v1/sites/${siteId}/members`, {
      username: "max",
      role: "manager",
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe("AUTH_STEP_UP_REQUIRED");
    const links = await t.hub.ctx.db
      .selectFrom("one_time_links")
      .selectAll()
      .where("purpose", "=", "invite")
      .execute();
    expect(links).toEqual([]);
  });

  it("a manager can invite guests but not managers, and invitations work once", async () => {
    const manager = await invite(t, owner, siteId, "max", "manager");
    await stepUp(t, manager);
    const refused = await manager.client.post(`/api/v1/sites/${siteId}/members`, {
      username: "mo",
      role: "manager",
    });
    expect(refused.statusCode).toBe(404);
    const ok = await manager.client.post(`/api/v1/sites/${siteId}/members`, {
      username: "gia",
      role: "guest",
    });
    expect(ok.statusCode).toBe(201);
    const token = new URL(ok.json<{ inviteLink: string }>().inviteLink).hash.slice(1);
    const c = t.client();
    expect((await c.post("/api/v1/invites/accept", { token, password: "password" })).json().code).toBe(
      "AUTH_PASSWORD_POLICY",
    );
    expect(
      (await c.post("/api/v1/invites/accept", { token, password: "gia likes the blue door" })).statusCode,
    ).toBe(201);
    const again = await t
      .client()
      .post("/api/v1/invites/accept", { token, password: "gia likes the blue door" });
    expect(again.json().code).toBe("AUTH_SETUP_INVALID");
    const members = (await owner.client.get(`/api/v1/sites/${siteId}/members`)).json<{
      items: { username: string; role: string }[];
    }>().items;
    expect(members.map((m) => `${m.username}:${m.role}`)).toEqual(["gia:guest", "max:manager"]);
  });

  it("the organisation is readable by members and renamed by the owner only", async () => {
    const manager = await invite(t, owner, siteId, "otto", "manager");
    expect((await manager.client.get("/api/v1/organisation")).json().name).toBe("My organisation");
    expect((await manager.client.patch("/api/v1/organisation", { name: "Otto Ltd" })).json().code).toBe(
      "HUB_NOT_FOUND",
    );
    const renamed = await owner.client.patch("/api/v1/organisation", { name: "Flats & Co" });
    expect(renamed.json().name).toBe("Flats & Co");
  });

  it("removing a member needs step-up and takes away only this site", async () => {
    const rita = await invite(t, owner, siteId, "rita", "resident");
    t.clock.now += 6 * 60_000;
    expect((await owner.client.delete(`/api/v1/sites/${siteId}/members/${rita.accountId}`)).json().code).toBe(
      "AUTH_STEP_UP_REQUIRED",
    );
    expect((await rita.client.get("/api/v1/session")).statusCode).toBe(200);
    await stepUp(t, owner);
    expect((await owner.client.delete(`/api/v1/sites/${siteId}/members/${rita.accountId}`)).statusCode).toBe(
      200,
    );
    // Her account and session are hers, not the site's: she stays signed in, without the site.
    expect((await rita.client.get("/api/v1/session")).statusCode).toBe(200);
    expect((await rita.client.get("/api/v1/sites")).json<{ items: unknown[] }>().items).toEqual([]);
    const audit = (await owner.client.get(`/api/v1/sites/${siteId}/audit?limit=3`)).json<{
      items: { action: string }[];
    }>().items;
    expect(audit[0]?.action).toBe("member.remove");
  });
});

describe.each(stores)("members across sites (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let siteA: string;
  let siteB: string;
  let managerA: SignedIn;
  let managerB: SignedIn;

  async function site(name: string): Promise<string> {
    return (await owner.client.post("/api/v1/sites", { name, timezone: "UTC" })).json<{ id: string }>().id;
  }
  async function members(siteId: string): Promise<string[]> {
    return (await owner.client.get(`/api/v1/sites/${siteId}/members`))
      .json<{ items: { username: string; role: string }[] }>()
      .items.map((m) => `${m.username}:${m.role}`);
  }
  function token(link: string): string {
    return new URL(link).hash.slice(1);
  }

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    siteA = await site("A");
    siteB = await site("B");
    managerA = await invite(t, owner, siteA, "anna", "manager");
    managerB = await invite(t, owner, siteB, "bert", "manager");
  });
  afterAll(async () => {
    await t.close();
  });

  it("adding answers the same for an existing account, the owner and an unknown name; nobody is added", async () => {
    await stepUp(t, managerB);
    const before = await members(siteB);
    const answers = [];
    for (const username of ["anna", "owner", "nobody-here"]) {
      const r = await managerB.client.post(`/api/v1/sites/${siteB}/members`, { username, role: "resident" });
      const body = r.json<{ username: string; role: string; inviteLink: string }>();
      answers.push({
        status: r.statusCode,
        keys: Object.keys(body).sort(),
        username: body.username === username,
        role: body.role,
        link: body.inviteLink.replace(/#[A-Za-z0-9_-]{43}$/, "#TOKEN"),
      });
    }
    expect(answers[0]).toEqual({
      status: 201,
      keys: ["inviteLink", "role", "username"],
      username: true,
      role: "resident",
      link: `${t.hub.ctx.origin}/invite#TOKEN`,
    });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // An invitation is not a role: the site's member list is unchanged, and anna cannot see B.
    expect(await members(siteB)).toEqual(before);
    expect((await managerA.client.get(`/api/v1/sites/${siteB}`)).statusCode).toBe(404);
    // The audit trail B's manager reads names the invited user name only, never an account id.
    const audit = (await managerB.client.get(`/api/v1/sites/${siteB}/audit?limit=3`)).json<{
      items: { action: string; targetType: string | null; targetId: string | null }[];
    }>().items;
    expect(audit.map((a) => `${a.action} ${a.targetType} ${a.targetId}`)).toEqual([
      "member.invite invitation nobody-here",
      "member.invite invitation owner",
      "member.invite invitation anna",
    ]);
  });

  it("a manager of site B cannot end the sessions of a manager of site A", async () => {
    await stepUp(t, managerB);
    const link = (
      await managerB.client.post(`/api/v1/sites/${siteB}/members`, { username: "anna", role: "resident" })
    ).json<{ inviteLink: string }>().inviteLink;
    // Anna accepts with her own password (a wrong one is refused and leaves the link unused).
    const other = t.client();
    const wrong = await other.post("/api/v1/invites/accept", {
      token: token(link),
      password: "not anna's password at all",
    });
    expect(wrong.json().code).toBe("AUTH_INVALID_CREDENTIALS");
    expect(await members(siteB)).toEqual(["bert:manager"]);
    const accepted = await other.post("/api/v1/invites/accept", {
      token: token(link),
      password: "anna walks the long pier",
    });
    expect(accepted.statusCode, accepted.body).toBe(201);
    // Like a sign-in: the new session must still prove the second factor.
    expect(accepted.json<{ stage: string }>().stage).toBe("mfa");
    expect(await members(siteB)).toEqual(["anna:resident", "bert:manager"]);

    await stepUp(t, managerB);
    const removed = await managerB.client.delete(`/api/v1/sites/${siteB}/members/${managerA.accountId}`);
    expect(removed.statusCode).toBe(200);
    // Her session on site A still works, as does the one she accepted with; only B is gone.
    expect((await managerA.client.get(`/api/v1/sites/${siteA}`)).statusCode).toBe(200);
    expect((await managerA.client.get(`/api/v1/sites/${siteB}`)).statusCode).toBe(404);
    expect((await other.get("/api/v1/session")).statusCode).toBe(200);
    expect(await members(siteA)).toEqual(["anna:manager"]);
    const sessions = await t.hub.ctx.db
      .selectFrom("sessions")
      .select("id_hash")
      .where("account_id", "=", managerA.accountId)
      .execute();
    expect(sessions).toHaveLength(2);
  });

  it("an invitation addressed to the owner gives no role and reveals nothing to the inviter", async () => {
    await stepUp(t, managerB);
    const link = (
      await managerB.client.post(`/api/v1/sites/${siteB}/members`, { username: "owner", role: "guest" })
    ).json<{ inviteLink: string }>().inviteLink;
    const c = t.client();
    const r = await c.post("/api/v1/invites/accept", { token: token(link), password: OWNER_PASSWORD });
    expect(r.statusCode).toBe(201);
    expect(r.json<{ stage: string }>().stage).toBe("mfa");
    expect(await members(siteB)).not.toContain("owner:guest");
    const roles = await t.hub.ctx.db
      .selectFrom("site_roles")
      .select("site_id")
      .where("account_id", "=", owner.accountId)
      .execute();
    expect(roles).toEqual([]);
  });
});
