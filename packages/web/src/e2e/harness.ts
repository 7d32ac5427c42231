/**
 * Browser-test support: builds the web app when `dist` is missing or older than its sources,
 * starts a real hub in-process (temporary data dir, SQLite, cheap argon2, a clock the test can
 * move forward), launches Debian's Chromium through playwright-core, and checks a screen:
 * axe-core (no serious or critical violations), no horizontal scrolling on a phone, and
 * screenshots at desktop and phone widths.
 */
import { deflateSync } from "node:zlib";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import * as OTPAuth from "otpauth";
import axe from "axe-core";
import { buildHub, parseConfig, type Hub, type HubConfig } from "@latchkey/hub";
// Demo mode is started by the CLI after the hub listens (packages/hub/src/cli/start.ts); the
// hub's package entry does not export it, so the browser tests reach into its source.
import { startDemoSite } from "../../../hub/src/demo/demo-site.js";

export const WEB_DIR = fileURLToPath(new URL("../../", import.meta.url));
const DIST = join(WEB_DIR, "dist");
const DIST_INDEX = join(DIST, "index.html");
export const SCREENSHOT_DIR = fileURLToPath(
  new URL("../../../../test-results/screenshots/", import.meta.url),
);

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) {
    if (name === "e2e" || name.endsWith(".test.ts")) continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

/** Builds packages/web/dist with Vite's JS API unless it is newer than every source file. */
export async function ensureWebBuild(): Promise<"fresh" | "built"> {
  const sources = ["src", "public", "index.html", "vite.config.ts"]
    .map((p) => join(WEB_DIR, p))
    .filter(existsSync);
  const newestSource = Math.max(...sources.map(newestMtime));
  if (existsSync(DIST_INDEX) && statSync(DIST_INDEX).mtimeMs > newestSource) return "fresh";
  // Build beside dist and swap it in, so a concurrent run never serves a half-written app.
  const { build } = await import("vite");
  const staging = join(WEB_DIR, `.dist-${process.pid}`);
  try {
    await build({
      configFile: join(WEB_DIR, "vite.config.ts"),
      logLevel: "warn",
      mode: "production",
      build: { outDir: staging, emptyOutDir: true },
    });
    rmSync(DIST, { recursive: true, force: true });
    renameSync(staging, DIST);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return "built";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningHub {
  readonly hub: Hub;
  readonly origin: string;
  readonly setupLink: string;
  /** The embedded broker's WebSocket URL, for extra simulated locks. */
  readonly brokerUrl: string;
  readonly dataDir: string;
  /** Moves the hub's clock forward (e.g. past the 5-minute step-up window, or to a new TOTP step). */
  advance(ms: number): void;
  now(): number;
  close(): Promise<void>;
}

/**
 * A hub on http://localhost:<port>. The port is chosen before building because the hub's origin
 * (CSRF checks, WebAuthn relying party) is fixed at build time; `localhost` because passkeys
 * need a host name, not an IP address.
 */
export async function startHub(options: { demo?: boolean } = {}): Promise<RunningHub> {
  const dataDir = mkdtempSync(join(tmpdir(), "latchkey-web-e2e-"));
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  let offset = 0;
  const now = () => Date.now() + offset;
  const config: HubConfig = {
    ...parseConfig([], {}),
    dataDir,
    database: "",
    host: "127.0.0.1",
    port,
    publicUrl: origin,
    // Set LATCHKEY_E2E_LOG=warn (or debug) to see the hub's log while a test runs.
    logLevel: process.env.LATCHKEY_E2E_LOG ?? "silent",
    // Cheap argon2 for test speed only; production defaults stay in the hub's config.
    argon2: { memoryCost: 256, timeCost: 1, parallelism: 1 },
    now,
    // Presence comes from heartbeats (30–60 s in production): short ones, so a lock that goes
    // away is shown offline within a test's patience (two missed heartbeats + one timeout ≈ 10 s).
    syncPolicy: { heartbeatEveryMs: 2_000, requestTimeoutMs: 5_000 },
  };
  const hub = await buildHub(config);
  await hub.app.listen({ port, host: "127.0.0.1" });
  const brokerUrl = `ws://127.0.0.1:${port}/mqtt`;
  if (options.demo === true) {
    // As `latchkey start --demo` does: the demo site with two connected virtual locks.
    hub.ctx.devices.demo = await startDemoSite({
      db: hub.ledger.db,
      service: hub.locks,
      dataDir,
      brokerUrl,
      now,
      relyingParty: { rpId: hub.ctx.rpId, origins: [origin] },
      log: hub.ctx.log.child({ part: "demo" }),
    });
  }
  return {
    hub,
    origin,
    brokerUrl,
    dataDir,
    setupLink: (hub.setupLink ?? "").replace(/^https?:\/\/[^/]+/, origin),
    advance: (ms) => {
      offset += ms;
    },
    now,
    async close() {
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  // Chromium resolves localhost itself; keep it on the IPv4 loopback the hub listens on.
  "--host-resolver-rules=MAP localhost 127.0.0.1",
];

/** Chromium with a fresh, temporary user-data directory (playwright creates and deletes it). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

/** Records CSP violations and uncaught errors in the page, for the test to assert none happened. */
export function watchPage(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return { problems };
}

/** axe-core on the current screen (serious/critical fail), no sideways scroll on a phone, screenshots. */
export async function checkScreen(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // page.evaluate runs through the DevTools protocol, which the page's CSP does not govern.
  const hasAxe = await page.evaluate(() => "axe" in window);
  if (!hasAxe) await page.evaluate(axe.source);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<unknown> } }).axe.run(
      document,
      {
        resultTypes: ["violations"],
      },
    ),
  )) as AxeResult;
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`,
    );
  if (bad.length > 0) throw new Error(`axe on "${name}":\n${bad.join("\n")}`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-phone.png`), fullPage: true });
  // The narrowest phones in common use are 360 px wide: nothing may scroll sideways there.
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth - window.innerWidth,
    nav: Math.max(0, ...[...document.querySelectorAll("nav ul")].map((n) => n.scrollWidth - n.clientWidth)),
  }));
  await page.setViewportSize(DESKTOP);
  if (overflow.page > 0 || overflow.nav > 0)
    throw new Error(`"${name}" scrolls sideways at 360 px wide: ${JSON.stringify(overflow)}`);
}

