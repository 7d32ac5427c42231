/**
 * One rule for every name and label a person types (sites, doors, people, the organisation,
 * credential labels, guest-link labels, unlock-request notes, a door's lock id): no control
 * characters (C0/C1, NUL included), no bidirectional overrides, isolates or marks, no line or
 * paragraph separators, no unpaired surrogates. Each route that takes one is found in the route
 * table; each bad input is refused with HUB_NAME_INVALID naming the field, and nothing is stored or
 * audited. Every other free-text string in a request body is a secret or an opaque value, listed.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { TSchema } from "typebox";
import { testStores } from "../testing/stores.js";
import { snapshot } from "../testing/snapshot.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, stepUp, type SignedIn, siteDoorPerson } from "../testing/flows.js";
import { sampleBodies } from "../testing/samples.js";
import { SAFE_TEXT_PATTERN } from "../api/schemas.js";

const stores = await testStores();

const BAD: readonly [string, string][] = [
  ["NUL", "\u0000"],
  ["bell", "\u0007"],
  ["newline", "\n"],
  ["escape", "\u001b[31m"],
  ["DEL", "\u007f"],
  ["C1 next line", "\u0085"],
  ["C1 CSI", "\u009b"],
  ["right-to-left override", "\u202e"],
  ["left-to-right embedding", "\u202a"],
  ["left-to-right isolate", "\u2066"],
  ["pop directional isolate", "\u2069"],
  ["left-to-right mark", "\u200e"],
  ["right-to-left mark", "\u200f"],
  ["Arabic letter mark", "\u061c"],
  ["line separator", "\u2028"],
  ["lone high surrogate", "\ud800"],
  ["lone low surrogate", "\udfff"],
  ["surrogates in the wrong order", "\udc00\ud800"],
];

/** Body strings that are not names: secrets and opaque or otherwise-checked values. */
const NOT_NAMES = new Set([
  "token",
  "password",
  "currentPassword",
  "newPassword",
  "timezone",
  "snapshot",
  "code",
  "transports",
]);

interface Field {
  readonly name: string;
  readonly safe: boolean;
  readonly constrained: boolean;
}

/** Every string property in a body schema (through unions, arrays and optional fields). */
function stringFields(schema: TSchema | undefined, name = ""): Field[] {
  if (schema === undefined) return [];
  const s = schema as {
    type?: string;
    pattern?: string;
    format?: string;
    const?: unknown;
    enum?: unknown;
    anyOf?: TSchema[];
    properties?: Record<string, TSchema>;
    items?: TSchema;
  };
  if (s.anyOf !== undefined) return s.anyOf.flatMap((b) => stringFields(b, name));
  if (s.type === "object" && s.properties !== undefined)
    return Object.entries(s.properties).flatMap(([k, v]) => stringFields(v, k));
  if (s.type === "array" && s.items !== undefined) return stringFields(s.items, name);
  if (s.type === "string")
    return [
      {
        name,
        safe: s.pattern === SAFE_TEXT_PATTERN,
        constrained:
          s.pattern !== undefined || s.format !== undefined || s.const !== undefined || s.enum !== undefined,
      },
    ];
  return [];
}

