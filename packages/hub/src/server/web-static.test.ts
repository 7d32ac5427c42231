import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { LatchkeyError } from "@latchkey/protocol";
import { guardRouteDeclarations } from "../api/route-table.js";
import { CONTENT_SECURITY_POLICY, registerWebApp } from "./web-static.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fastify instance shaped like the hub's: declared routes only, JSON errors and 404s. */
async function server(dist: string): Promise<FastifyInstance> {
  const app = Fastify();
  guardRouteDeclarations(app);
  app.setErrorHandler((err, _req, reply) => {
    const e = err instanceof LatchkeyError ? err : new LatchkeyError("LK_INTERNAL", "internal error");
    void reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send(new LatchkeyError("HUB_NOT_FOUND", "not found").toJSON());
  });
  await registerWebApp(app, dist);
  await app.ready();
  return app;
}

function builtApp(): string {
  const dist = mkdtempSync(join(tmpdir(), "latchkey-web-dist-"));
  dirs.push(dist);
  mkdirSync(join(dist, "assets"));
  writeFileSync(
    join(dist, "index.html"),
    '<!doctype html><script type="module" src="./assets/app-abc123.js"></script>',
  );
  writeFileSync(join(dist, "assets", "app-abc123.js"), "console.log('app')");
  writeFileSync(join(dist, "favicon.svg"), "<svg/>");
  writeFileSync(join(dist, "sw.js"), "self.addEventListener('push', () => {});");
  writeFileSync(join(dist, "secret.txt"), "not served");
  return dist;
}

describe("serving the web app", () => {
  it("serves the app at /, /setup and /invite with a strict CSP and no caching of the page", async () => {
    const app = await server(builtApp());
    for (const url of ["/", "/setup", "/invite"]) {
      const r = await app.inject({ method: "GET", url });
      expect(r.statusCode).toBe(200);
      expect(r.headers["content-type"]).toMatch(/^text\/html/);
      expect(r.body).toContain("./assets/app-abc123.js");
      expect(r.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers["cache-control"]).toBe("no-cache");
      expect(r.headers["x-frame-options"]).toBe("DENY");
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
    }
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    await app.close();
  });

  it("caches hashed assets for a year and serves nothing else from the build directory", async () => {
    const app = await server(builtApp());
    const asset = await app.inject({ method: "GET", url: "/assets/app-abc123.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    for (const url of [
      "/assets/missing.js",
      "/assets/..%2fsecret.txt",
      "/assets/%2e%2e/secret.txt",
      "/secret.txt",
      "/nope",
    ]) {
      const r = await app.inject({ method: "GET", url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json(), url).toEqual({ code: "HUB_NOT_FOUND", message: "not found" });
      expect(r.headers["cache-control"], url).toBeUndefined();
    }
    await app.close();
  });

  it("serves the service worker from the root, never cached, as JavaScript", async () => {
    const app = await server(builtApp());
    const r = await app.inject({ method: "GET", url: "/sw.js" });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toMatch(/javascript/);
    // A browser checks a worker for updates on each visit; a cached one would keep an old worker.
    expect(r.headers["cache-control"]).toBe("no-cache");
    expect(r.body).toContain("push");
    await app.close();
  });

  it("explains how to build the app when it is not built", async () => {
    const empty = mkdtempSync(join(tmpdir(), "latchkey-web-none-"));
    dirs.push(empty);
    const app = await server(empty);
    const r = await app.inject({ method: "GET", url: "/" });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain("npm run build:web");
    expect(r.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    expect((await app.inject({ method: "GET", url: "/assets/app.js" })).statusCode).toBe(404);
    await app.close();
  });
});
