/**
 * Response headers: API answers carry PINs, recovery codes, TOTP secrets and tokens, so every one
 * of them — successes, errors, 404s, framework refusals — says `Cache-Control: no-store` and
 * `X-Content-Type-Options: nosniff`; pages and assets keep their own caching but are never
 * sniffed; a hub serving TLS adds `Strict-Transport-Security`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { createOwner, type SignedIn } from "../testing/flows.js";
import { selfSignedCertificate } from "../testing/tls.js";

function expectApiHeaders(res: LightMyRequestResponse, label: string): void {
  expect(res.headers["cache-control"], label).toBe("no-store");
  expect(res.headers["x-content-type-options"], label).toBe("nosniff");
}

describe("response headers", () => {
  let t: TestHub;
  let owner: SignedIn;

  beforeAll(async () => {
    t = await startTestHub("sqlite");
    owner = await createOwner(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it("every API answer, success or error, is no-store and nosniff, without HSTS over plain HTTP", async () => {
    const c = owner.client;
    const answers: [string, LightMyRequestResponse][] = [
      ["public GET", await t.client().get("/api/v1/setup")],
      ["signed-in GET", await c.get("/api/v1/session")],
      // The answer that carries a TOTP secret.
      ["secret-bearing POST", await c.post("/api/v1/account/totp/begin")],
      ["signed-out", await t.client().get("/api/v1/sites")],
      ["unknown route", await c.get("/api/v1/no-such-thing")],
      ["unknown object", await c.get("/api/v1/sites/00000000-0000-0000-0000-000000000000")],
      [
        "malformed JSON",
        await c.request("POST", "/api/v1/sites", {
          rawBody: "{",
          headers: { "content-type": "application/json" },
        }),
      ],
      ["bad name", await c.post("/api/v1/sites", { name: "a\u0000", timezone: "UTC" })],
      ["over-long path parameter", await c.get(`/api/v1/sites/${"x".repeat(200)}`)],
      ["health", await t.client().get("/healthz")],
    ];
    expect(answers.map(([, r]) => r.statusCode)).toEqual([200, 200, 200, 401, 404, 404, 400, 400, 404, 200]);
    for (const [label, res] of answers) {
      expectApiHeaders(res, label);
      expect(res.headers["strict-transport-security"], label).toBeUndefined();
    }
  });

  it("app pages keep their own caching and are never sniffed", async () => {
    const page = await t.client().get("/");
    expect(page.statusCode).toBe(200);
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
  });
});

describe("response headers under TLS", () => {
  let t: TestHub;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "latchkey-tls-"));
    const { cert, key } = selfSignedCertificate(dir);
    t = await startTestHub("sqlite", { tlsCert: cert, tlsKey: key });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("adds Strict-Transport-Security (one year, this host only) to API answers, errors and pages", async () => {
    for (const res of [
      await t.client().get("/api/v1/setup"),
      await t.client().get("/api/v1/no-such-thing"),
      await t.client().get("/"),
    ]) {
      expect(res.headers["strict-transport-security"], res.body).toBe("max-age=31536000");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
    }
    expectApiHeaders(await t.client().get("/api/v1/setup"), "setup");
  });
});