describe.each(stores)("names and labels (%s)", (store) => {
  let t: TestHub;
  let owner: SignedIn;
  let ids: Record<string, string>;

  beforeAll(async () => {
    t = await startTestHub(store);
    owner = await createOwner(t);
    const c = owner.client;
    const { siteId, doorId, personId } = await siteDoorPerson(c);
    await stepUp(t, owner);
    const channel = await c.post("/api/v1/notification-channels", {
      kind: "webhook",
      name: "Intake",
      settings: { url: "http://127.0.0.1:9/hook" },
    });
    ids = { siteId, doorId, personId, channelId: channel.json<{ channel: { id: string } }>().channel.id };
  });
  afterAll(async () => {
    await t.close();
  });

  function nameRoutes() {
    return t.hub.routes.flatMap((r) => {
      const fields = [
        ...new Set(
          stringFields(r.schema.body)
            .filter((f) => f.safe)
            .map((f) => f.name),
        ),
      ];
      return fields.map((field) => ({ route: r, field }));
    });
  }

  it("every name and label field of the API follows the rule; other free-text strings are listed", () => {
    const found = nameRoutes().map(({ route, field }) => `${route.method} ${route.url} ${field}`);
    expect(found).toEqual(
      expect.arrayContaining([
        "PATCH /api/v1/organisation name",
        "POST /api/v1/setup organisationName",
        "POST /api/v1/sites name",
        "PATCH /api/v1/sites/:siteId name",
        "POST /api/v1/sites/:siteId/doors name",
        "POST /api/v1/sites/:siteId/doors lockId",
        "PATCH /api/v1/doors/:doorId name",
        "PATCH /api/v1/doors/:doorId lockId",
        "POST /api/v1/sites/:siteId/people name",
        "PATCH /api/v1/people/:personId name",
        "POST /api/v1/people/:personId/credentials label",
        "POST /api/v1/people/:personId/guest-pin label",
        "POST /api/v1/doors/:doorId/unlock-requests note",
        "POST /api/v1/doorbell/ring note",
      ]),
    );
    const unruled = t.hub.routes.flatMap((r) =>
      stringFields(r.schema.body)
        .filter((f) => !f.safe && !f.constrained && !NOT_NAMES.has(f.name))
        .map((f) => `${r.method} ${r.url} ${f.name}`),
    );
    expect(unruled).toEqual([]);
  });

  it("refuses every bad character in every name with HUB_NAME_INVALID, storing and auditing nothing", async () => {
    await stepUp(t, owner);
    const before = await snapshot(t);
    const samples = sampleBodies({ doorId: ids.doorId ?? "" });
    let cases = 0;
    for (const { route, field } of nameRoutes()) {
      const url = route.url.replace(/:([A-Za-z]+)/g, (_, n: string) => ids[n] ?? "");
      for (const [why, bad] of BAD) {
        const body = { ...(samples[`${route.method} ${route.url}`] ?? {}), [field]: `Front${bad}door` };
        const res = await owner.client.request(route.method, url, { body });
        const label = `${route.method} ${route.url} ${field} with ${why}: ${res.body}`;
        expect(res.statusCode, label).toBe(400);
        const err = res.json<{ code: string; message: string; details?: { field?: string } }>();
        expect(err.code, label).toBe("HUB_NAME_INVALID");
        expect(err.details?.field, label).toBe(`body/${field}`);
        expect(err.message, label).toContain(`body/${field} contains`);
        cases++;
      }
    }
    expect(cases).toBeGreaterThanOrEqual(14 * BAD.length);
    expect(await snapshot(t)).toBe(before);
  });

  it("says which character and why", async () => {
    const res = await owner.client.post(`/api/v1/sites/${ids.siteId}/people`, { name: "Eve\u202egnp.exe" });
    expect(res.json<{ message: string }>().message).toContain(
      "body/name contains a bidirectional control character (U+202E)",
    );
    const nul = await owner.client.post(`/api/v1/sites/${ids.siteId}/people`, { name: "a\u0000b" });
    expect(nul.json<{ message: string }>().message).toContain("a control character (U+0000)");
    const lone = await owner.client.post(`/api/v1/sites/${ids.siteId}/people`, { name: "a\ud800" });
    expect(lone.json<{ message: string }>().message).toContain("an unpaired surrogate (U+D800)");
  });

  it("names in any script, with accents, emoji and joiners, are kept as typed", async () => {
    const name = "Zoë 🏠 東京 שלום مرحبا 👩‍👩‍👧";
    const res = await owner.client.post(`/api/v1/sites/${ids.siteId}/people`, { name });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<{ name: string }>().name).toBe(name);
  });
});
