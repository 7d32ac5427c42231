/**
 * Test support: the user flows other tests build on — creating the owner (password + TOTP,
 * codes from the independent `oathtool`), inviting accounts to a site, and step-up.
 */
import { execFileSync } from "node:child_process";
import { expect } from "vitest";
import type { TestClient, TestHub } from "./hub-fixture.js";

export const OWNER_PASSWORD = "a quiet harbour at dawn";

export function oathtool(secret: string, atMs: number): string {
  return execFileSync("oathtool", ["--totp", "-b", "-N", `@${Math.floor(atMs / 1000)}`, secret], {
    encoding: "utf8",
  }).trim();
}

export interface SignedIn {
  readonly client: TestClient;
  readonly totpSecret: string;
  readonly accountId: string;
}

async function enrolTotp(t: TestHub, client: TestClient): Promise<{ secret: string; accountId: string }> {
  const begin = await client.post("/api/v1/account/totp/begin");
  expect(begin.statusCode).toBe(200);
  const secret = begin.json<{ secret: string }>().secret;
  const done = await client.post("/api/v1/account/totp/confirm", { code: oathtool(secret, t.clock.now) });
  expect(done.statusCode).toBe(200);
  return { secret, accountId: done.json<{ session: { account: { id: string } } }>().session.account.id };
}

export async function createOwner(t: TestHub): Promise<SignedIn> {
  const client = t.client();
  const token = new URL(t.hub.setupLink ?? "").hash.slice(1);
  const r = await client.post("/api/v1/setup", { token, username: "owner", password: OWNER_PASSWORD });
  expect(r.statusCode).toBe(201);
  const { secret, accountId } = await enrolTotp(t, client);
  return { client, totpSecret: secret, accountId };
}

/** Proves the second factor again; moves the clock to a fresh TOTP time step first. */
export async function stepUp(t: TestHub, who: SignedIn): Promise<void> {
  t.clock.now += 30_000;
  const r = await who.client.post("/api/v1/auth/second-factor", {
    method: "totp",
    code: oathtool(who.totpSecret, t.clock.now),
  });
  expect(r.statusCode).toBe(200);
}

export async function invite(
  t: TestHub,
  by: SignedIn,
  siteId: string,
  username: string,
  role: string,
): Promise<SignedIn> {
  // Inviting needs step-up: prove the factor again only when the hub asks (keeps the clock still).
  let r = await by.client.post(`/api/v1/sites/${siteId}/members`, { username, role });
  if (r.json<{ code?: string }>().code === "AUTH_STEP_UP_REQUIRED") {
    await stepUp(t, by);
    r = await by.client.post(`/api/v1/sites/${siteId}/members`, { username, role });
  }
  expect(r.statusCode, r.body).toBe(201);
  const link = r.json<{ inviteLink: string }>().inviteLink;
  const client = t.client();
  const accepted = await client.post("/api/v1/invites/accept", {
    token: new URL(link).hash.slice(1),
    password: `${username} walks the long pier`,
  });
  expect(accepted.statusCode).toBe(201);
  const { secret, accountId } = await enrolTotp(t, client);
  return { client, totpSecret: secret, accountId };
}

/** A site ("S", UTC) with one door ("D") and one person ("P"), made by `c`: the smallest world a route needs. */
export async function siteDoorPerson(
  c: TestClient,
): Promise<{ siteId: string; doorId: string; personId: string }> {
  const siteId = (await c.post("/api/v1/sites", { name: "S", timezone: "UTC" })).json<{ id: string }>().id;
  const doorId = (await c.post(`/api/v1/sites/${siteId}/doors`, { name: "D" })).json<{ id: string }>().id;
  const personId = (await c.post(`/api/v1/sites/${siteId}/people`, { name: "P" })).json<{ id: string }>().id;
  return { siteId, doorId, personId };
}
