/**
 * The hub's schema compilers: a response schema used by many routes is compiled once, and every
 * route still writes only the fields its schema declares (the filtering the hub relies on so that
 * secrets in a result object never reach an answer by accident); validators compiled at first use
 * accept and refuse exactly what fastify's default ones do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Fastify, { type FastifyInstance } from "fastify";
import { Type } from "typebox";
import { startTestHub } from "../testing/hub-fixture.js";
import { lazyValidatorFactory, sharedSerializerFactory } from "./schema-compilers.js";

// anyOf inside: the kind of schema fast-json-stringify builds an Ajv for.
const Shared = Type.Object({
  code: Type.String(),
  value: Type.Union([Type.String(), Type.Number()]),
});
const Other = Type.Object({ id: Type.String() });
const result = { code: "x", value: 7, secret: "must not leave", nested: { secret: 1 } };

describe("sharedSerializerFactory", () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = Fastify({ schemaController: { compilersFactory: { buildSerializer: sharedSerializerFactory() } } });
    for (const url of ["/a", "/b"]) {
      app.get(url, { schema: { response: { 200: Shared, 400: Shared } } }, () => result);
    }
    app.get("/other", { schema: { response: { 200: Other } } }, () => ({ id: "o", secret: "s" }));
    app.get("/bad", { schema: { response: { 400: Shared } } }, async (_request, reply) =>
      reply.code(400).send({ code: "bad", value: "text", secret: "s" }),
    );
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it("writes only the declared fields, on every route sharing the schema", async () => {
    for (const url of ["/a", "/b"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.json(), url).toEqual({ code: "x", value: 7 });
    }
    expect((await app.inject({ method: "GET", url: "/other" })).json()).toEqual({ id: "o" });
    expect((await app.inject({ method: "GET", url: "/bad" })).json()).toEqual({ code: "bad", value: "text" });
  });

  it("compiles one serializer per schema object, not per route and status", () => {
    const compile = sharedSerializerFactory()(undefined, {});
    const route = { method: "GET", url: "/a", httpStatus: "200" };
    const first = compile({ ...route, schema: Shared });
    expect(compile({ ...route, url: "/b", httpStatus: "400", schema: Shared })).toBe(first);
    // A distinct schema object, even an equal one, gets its own serializer.
    expect(compile({ ...route, schema: { ...Shared } })).not.toBe(first);
    expect(compile({ ...route, schema: Other })({ id: "o", secret: "s" })).toBe('{"id":"o"}');
  });
});

describe("lazyValidatorFactory", () => {
  const Body = Type.Object(
    { name: Type.String({ maxLength: 5 }), count: Type.Integer({ default: 1 }) },
    { additionalProperties: false },
  );
  const Query = Type.Object({ limit: Type.String({ pattern: "^[0-9]+$" }) });
  const ajv = { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true } } as const;
  const build = (lazy: boolean): FastifyInstance => {
    const app = Fastify({
      ajv,
      ...(lazy ? { schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory() } } } : {}),
    });
    app.post("/items", { schema: { body: Body, querystring: Query } }, (request) => request.body);
    return app;
  };
  let lazy: FastifyInstance;
  let eager: FastifyInstance;
  beforeAll(async () => {
    lazy = build(true);
    eager = build(false);
    await Promise.all([lazy.ready(), eager.ready()]);
  });
  afterAll(async () => {
    await Promise.all([lazy.close(), eager.close()]);
  });

  it("accepts, refuses and fills in defaults exactly as fastify's default validators", async () => {
    const requests = [
      { url: "/items?limit=3", payload: { name: "ab" } },
      { url: "/items?limit=3", payload: { name: "abcdefgh" } },
      { url: "/items?limit=3", payload: { name: "ab", extra: true } },
      { url: "/items?limit=x", payload: { name: "ab" } },
      { url: "/items", payload: { name: "ab", count: 2 } },
      { url: "/items?limit=1", payload: { name: "ab", count: "2" } },
    ];
    for (const r of requests) {
      const [a, b] = await Promise.all([lazy, eager].map((app) => app.inject({ method: "POST", ...r })));
      expect({ status: a?.statusCode, body: a?.json() }, r.url).toEqual({
        status: b?.statusCode,
        body: b?.json(),
      });
    }
    const ok = await lazy.inject({ method: "POST", url: "/items?limit=3", payload: { name: "ab" } });
    expect(ok.json()).toEqual({ name: "ab", count: 1 });
    const refused = await lazy.inject({
      method: "POST",
      url: "/items?limit=3",
      payload: { name: "abcdefgh" },
    });
    expect(refused.statusCode).toBe(400);
  });
});

describe("the hub's route schemas", () => {
  it("all compile with fastify's default compilers (the hub compiles each at first use, not at start)", async () => {
    const t = await startTestHub("sqlite");
    try {
      const app = Fastify();
      for (const def of t.hub.routes) {
        app.route({ method: def.method, url: def.url, schema: def.schema, handler: () => null });
      }
      await app.ready();
      expect(app.printRoutes().length).toBeGreaterThan(0);
      await app.close();
    } finally {
      await t.close();
    }
  });
});
