/**
 * Adding administrators and members: invitations are one-time links; adding a manager is the
 * owner's alone and needs a fresh second factor; removing a member needs step-up and ends their
 * sessions.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, invite, stepUp, type SignedIn } from "../testing/flows.js";

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

  it("removing a member needs step-up and ends their sessions", async () => {
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
    expect((await rita.client.get("/api/v1/session")).json().code).toBe("AUTH_REQUIRED");
    const audit = (await owner.client.get(`/api/v1/sites/${siteId}/audit?limit=3`)).json<{
      items: { action: string }[];
    }>().items;
    expect(audit[0]?.action).toBe("member.remove");
  });
});
