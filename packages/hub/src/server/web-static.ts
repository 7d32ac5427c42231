/**
 * Serves the browser app (`packages/web/dist`, built by `vite build packages/web`, or the copy
 * packed into the hub package) at `/`.
 *
 * The app navigates with the URL fragment (`/#/people/…`), so only a few real paths exist: `/`,
 * the one-time link pages `/setup` and `/invite` (their token is in the fragment), `/assets/*`
 * (content-hashed, cached for a year) and the icon. Every other path keeps the API's JSON 404.
 * Pages carry a strict Content-Security-Policy: scripts and styles only from the hub itself,
 * nothing inline, no framing. When the app is not built, those paths answer a short page saying
 * how to build it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import fastifyStatic from "@fastify/static";
import { LatchkeyError } from "@latchkey/protocol";

/** `packages/web/dist` in a repository checkout (the same path from `src/server` and `dist/server`). */
const REPOSITORY_WEB_DIST = fileURLToPath(new URL("../../../web/dist/", import.meta.url));
/** The copy `npm pack` puts inside the hub package, for installs from a tarball. */
const PACKAGED_WEB_DIST = fileURLToPath(new URL("../../web-app/", import.meta.url));

/** The checkout's own build wins when present, so a stale packaged copy is never served. */
export const DEFAULT_WEB_DIST =
  !existsSync(join(REPOSITORY_WEB_DIST, "index.html")) && existsSync(join(PACKAGED_WEB_DIST, "index.html"))
    ? PACKAGED_WEB_DIST
    : REPOSITORY_WEB_DIST;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const APP_PATHS = ["/", "/setup", "/invite", "/guest", "/index.html"] as const;
const ROOT_FILES = ["/favicon.svg", "/sw.js"] as const;
/** Built asset names: no directories, no dot files, nothing to traverse with. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const PUBLIC = { access: { kind: "public" as const } };
const HIDDEN = { hide: true };

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .header("x-content-type-options", "nosniff")
    .header("x-frame-options", "DENY")
    .header("referrer-policy", "no-referrer")
    .header("cross-origin-opener-policy", "same-origin")
    .header("cross-origin-resource-policy", "same-origin")
    .header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latchkey</title></head>
<body><h1>Latchkey</h1>
<p>The web app is not built yet. From the repository, run <code>npm run build:web</code>
(or <code>npx vite build packages/web</code>), then reload this page.</p>
<p>The API is available at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
`;

/** Registers the app's routes; `distDir` defaults to DEFAULT_WEB_DIST. */
export async function registerWebApp(
  app: FastifyInstance,
  distDir: string = DEFAULT_WEB_DIST,
): Promise<void> {
  const indexFile = `${distDir.replace(/\/?$/, "/")}index.html`;
  const built = existsSync(indexFile);
  await app.register(async (scope) => {
    if (built) await scope.register(fastifyStatic, { root: distDir, serve: false, decorateReply: true });
    for (const url of APP_PATHS) {
      scope.get(url, { config: PUBLIC, schema: HIDDEN }, async (_request, reply) => {
        securityHeaders(reply).header("cache-control", "no-cache").type("text/html; charset=utf-8");
        // Read on every request: a rebuilt app is served without restarting the hub.
        if (built && existsSync(indexFile)) return reply.send(readFileSync(indexFile));
        return reply.send(NOT_BUILT);
      });
    }
    if (!built) return;
    scope.get("/assets/*", { config: PUBLIC, schema: HIDDEN }, async (request, reply) => {
      const name = (request.params as { "*": string })["*"];
      if (!ASSET_NAME.test(name) || !existsSync(join(distDir, "assets", name)))
        throw new LatchkeyError("HUB_NOT_FOUND", "not found");
      // File names carry a content hash, so a year-long immutable cache is safe.
      securityHeaders(reply).header("cache-control", "public, max-age=31536000, immutable");
      return reply.sendFile(`assets/${name}`, { cacheControl: false });
    });
    for (const url of ROOT_FILES) {
      scope.get(url, { config: PUBLIC, schema: HIDDEN }, async (_request, reply) => {
        // The service worker (Web Push) is checked for updates on every visit: never cached.
        securityHeaders(reply).header(
          "cache-control",
          url === "/sw.js" ? "no-cache" : "public, max-age=3600",
        );
        return reply.sendFile(url.slice(1), { cacheControl: false });
      });
    }
  });
}
