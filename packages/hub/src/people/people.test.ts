import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createSite } from "../sites/sites.js";
import { createPerson, listPeople } from "./people.js";

describe("a site's people, a page at a time", () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub("sqlite");
  });
  afterAll(async () => {
    await t.close();
  });

  it("pages follow one another to the last, in id order, with nobody of another site", async () => {
    const ctx = t.hub.ctx;
    const home = await createSite(ctx, { name: "Home", timezone: "Europe/Paris" });
    const office = await createSite(ctx, { name: "Office", timezone: "Europe/Paris" });
    const ids: string[] = [];
    for (const name of ["Ana", "Ben", "Cy", "Dee", "Eve"])
      ids.push((await createPerson(ctx, home.id, { name, email: null, phone: null })).id);
    await createPerson(ctx, office.id, { name: "Olu", email: null, phone: null });

    const seen: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await listPeople(ctx, home.id, { limit: 2, after });
      seen.push(page.people.map((p) => p.id));
      if (page.nextAfter === null) break;
      after = page.nextAfter;
    }
    const sorted = [...ids].sort();
    expect(seen).toEqual([sorted.slice(0, 2), sorted.slice(2, 4), sorted.slice(4)]);
  });
});
