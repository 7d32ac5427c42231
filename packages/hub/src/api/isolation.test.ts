/**
 * Isolation, generated from the route table: a manager of site A, a resident, a guest and an
 * anonymous caller try every route against site B's objects. Each is refused, the refusal looks
 * like "not found" (or "sign in" when anonymous), and the database is unchanged. A positive
 * control then shows the owner can make the very same requests.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { testStores } from "../testing/stores.js";
import { snapshot } from "../testing/snapshot.js";
import { startTestHub, type TestClient, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, invite, stepUp, type SignedIn } from "../testing/flows.js";
import type { RouteDef } from "./route-table.js";
import { sampleBodies } from "../testing/samples.js";

const stores = await testStores();

interface World {
  owner: SignedIn;
  siteA: string;
  doorA: string;
  personA: string;
  b: Record<string, string>;
}

async function created(client: TestClient, url: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await client.post(url, body);
  expect(r.statusCode, `${url}: ${r.body}`).toBe(201);
  return r.json();
}

async function seed(t: TestHub): Promise<World> {
  const owner = await createOwner(t);
  const c = owner.client;
  const siteA = (await created(c, "/api/v1/sites", { name: "A", timezone: "Europe/Paris" })).id as string;
  const siteB = (await created(c, "/api/v1/sites", { name: "B", timezone: "Europe/London" })).id as string;
  const doorA = (await created(c, `/api/v1/sites/${siteA}/doors`, { name: "A front" })).id as string;
  const doorB = (
    await created(c, `/api/v1/sites/${siteB}/doors`, {
      name: "B front",
      lockPublicKey: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    })
  ).id as string;
  const personA = (await created(c, `/api/v1/sites/${siteA}/people`, { name: "Ann" })).id as string;
  const personB = (
    await created(c, `/api/v1/sites/${siteB}/people`, { name: "Bob", phone: "+44 20 7946 0000" })
  ).id as string;
  const grantB = (
    await created(c, `/api/v1/people/${personB}/grants`, {
      doorIds: [doorB],
      category: "cleaner",
      schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
    })
  ).id as string;
  const credentialB = (
    (await created(c, `/api/v1/people/${personB}/credentials`, { kind: "pin" })).credential as { id: string }
  ).id;
  const memberB = await invite(t, owner, siteB, "bea", "resident");
  const feedB = (
    await created(c, `/api/v1/sites/${siteB}/calendars`, {
      name: "B bookings",
      url: "http://127.0.0.1:9/b.ics",
      doorIds: [doorB],
    })
  ).id as string;
  const channel = (
    await created(c, "/api/v1/notification-channels", {
      kind: "webhook",
      name: "Intake",
      settings: { url: "http://127.0.0.1:9/hook" },
    })
  ).channel as { id: string };
  return {
    owner,
    siteA,
    doorA,
    personA,
    b: {
      siteId: siteB,
      doorId: doorB,
      personId: personB,
      grantId: grantB,
      credentialId: credentialB,
      accountId: memberB.accountId,
      requestId: "0".repeat(32),
      alertId: "1",
      feedId: feedB,
      bookingId: "00000000-0000-4000-8000-000000000000",
      channelId: channel.id,
    },
  };
}

/** A body each route would accept from someone allowed to call it. */
function bodyFor(route: RouteDef, w: World): unknown {
  return sampleBodies({ doorId: w.b.doorId ?? "" })[`${route.method} ${route.url}`];
}

function fill(url: string, ids: Record<string, string>): string {
  return url.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const id = ids[name];
    if (id === undefined) throw new Error(`no fixture id for :${name} in ${url}`);
    return id;
  });
}

