/**
 * Bad input on every route of the table — malformed JSON, wrong types, unknown fields, oversize
 * bodies, wrong content types, bad ids and query values — is answered with a 4xx and a stable
 * code, by a caller who is allowed to use the route (the owner, with a fresh second factor),
 * and nothing is written.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ERROR_CODES } from "@latchkey/protocol";
import { testStores } from "../testing/stores.js";
import { snapshot } from "../testing/snapshot.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn, siteDoorPerson } from "../testing/flows.js";
import { sampleBodies } from "../testing/samples.js";

const stores = await testStores();

describe.each(stores)("bad input on every route (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let ids: Record<string, string>;

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const c = owner.client;
    const { siteId, doorId, personId } = await siteDoorPerson(c);
    const grantId = (
      await c.post(`/api/v1/people/${personId}/grants`, {
        doorIds: [doorId],
        category: "family",
        schedule: { kind: "always" },
      })
    ).json<{ id: string }>().id;
    const credentialId = (
      await c.post(`/api/v1/people/${personId}/credentials`, { kind: "fingerprint" })
    ).json<{ credential: { id: string } }>().credential.id;
    ids = { siteId, doorId, personId, grantId, credentialId, accountId: owner.accountId };
  });
  afterAll(async () => {
    await t.close();
  });

  function url(u: string, override: Record<string, string> = {}): string {
    return u.replace(/:([A-Za-z]+)/g, (_, n: string) => override[n] ?? ids[n] ?? "");
  }

  function expectStable(status: number, body: string, label: string, statuses: number[]): void {
    expect(statuses, `${label}: ${status} ${body}`).toContain(status);
    const code = (JSON.parse(body) as { code: string }).code;
    expect(ERROR_CODES, label).toContain(code);
  }

  it("every route with a body has a sample (so the cases below cover it)", () => {
    const samples = sampleBodies({ doorId: "x" });
    for (const r of t.hub.routes)
      if (r.schema.body !== undefined)
        expect(samples[`${r.method} ${r.url}`], `${r.method} ${r.url}`).toBeDefined();
  });

  it("refuses malformed, mistyped, unknown-field, oversize and wrongly typed bodies; writes nothing", async () => {
    await stepUp(t, owner);
    const before = await snapshot(t);
    const samples = sampleBodies({ doorId: ids.doorId ?? "" });
    const c = owner.client;
    let cases = 0;
    for (const r of t.hub.routes) {
      if (r.method === "GET") continue;
      const u = url(r.url);
      const label = `${r.method} ${r.url}`;
      const sample = samples[label];
      const send = async (options: Parameters<typeof c.request>[2], expected: number[], why: string) => {
        const res = await c.request(r.method, u, options);
        cases++;
        expectStable(res.statusCode, res.body, `${label} (${why})`, expected);
        return res;
      };
      const malformed = await send(
        { rawBody: '{"name": ', headers: { "content-type": "application/json" } },
        [400],
        "malformed JSON",
      );
      expect(malformed.json().code).toBe("HUB_MALFORMED_JSON");
      const big = await send(
        {
          rawBody: JSON.stringify({ name: "x".repeat(70_000) }),
          headers: { "content-type": "application/json" },
        },
        [413],
        "oversize",
      );
      expect(big.json().code).toBe("HUB_BODY_TOO_LARGE");
      const media = await send(
        { rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } },
        [415],
        "form body",
      );
      expect(media.json().code).toBe("HUB_UNSUPPORTED_MEDIA_TYPE");
      for (const wrong of [42, "text", [1, 2], null, true]) {
        const res = await send(
          { rawBody: JSON.stringify(wrong), headers: { "content-type": "application/json" } },
          [400],
          `body ${JSON.stringify(wrong)}`,
        );
        expect(res.json().code).toBe("HUB_BAD_REQUEST");
      }
      const unknown = await send({ body: { ...(sample ?? {}), unexpectedField: 1 } }, [400], "unknown field");
      expect(unknown.json().code).toBe("HUB_BAD_REQUEST");
      if (sample !== undefined) {
        for (const [field, value] of Object.entries(sample)) {
          const wrongType = typeof value === "string" ? 12345 : "not-the-right-type";
          await send({ body: { ...sample, [field]: wrongType } }, [400], `${field} has the wrong type`);
          const required = (Reflect.get(r.schema.body ?? {}, "required") as string[] | undefined) ?? [];
          if (required.includes(field)) {
            const { [field]: _dropped, ...without } = sample;
            await send({ body: without }, [400], `without required ${field}`);
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(150);
    expect(await snapshot(t)).toBe(before);
  });

  it("refuses bad ids and query values with a stable 4xx", async () => {
    const before = await snapshot(t);
    const c = owner.client;
    for (const r of t.hub.routes) {
      const params = [...r.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] ?? "");
      for (const bad of [
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        "%2e%2e%2f",
        "'; drop table sites; --",
        "x".repeat(300),
      ]) {
        if (params.length === 0) continue;
        const override = Object.fromEntries(params.map((p) => [p, encodeURIComponent(bad)]));
        const res = await c.request(
          r.method,
          url(r.url, override),
          r.method === "GET" || r.method === "DELETE" ? {} : { body: {} },
        );
        expectStable(res.statusCode, res.body, `${r.method} ${r.url} with id ${bad}`, [400, 404]);
      }
    }
    for (const q of [
      "limit=0",
      "limit=101",
      "limit=abc",
      "limit=1&limit=2",
      "after=nope",
      "before=-1",
      "extra=1",
    ]) {
      for (const path of [`/api/v1/sites/${ids.siteId}/people`, `/api/v1/sites/${ids.siteId}/audit`]) {
        const res = await c.get(`${path}?${q}`);
        expectStable(res.statusCode, res.body, `${path}?${q}`, [400]);
      }
    }
    expect(await snapshot(t)).toBe(before);
  });
});
