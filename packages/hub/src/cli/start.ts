/**
 * `latchkey start`: runs the hub until SIGINT/SIGTERM. Prints the one-time setup link to the
 * console (never to the structured log) while no owner account exists.
 */
import module from "node:module";
import { join } from "node:path";
import { isLatchkeyError } from "@latchkey/protocol";
import type { CliCommand } from "./main.js";
import { helpText, parseConfig } from "../config/config.js";
import { prepareDataDir } from "../config/data-dir.js";

export const summary = "Run the hub (HTTP API, accounts, access model).";

/**
 * Node 22.1+ keeps the hub's compiled code between starts, so a restart skips compiling it
 * again (the bundle's chunks, or ~1,000 modules when run from tsc's output). In the private data directory, never a shared temporary one: whoever can write
 * the cache chooses the code the hub runs. Older Node versions have no such cache.
 */
function cacheCompiledCode(dataDir: string): void {
  const { enableCompileCache } = module as { enableCompileCache?: (directory: string) => unknown };
  if (typeof enableCompileCache === "function") enableCompileCache(join(dataDir, "compile-cache"));
}

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseConfig(argv, process.env);
  } catch (e) {
    console.error(`latchkey start: ${(e as Error).message}\n\n${helpText()}`);
    return 2;
  }
  if (config.help) {
    console.log(helpText());
    return 0;
  }
  // Everything the hub writes (databases and their WAL, keys, ledger, demo locks' state) is
  // private to its account from birth: 0600 files, 0700 folders.
  if (process.platform !== "win32") process.umask(0o077);
  let hub;
  try {
    // The data directory is checked (buildHub checks it again) before the cache goes inside it,
    // and the cache is on before the hub's modules load.
    prepareDataDir(config.dataDir);
    cacheCompiledCode(config.dataDir);
    const { buildHub } = await import("../server/app.js");
    hub = await buildHub(config);
  } catch (e) {
    // Every refusal we can name (locked data dir, unreachable database or broker, bad config,
    // unsafe key file) gets one clear line; anything else is a bug and keeps its stack trace.
    if (isLatchkeyError(e)) {
      console.error(`latchkey start: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  try {
    await hub.app.listen({ host: config.host, port: config.port });
  } catch (e) {
    console.error(`latchkey start: cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`);
    await hub.close();
    return 1;
  }
  const address = hub.app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  console.log(
    `Latchkey hub listening on ${config.tlsCert === undefined ? "http" : "https"}://${config.host}:${port} (data: ${config.dataDir}, database: ${hub.ctx.dialect})`,
  );
  // Public: what a witness's operator passes to `latchkey witness serve --log` (docs/witness.md).
  console.log(`Ledger verifier key: ${hub.ledger.verifierKey}`);
  const witnesses = config.witnesses ?? [];
  if (witnesses.length > 0)
    console.log(`Witnesses: ${witnesses.map((w) => `${w.name} at ${w.url}`).join(", ")}`);
  if (config.demo) {
    // Only a demo hub loads the virtual locks and their MQTT client.
    const { DEMO_DOORS, DEMO_SITE_NAME, startDemoSite } = await import("../demo/demo-site.js");
    try {
      const brokerUrl = config.broker ?? `ws://127.0.0.1:${port}/mqtt`;
      if (config.broker === undefined && config.tlsCert !== undefined)
        throw new Error("demo locks connect over plain ws://; run the demo without --tls-cert");
      hub.ctx.devices.demo = await startDemoSite({
        db: hub.ledger.db,
        service: hub.locks,
        dataDir: config.dataDir,
        brokerUrl,
        ...(config.topicPrefix === undefined ? {} : { topicPrefix: config.topicPrefix }),
        now: () => hub.ctx.now(),
        relyingParty: { rpId: hub.ctx.rpId, origins: [hub.ctx.origin] },
        log: hub.ctx.log.child({ part: "demo" }),
      });
      console.log(
        `Demo mode: site "${DEMO_SITE_NAME}" with ${DEMO_DOORS.map((d) => d.name).join(" and ")}, each with a connected virtual lock. Drive their keypads, cards, door sensors, tamper switches and batteries from the web app's demo panel.`,
      );
    } catch (e) {
      console.error(`latchkey start: the demo site could not start: ${(e as Error).message}`);
      await hub.close();
      return 1;
    }
  }
  if (hub.setupLink !== null) {
    console.log("");
    console.log("First run: no account exists. Open this one-time link to create the owner account");
    console.log(
      `(valid ${Math.round(config.setupLinkTtlMs / 60_000)} minutes; restart the hub for a new one):`,
    );
    console.log("");
    console.log(`  ${hub.setupLink}`);
    console.log("");
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`Received ${signal}; shutting down.`);
      hub.close().then(
        () => resolve(0),
        (e: unknown) => {
          console.error(`latchkey start: shutdown failed: ${(e as Error).message}`);
          resolve(1);
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

const command: CliCommand = { summary, run };
export default command;