/** Routes that do not touch a site's objects, each with why it is safe. */
const NOT_OBJECT_SCOPED: Record<string, string> = {
  "GET /healthz": "public",
  "GET /metrics": "public, aggregate counters only",
  "GET /api/v1/openapi.json": "public",
  "GET /api/v1/setup": "public",
  "POST /api/v1/setup": "one-time link",
  "POST /api/v1/invites/accept": "one-time link",
  "POST /api/v1/auth/login": "own credentials",
  "POST /api/v1/auth/passkey-options": "own session",
  "POST /api/v1/auth/second-factor": "own session",
  "GET /api/v1/session": "own session",
  "POST /api/v1/auth/logout": "own session",
  "POST /api/v1/account/totp/begin": "own account",
  "POST /api/v1/account/totp/confirm": "own account",
  "POST /api/v1/account/passkeys/options": "own account",
  "POST /api/v1/account/passkeys": "own account",
  "POST /api/v1/account/recovery-codes": "own account",
  "POST /api/v1/account/password": "own account",
  "GET /api/v1/account/sessions":
    "own account's sessions only, public ids (tested in account-devices.test.ts)",
  "POST /api/v1/account/sessions/:sessionId/end": "looked up among the caller's own sessions; others 404",
  "POST /api/v1/account/sessions/end-others": "deletes only the caller's own account's sessions",
  "GET /api/v1/account/passkeys": "own account's passkeys only, no keys",
  "POST /api/v1/account/passkeys/:passkeyId/remove": "own passkeys only (others 404), step-up",
  "GET /api/v1/sites": "filtered to the caller's sites (tested below)",
  "GET /api/v1/organisation": "the organisation's name only, shown to every signed-in account",
  "POST /api/v1/guest/open":
    "one-time guest link: only the holder of a 256-bit token (looked up by keyed hash, throttled per address) sees that one link's PIN, once; a wrong token is the same 404 as none (guest-links.test.ts)",
  "POST /api/v1/doorbell/ring":
    "doorbell webhook: only the holder of a door's 256-bit token (looked up by keyed hash, throttled per address) can ask to open that one door — a request a person must approve; it reads nothing back but the request id (approvals.test.ts)",
};

/** Routes the owner may call on B's door, which has no lock: the answer is the lock's absence. */
const NEEDS_A_DEVICE: Record<string, string> = {
  "POST /api/v1/doors/:doorId/lock": "HUB_COMMISSION_NO_LOCK",
  "GET /api/v1/doors/:doorId/lock": "HUB_LOCK_UNKNOWN",
  "POST /api/v1/doors/:doorId/lock/remove": "HUB_LOCK_UNKNOWN",
  "POST /api/v1/doors/:doorId/demo": "HUB_NOT_FOUND",
  "POST /api/v1/doors/:doorId/unlock-requests": "HUB_LOCK_UNKNOWN",
  "POST /api/v1/sites/:siteId/evidence": "HUB_LOCK_UNKNOWN",
  "POST /api/v1/sites/:siteId/alerts/:alertId/acknowledge": "HUB_NOT_FOUND",
  "POST /api/v1/sites/:siteId/unlock-requests/:requestId/challenge": "HUB_NOT_FOUND",
  "POST /api/v1/sites/:siteId/unlock-requests/:requestId/approve": "HUB_NOT_FOUND",
  "POST /api/v1/sites/:siteId/unlock-requests/:requestId/deny": "HUB_NOT_FOUND",
  // B's calendar has never downloaded a booking (its URL answers nothing).
  "POST /api/v1/sites/:siteId/calendars/:feedId/bookings/:bookingId/guest-link": "HUB_NOT_FOUND",
  "POST /api/v1/sites/:siteId/calendars/:feedId/bookings/:bookingId/replace-code": "HUB_NOT_FOUND",
};

