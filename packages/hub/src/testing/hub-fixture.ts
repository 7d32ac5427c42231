/**
 * Test support: a hub on a temporary data directory and store, a log capture, a settable clock,
 * and an HTTP client over `app.inject` that keeps the session cookie and CSRF token like a browser.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { LightMyRequestResponse } from "fastify";
import { parseConfig, type HubConfig } from "../config/config.js";
import { buildHub, type Hub } from "../server/app.js";
import { dropPgSchema, TEST_PG_URL, type StoreKind } from "./stores.js";

export const TEST_ORIGIN = "http://hub.test:8080";

export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l.length > 0),
    );
    cb();
  }
  text(): string {
    return this.lines.join("\n");
  }
}

export interface TestHub {
  readonly hub: Hub;
  readonly logs: LogCapture;
  readonly clock: { now: number };
  readonly dataDir: string;
  client(): TestClient;
  close(): Promise<void>;
}

export async function startTestHub(store: StoreKind, overrides: Partial<HubConfig> = {}): Promise<TestHub> {
  const dataDir = mkdtempSync(join(tmpdir(), "latchkey-hub-"));
  const logs = new LogCapture();
  const clock = { now: Date.UTC(2026, 10, 20, 12, 0, 0) };
  const schema = store === "postgres" ? `t_${randomBytes(6).toString("hex")}` : undefined;
  const base = parseConfig([], {});
  const config: HubConfig = {
    ...base,
    dataDir,
    database: store === "postgres" ? TEST_PG_URL : "",
    publicUrl: TEST_ORIGIN,
    logLevel: "debug",
    // Cheap argon2 for test speed only; production defaults stay in config.ts.
    argon2: { memoryCost: 256, timeCost: 1, parallelism: 1 },
    logDestination: logs,
    now: () => clock.now,
    ...(schema === undefined ? {} : { pgSchema: schema }),
    ...overrides,
  };
  const hub = await buildHub(config);
  return {
    hub,
    logs,
    clock,
    dataDir,
    client: () => new TestClient(hub),
    async close() {
      await hub.close();
      if (schema !== undefined) await dropPgSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  /** Leave out the CSRF header (to test the refusal). */
  readonly noCsrf?: boolean;
}

export class TestClient {
  cookie: string | null = null;
  csrf: string | null = null;

  constructor(private readonly hub: Hub) {}

  async request(method: string, url: string, options: RequestOptions = {}): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.cookie !== null) headers.cookie = this.cookie;
    if (this.csrf !== null && options.noCsrf !== true && method !== "GET")
      headers["x-csrf-token"] = this.csrf;
    let payload: string | undefined;
    if (options.rawBody !== undefined) payload = options.rawBody;
    else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await this.hub.app.inject({
      method: method as "GET",
      url,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
    const setCookie = res.cookies.find((c) => c.name.endsWith("latchkey_session"));
    if (setCookie !== undefined)
      this.cookie = setCookie.value === "" ? null : `${setCookie.name}=${setCookie.value}`;
    if (res.statusCode < 300 && res.headers["content-type"]?.toString().includes("json")) {
      const json = res.json<{ csrfToken?: unknown; session?: { csrfToken?: unknown } }>();
      const token = json?.csrfToken ?? json?.session?.csrfToken;
      if (typeof token === "string") this.csrf = token;
    }
    return res;
  }

  get(url: string): Promise<LightMyRequestResponse> {
    return this.request("GET", url);
  }
  post(url: string, body?: unknown): Promise<LightMyRequestResponse> {
    return this.request("POST", url, body === undefined ? {} : { body });
  }
  patch(url: string, body?: unknown): Promise<LightMyRequestResponse> {
    return this.request("PATCH", url, body === undefined ? {} : { body });
  }
  delete(url: string): Promise<LightMyRequestResponse> {
    return this.request("DELETE", url);
  }
}
