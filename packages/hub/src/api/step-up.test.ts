/**
 * Every action that hands out access needs a second factor proven within the last 5 minutes:
 * a new PIN or card, a replaced PIN, a guest link, a grant, an invitation, and binding a door to a
 * lock (commissioning, or a door created or changed with a lock key). The list is generated from
 * the route table where the tags say "access" (credentials, grants, members), plus the lock routes
 * named below; with an older factor each is refused with AUTH_STEP_UP_REQUIRED and changes nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { testStores } from "../testing/stores.js";
import { snapshot } from "../testing/snapshot.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn, siteDoorPerson } from "../testing/flows.js";
import { sampleBodies } from "../testing/samples.js";
import { STEP_UP_WINDOW_MS } from "../sessions/sessions.js";
import type { RouteDef } from "./route-table.js";

const stores = await testStores();

/** Tags of routes that give people access; their state changes all need step-up, except removals. */
const ACCESS_TAGS = new Set(["credentials", "grants", "members"]);
/** Access-granting routes under other tags. */
const ALSO_ACCESS_GRANTING = new Set(["POST /api/v1/doors/:doorId/lock"]);
const LOCK_KEY = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";

function isRemoval(r: RouteDef): boolean {
  return r.method === "DELETE" || r.url.endsWith("/revoke");
}

function accessGrantingRoutes(routes: readonly RouteDef[]): RouteDef[] {
  return routes.filter(
    (r) =>
      (r.method !== "GET" &&
        r.access.kind !== "public" &&
        r.tags.some((tag) => ACCESS_TAGS.has(tag)) &&
        !isRemoval(r)) ||
      ALSO_ACCESS_GRANTING.has(`${r.method} ${r.url}`),
  );
}

describe.each(stores)("step-up for every access-granting action (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let ids: Record<string, string>;

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const c = owner.client;
    const { siteId, doorId, personId } = await siteDoorPerson(c);
    const credentialId = (
      await c.post(`/api/v1/people/${personId}/credentials`, { kind: "fingerprint" })
    ).json<{ credential: { id: string } }>().credential.id;
    ids = { siteId, doorId, personId, credentialId };
  });
  afterAll(async () => {
    await t.close();
  });

  function url(u: string): string {
    return u.replace(/:([A-Za-z]+)/g, (_, n: string) => ids[n] ?? "");
  }

  it("the generated list covers PINs, cards, replaced PINs, guest links, grants, invitations and commissioning; each declares step-up", () => {
    const listed = accessGrantingRoutes(t.hub.routes).map((r) => `${r.method} ${r.url}`);
    expect(listed).toEqual(
      expect.arrayContaining([
        "POST /api/v1/people/:personId/credentials",
        "POST /api/v1/credentials/:credentialId/replace-pin",
        "POST /api/v1/people/:personId/guest-pin",
        "POST /api/v1/people/:personId/grants",
        "POST /api/v1/sites/:siteId/members",
        "POST /api/v1/doors/:doorId/lock",
      ]),
    );
    const without = accessGrantingRoutes(t.hub.routes)
      .filter((r) => r.stepUp !== true)
      .map((r) => `${r.method} ${r.url}`);
    expect(without).toEqual([]);
  });

  it("with a second factor older than 5 minutes each is refused with AUTH_STEP_UP_REQUIRED and changes nothing", async () => {
    t.clock.now += STEP_UP_WINDOW_MS + 1_000;
    const before = await snapshot(t);
    const samples = sampleBodies({ doorId: ids.doorId ?? "" });
    const requests: { method: string; url: string; body: unknown }[] = [
      ...accessGrantingRoutes(t.hub.routes).map((r) => ({
        method: r.method,
        url: url(r.url),
        body: samples[`${r.method} ${r.url}`] ?? {},
      })),
      // A new PIN of either kind (generated or chosen) and a manager invitation.
      { method: "POST", url: url("/api/v1/people/:personId/credentials"), body: { kind: "pin" } },
      {
        method: "POST",
        url: url("/api/v1/people/:personId/credentials"),
        body: { kind: "pin", pin: "730519" },
      },
      {
        method: "POST",
        url: url("/api/v1/sites/:siteId/members"),
        body: { username: "max", role: "manager" },
      },
      // Binding a door to a lock: created bound, or rebound.
      {
        method: "POST",
        url: url("/api/v1/sites/:siteId/doors"),
        body: { name: "Bound door", lockPublicKey: LOCK_KEY },
      },
      {
        method: "POST",
        url: url("/api/v1/sites/:siteId/doors"),
        body: { name: "Bound door", lockId: "lock-1" },
      },
      { method: "PATCH", url: url("/api/v1/doors/:doorId"), body: { lockPublicKey: LOCK_KEY } },
    ];
    for (const r of requests) {
      const res = await owner.client.request(r.method, r.url, { body: r.body });
      expect(res.statusCode, `${r.method} ${r.url} ${JSON.stringify(r.body)}: ${res.body}`).toBe(403);
      expect(res.json<{ code: string }>().code, `${r.method} ${r.url}`).toBe("AUTH_STEP_UP_REQUIRED");
    }
    expect(await snapshot(t)).toBe(before);
  });

  it("a fresh second factor lets the same actions through, and a plain door needs none", async () => {
    t.clock.now += STEP_UP_WINDOW_MS + 1_000;
    const plain = await owner.client.post(url("/api/v1/sites/:siteId/doors"), { name: "Shed" });
    expect(plain.statusCode, plain.body).toBe(201);
    await stepUp(t, owner);
    const grant = await owner.client.post(url("/api/v1/people/:personId/grants"), {
      doorIds: [ids.doorId],
      category: "family",
      schedule: { kind: "always" },
    });
    expect(grant.statusCode, grant.body).toBe(201);
    const bound = await owner.client.post(url("/api/v1/sites/:siteId/doors"), {
      name: "Gate",
      lockPublicKey: LOCK_KEY,
    });
    expect(bound.statusCode, bound.body).toBe(201);
  });
});