describe.each(stores)("site isolation from the route table (%s)", (store) => {
  let t: TestHub;
  let w: World;
  let callers: Record<string, TestClient>;

  beforeAll(async () => {
    t = await startTestHub(store);
    w = await seed(t);
    const manager = await invite(t, w.owner, w.siteA, "mia", "manager");
    const resident = await invite(t, w.owner, w.siteA, "rui", "resident");
    const guest = await invite(t, w.owner, w.siteA, "gus", "guest");
    // Give the manager a fresh second factor, so step-up can never be the reason for a refusal.
    await stepUp(t, manager);
    callers = {
      manager: manager.client,
      resident: resident.client,
      guest: guest.client,
      anonymous: t.client(),
    };
  });
  afterAll(async () => {
    await t.close();
  });

  it("every route declares its access, and every non-site route is accounted for", () => {
    for (const r of t.hub.routes) {
      const key = `${r.method} ${r.url}`;
      if (r.access.kind === "site" || r.access.kind === "owner") continue;
      expect(NOT_OBJECT_SCOPED[key], `${key} is neither site-scoped nor listed`).toBeDefined();
    }
  });

  it("refuses every caller on every site/owner route, revealing nothing and changing nothing", async () => {
    const before = await snapshot(t);
    let attempts = 0;
    for (const route of t.hub.routes) {
      if (route.access.kind !== "site" && route.access.kind !== "owner") continue;
      const url = fill(route.url, w.b);
      const body = route.method === "GET" || route.method === "DELETE" ? undefined : bodyFor(route, w);
      for (const [who, client] of Object.entries(callers)) {
        const r = await client.request(route.method, url, body === undefined ? {} : { body });
        attempts++;
        const label = `${who} ${route.method} ${url} → ${r.statusCode} ${r.body}`;
        if (who === "anonymous") {
          expect(r.statusCode, label).toBe(401);
          expect(r.json().code, label).toBe("AUTH_REQUIRED");
        } else {
          expect(r.statusCode, label).toBe(404);
          expect(r.json(), label).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
        }
      }
    }
    expect(attempts).toBeGreaterThan(80);
    expect(await snapshot(t)).toBe(before);
  });

  it("refuses cross-site references in bodies: a manager of A cannot grant A's person B's door", async () => {
    const before = await snapshot(t);
    const r = await callers.manager?.post(`/api/v1/people/${w.personA}/grants`, {
      doorIds: [w.doorA, w.b.doorId],
      category: "guest",
      schedule: { kind: "always" },
    });
    expect(r?.statusCode).toBe(404);
    expect(r?.json().code).toBe("HUB_NOT_FOUND");
    expect(await snapshot(t)).toBe(before);
    // The same request without B's door works.
    const ok = await callers.manager?.post(`/api/v1/people/${w.personA}/grants`, {
      doorIds: [w.doorA],
      category: "guest",
      schedule: { kind: "always" },
    });
    expect(ok?.statusCode).toBe(201);
  });

  it("lists only the caller's own sites", async () => {
    const ids = (c: TestClient | undefined) =>
      c?.get("/api/v1/sites").then((r) => r.json<{ items: { id: string }[] }>().items.map((s) => s.id));
    expect(await ids(callers.manager)).toEqual([w.siteA]);
    expect(await ids(callers.resident)).toEqual([]);
    expect((await ids(w.owner.client))?.sort()).toEqual([w.siteA, w.b.siteId].sort());
  });

  it("positive control: the owner can make every one of those requests", async () => {
    await stepUp(t, w.owner);
    const deletes: RouteDef[] = [];
    for (const route of t.hub.routes) {
      if (route.access.kind !== "site" && route.access.kind !== "owner") continue;
      if (route.method === "DELETE") {
        deletes.push(route);
        continue;
      }
      const url = fill(route.url, w.b);
      const body = route.method === "GET" ? undefined : bodyFor(route, w);
      const r = await w.owner.client.request(route.method, url, body === undefined ? {} : { body });
      const needsDevice = NEEDS_A_DEVICE[`${route.method} ${route.url}`];
      if (needsDevice !== undefined) {
        // Allowed, but there is no lock (or demo lock) behind B's door: the device's own refusal.
        expect(r.json().code, `${route.method} ${url} → ${r.body}`).toBe(needsDevice);
        continue;
      }
      expect(r.statusCode, `${route.method} ${url} → ${r.body}`).toBeLessThan(300);
    }
    const order = [
      "/api/v1/doors/:doorId/doorbell",
      "/api/v1/sites/:siteId/members/:accountId",
      "/api/v1/doors/:doorId",
      "/api/v1/people/:personId",
      "/api/v1/sites/:siteId/calendars/:feedId",
      "/api/v1/notification-channels/:channelId",
      "/api/v1/sites/:siteId",
    ];
    deletes.sort((a, b) => order.indexOf(a.url) - order.indexOf(b.url));
    expect(deletes.map((d) => d.url)).toEqual(order);
    // Remove the door added by the control above, so the site is empty at the end.
    const doors = (await w.owner.client.get(`/api/v1/sites/${w.b.siteId}/doors`)).json<{
      items: { id: string; name: string }[];
    }>().items;
    for (const route of deletes) {
      if (route.url === "/api/v1/sites/:siteId") {
        for (const d of doors.filter((x) => x.id !== w.b.doorId))
          expect((await w.owner.client.delete(`/api/v1/doors/${d.id}`)).statusCode).toBe(200);
        const people = (await w.owner.client.get(`/api/v1/sites/${w.b.siteId}/people`)).json<{
          items: { id: string }[];
        }>().items;
        for (const p of people.filter((x) => x.id !== w.b.personId))
          expect((await w.owner.client.delete(`/api/v1/people/${p.id}`)).statusCode).toBe(200);
      }
      const r = await w.owner.client.delete(fill(route.url, w.b));
      expect(r.statusCode, `${route.url} → ${r.body}`).toBe(200);
    }
  });
});
