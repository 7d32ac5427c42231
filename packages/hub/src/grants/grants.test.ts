import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PersonTable } from "../db/schema.js";
import type { HubContext } from "../runtime/context.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createDoor, createSite } from "../sites/sites.js";
import { createPerson } from "../people/people.js";
import { createGrant, revokeGrant } from "./grants.js";

describe("grants tell every site whose locks they concern", () => {
  let t: TestHub;
  /** The hub's own context, but the sites told of a change are written down. */
  let ctx: HubContext;
  const told: string[] = [];

  beforeAll(async () => {
    t = await startTestHub("sqlite");
    ctx = { ...t.hub.ctx, desiredState: { siteChanged: (siteId) => told.push(siteId) } };
  });
  afterAll(async () => {
    await t.close();
  });

  it("a grant on the person's site and on a door of another site: both sites, once each", async () => {
    const home = await createSite(ctx, { name: "Home", timezone: "Europe/Paris" });
    const office = await createSite(ctx, { name: "Office", timezone: "Europe/Paris" });
    const front = await createDoor(ctx, home.id, { name: "Front" });
    const back = await createDoor(ctx, home.id, { name: "Back" });
    const lobby = await createDoor(ctx, office.id, { name: "Lobby" });
    const person: PersonTable = await createPerson(ctx, home.id, { name: "Ana", email: null, phone: null });
    told.length = 0;

    const grant = await createGrant(ctx, {
      person,
      doors: [front, back, lobby],
      category: "family",
      terms: {
        schedule: { kind: "always" },
        validFrom: null,
        validUntil: null,
        maxUses: null,
        expiresAfterFirstUseSeconds: null,
      },
      createdBy: null,
    });
    expect(told.sort()).toEqual([home.id, office.id].sort());
    const doors = await ctx.db
      .selectFrom("grant_doors")
      .select("door_id")
      .where("grant_id", "=", grant.id)
      .execute();
    expect(doors.map((d) => d.door_id).sort()).toEqual([front.id, back.id, lobby.id].sort());

    told.length = 0;
    await revokeGrant(ctx, grant.id);
    expect(told.sort()).toEqual([home.id, office.id].sort());
    const stored = await ctx.db
      .selectFrom("grants")
      .select("revoked_at")
      .where("id", "=", grant.id)
      .executeTakeFirst();
    expect(stored?.revoked_at).toBe(t.clock.now);
  });

  it("terms that make no sense are refused before anything is stored or told", async () => {
    const site = await createSite(ctx, { name: "Flat", timezone: "Europe/Paris" });
    const door = await createDoor(ctx, site.id, { name: "Door" });
    const person = await createPerson(ctx, site.id, { name: "Bo", email: null, phone: null });
    told.length = 0;
    await expect(
      createGrant(ctx, {
        person,
        doors: [door],
        category: "guest",
        terms: {
          schedule: { kind: "always" },
          validFrom: 2_000,
          validUntil: 1_000,
          maxUses: null,
          expiresAfterFirstUseSeconds: null,
        },
        createdBy: null,
      }),
    ).rejects.toMatchObject({ code: "HUB_GRANT_INVALID" });
    expect(told).toEqual([]);
    const grants = await ctx.db
      .selectFrom("grants")
      .select("id")
      .where("person_id", "=", person.id)
      .execute();
    expect(grants).toEqual([]);
  });
});