/** The owner's password in every browser test. */
export const OWNER_PASSWORD = "a quiet harbour at dawn";

/** The TOTP code an authenticator app would show at `at` (the hub's clock, not the machine's). */
export function totpAt(secret: string, at: number): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    digits: 6,
    period: 30,
    algorithm: "SHA1",
  }).generate({ timestamp: at });
}

/** A new desktop browser context and page, watched for errors and CSP violations. */
export async function freshPage(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return { context, page, problems: watchPage(page).problems };
}

/** First run from the setup link: the owner account with an authenticator app, recovery codes saved. */
export async function signUpOwner(page: Page, setupLink: string, now: () => number): Promise<void> {
  await page.goto(setupLink);
  await page.getByLabel("Name of your home or organisation").fill("Demo household");
  await page.getByLabel("User name").fill("owner");
  await page.getByLabel("Password", { exact: true }).fill(OWNER_PASSWORD);
  await page.getByRole("button", { name: "Create owner account" }).click();
  await page.getByLabel(/Authenticator app/).check();
  const secret = (await page.locator("[data-secret]").getAttribute("data-secret")) ?? "";
  await page.getByLabel("6-digit code from the app").fill(totpAt(secret, now()));
  await page.getByRole("button", { name: "Confirm and turn on" }).click();
  await page.getByLabel("I have saved these recovery codes somewhere safe").check();
  await page.getByRole("button", { name: "Continue" }).click();
}

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A small real PNG (a "doorstep" in two colours), so the browser has an image to show. */
export function doorstepPng(width = 160, height = 100): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const door = x > width * 0.35 && x < width * 0.65 && y > height * 0.15;
      row.set(door ? [120, 72, 40] : [200, 210, 220], 1 + x * 3);
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * Chromium's virtual authenticator (DevTools WebAuthn domain) on `page`: a platform passkey
 * authenticator that verifies its user. Returns its id and the DevTools session, to inspect it.
 */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return { cdp, authenticatorId };
}
