/** Attack tests on second factors: a TOTP code raced from two sessions is accepted once. */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, oathtool, OWNER_PASSWORD, type SignedIn } from "../testing/flows.js";

const stores = await testStores();

describe.each(stores)("second factors under attack (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it("the same TOTP code sent concurrently from two sessions signs in exactly one", async () => {
    t.clock.now += 60_000;
    const a = t.client();
    const b = t.client();
    await a.post("/api/v1/auth/login", { username: "owner", password: OWNER_PASSWORD });
    await b.post("/api/v1/auth/login", { username: "owner", password: OWNER_PASSWORD });
    const code = oathtool(owner.totpSecret, t.clock.now);
    const [ra, rb] = await Promise.all([
      a.post("/api/v1/auth/second-factor", { method: "totp", code }),
      b.post("/api/v1/auth/second-factor", { method: "totp", code }),
    ]);
    expect([ra.statusCode, rb.statusCode].sort()).toEqual([200, 401]);
  });

  it("a code from an earlier time step than the last accepted one is refused", async () => {
    const previous = oathtool(owner.totpSecret, t.clock.now - 30_000);
    const c = t.client();
    await c.post("/api/v1/auth/login", { username: "owner", password: OWNER_PASSWORD });
    const r = await c.post("/api/v1/auth/second-factor", { method: "totp", code: previous });
    expect(r.json().code).toBe("AUTH_INVALID_CREDENTIALS");
  });

  it("second-factor guessing is throttled per account, with a capped delay", async () => {
    t.clock.now += 60_000;
    const c = t.client();
    await c.post("/api/v1/auth/login", { username: "owner", password: OWNER_PASSWORD });
    const right = oathtool(owner.totpSecret, t.clock.now);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const wrong = String((Number(right) + 1 + i) % 1_000_000).padStart(6, "0");
      statuses.push((await c.post("/api/v1/auth/second-factor", { method: "totp", code: wrong })).statusCode);
    }
    expect(statuses).toContain(429);
    expect((await c.post("/api/v1/auth/second-factor", { method: "totp", code: right })).statusCode).toBe(
      429,
    );
    t.clock.now += 5 * 60_000 + 1;
    const fresh = oathtool(owner.totpSecret, t.clock.now);
    expect((await c.post("/api/v1/auth/second-factor", { method: "totp", code: fresh })).json().stage).toBe(
      "full",
    );
  });
});
