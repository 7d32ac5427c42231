import { describe, it, expect, beforeAll, afterAll } from "vitest";
import Fastify from "fastify";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { guardRouteDeclarations } from "../api/route-table.js";

const stores = await testStores();

describe.each(stores)("health, metrics, OpenAPI (%s)", (store) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub(store);
  });
  afterAll(async () => {
    await t.close();
  });

  it("/healthz answers with the store in use", async () => {
    const r = await t.client().get("/healthz");
    expect(r.json()).toEqual({ status: "ok", database: store });
  });

  it("/metrics is Prometheus text with request counts, latency and sessions", async () => {
    await t.client().get("/healthz");
    await t.client().get("/nope");
    const r = await t.client().get("/metrics");
    expect(r.headers["content-type"]).toMatch(/^text\/plain/);
    expect(r.body).toMatch(
      /^latchkey_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+$/m,
    );
    expect(r.body).toMatch(
      /^latchkey_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m,
    );
    expect(r.body).toMatch(
      /^latchkey_http_request_duration_seconds_bucket\{method="GET",route="\/healthz",le="\+Inf"\} \d+$/m,
    );
    expect(r.body).toMatch(/^latchkey_sessions_active \d+$/m);
    expect(r.body).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it("unknown routes answer HUB_NOT_FOUND in the standard error shape", async () => {
    const r = await t.client().get("/api/v1/nothing-here");
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
  });

  it("publishes OpenAPI 3.1 for every route, with closed object schemas", async () => {
    const doc = (await t.client().get("/api/v1/openapi.json")).json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(doc.openapi).toBe("3.1.0");
    for (const r of t.hub.routes) {
      const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path}`).toBeDefined();
    }
    // Every object schema in request bodies refuses unknown fields.
    const open: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== "object") return;
      const o = node as Record<string, unknown>;
      if (o.type === "object" && o.properties !== undefined && o.additionalProperties !== false)
        open.push(where);
      for (const [k, v] of Object.entries(o)) walk(v, `${where}.${k}`);
    };
    for (const [p, methods] of Object.entries(doc.paths))
      for (const [m, op] of Object.entries(methods))
        walk((op as { requestBody?: unknown }).requestBody, `${m} ${p}`);
    expect(open).toEqual([]);
  });
});

describe("route declarations", () => {
  it("a route without an access declaration cannot be registered", async () => {
    const app = Fastify();
    guardRouteDeclarations(app);
    expect(() => app.get("/undeclared", () => Promise.resolve("x"))).toThrow(/no access declaration/);
    await app.close();
    const ok = Fastify();
    guardRouteDeclarations(ok);
    ok.get("/declared", { config: { access: { kind: "public" } } }, () => Promise.resolve("x"));
    await ok.ready();
    await ok.close();
  });
});
