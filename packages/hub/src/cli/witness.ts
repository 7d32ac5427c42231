/**
 * `latchkey witness`: the small process a second party runs — a family member's computer, a
 * landlord's server, an insurer — so that a hub cannot rewrite its ledger's history without
 * someone else noticing (docs/witness.md). c2sp.org/tlog-witness over HTTP.
 *
 *   latchkey witness init  --dir D --name NAME     create the witness key and an empty state
 *   latchkey witness show  --dir D                 print the verifier key again
 *   latchkey witness serve --dir D --log VKEY…     serve add-checkpoint for those logs
 */
import { parseArgs } from "node:util";
import { isLatchkeyError, LatchkeyError } from "@latchkey/protocol";
import type { CliCommand } from "./main.js";
import { createLogger } from "../server/logging.js";
import { createWitnessKey, loadWitnessKey, witnessVerifierKey } from "../witness/key.js";
import { parseLogKey } from "../witness/config.js";
import { writeWitnessState, WITNESS_STATE_FILE } from "../witness/state.js";
import { Witness } from "../witness/witness.js";
import { serveWitness } from "../witness/http.js";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const summary = "Run a witness that cosigns a hub's ledger checkpoints (C2SP tlog-witness).";

const DEFAULT_LISTEN = "127.0.0.1:7380";

const HELP = `Usage: latchkey witness <init|show|serve> [options]

A witness keeps the latest checkpoint of each hub ledger it watches and cosigns a new one only
if it extends that one (c2sp.org/tlog-witness). Run it on a machine the hub's owner does not
control; see docs/witness.md.

  latchkey witness init --dir DIR --name NAME
      Create the witness in DIR (0700): its Ed25519 key (witness.key, 0600) and an empty
      state.json. NAME is how cosignatures name this witness, e.g. witness.example.org/alice.
      Prints the verifier key to give the hub's owner and anyone who checks evidence.

  latchkey witness show --dir DIR
      Print the verifier key again.

  latchkey witness serve --dir DIR --log LOG [--log LOG…] [--listen HOST:PORT]
      Serve POST /add-checkpoint. LOG is a hub's ledger verifier key (origin+keyid+key, shown by
      \`latchkey start\`), or ORIGIN=KEY with KEY in hex or base64. --listen defaults to
      ${DEFAULT_LISTEN} (port 0: any free port).

Exit status: 0 done (serve: stopped by SIGINT/SIGTERM), 1 refused (the message says why), 2 bad
command line.`;

class Usage extends Error {}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new Usage("--listen must be HOST:PORT");
  return { host: m[1] ?? (m[2] as string), port };
}

async function serve(dir: string, logArgs: readonly string[], listen: string): Promise<number> {
  if (logArgs.length === 0) throw new Usage("serve needs at least one --log");
  const { host, port } = parseListen(listen);
  const logs = new Map<string, Uint8Array>();
  for (const a of logArgs) {
    const { origin, publicKey } = parseLogKey(a);
    if (logs.has(origin)) throw new LatchkeyError("WITNESS_CONFIG_INVALID", `--log ${origin} is given twice`);
    logs.set(origin, publicKey);
  }
  const log = createLogger(process.env.LATCHKEY_LOG_LEVEL ?? "info");
  const key = loadWitnessKey(dir);
  const witness = Witness.open({ dir, key, logs, log });
  key.seed.fill(0);
  let server;
  try {
    server = await serveWitness(witness, [...logs.keys()], { host, port, log });
  } catch (e) {
    witness.close();
    throw new LatchkeyError("WITNESS_CONFIG_INVALID", `cannot listen on ${listen}: ${(e as Error).message}`);
  }
  console.log(
    `Latchkey witness ${witness.name} listening on ${server.url} (add-checkpoint: ${server.url}/add-checkpoint)`,
  );
  console.log(`Verifier key: ${witnessVerifierKey(witness)}`);
  for (const origin of logs.keys()) {
    const s = witness.latest(origin);
    console.log(
      `Witnessing ${origin}${s === undefined ? " (nothing cosigned yet)" : ` (cosigned up to size ${s.size})`}`,
    );
  }
  return new Promise<number>((done) => {
    const stop = (signal: string) => {
      console.log(`Received ${signal}; shutting down.`);
      void server.close().then(() => {
        witness.close();
        done(0);
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(HELP);
    return sub === undefined ? 2 : 0;
  }
  try {
    const { values } = (() => {
      try {
        return parseArgs({
          args: rest,
          options: {
            dir: { type: "string" },
            name: { type: "string" },
            log: { type: "string", multiple: true },
            listen: { type: "string" },
            help: { type: "boolean" },
          },
          strict: true,
          allowPositionals: false,
        });
      } catch (e) {
        throw new Usage((e as Error).message);
      }
    })();
    if (values.help === true) {
      console.log(HELP);
      return 0;
    }
    if (values.dir === undefined) throw new Usage("--dir is required");
    const dir = resolve(values.dir);
    // Everything the witness writes is private to its account from birth.
    if (process.platform !== "win32") process.umask(0o077);
    switch (sub) {
      case "init": {
        if (values.name === undefined) throw new Usage("init needs --name");
        if (existsSync(join(dir, WITNESS_STATE_FILE)))
          throw new LatchkeyError(
            "WITNESS_KEY_INVALID",
            `${dir} already holds a witness (state.json exists)`,
          );
        const key = createWitnessKey(dir, values.name);
        key.seed.fill(0);
        writeWitnessState(dir, new Map());
        const vkey = witnessVerifierKey(key);
        console.log(`Witness ${key.name} created in ${dir}.`);
        console.log("");
        console.log(`Verifier key: ${vkey}`);
        console.log("");
        console.log(
          "Give the hub's owner this option for `latchkey start` (with the URL the hub reaches you at):",
        );
        console.log(`  --witness http://THIS-HOST:${DEFAULT_LISTEN.split(":")[1]}=${vkey}`);
        console.log("Give the verifier key to whoever checks evidence bundles, so they can pin it.");
        console.log(
          `Then run: latchkey witness serve --dir ${values.dir} --log <the hub's ledger verifier key>`,
        );
        console.log("Back up the folder; a witness that loses state.json must be retired, not restarted.");
        return 0;
      }
      case "show": {
        const key = loadWitnessKey(dir);
        key.seed.fill(0);
        console.log(witnessVerifierKey(key));
        return 0;
      }
      case "serve":
        return await serve(dir, values.log ?? [], values.listen ?? DEFAULT_LISTEN);
      default:
        throw new Usage(`unknown subcommand "${sub}"`);
    }
  } catch (e) {
    if (e instanceof Usage) {
      console.error(`latchkey witness: ${e.message}\n\n${HELP}`);
      return 2;
    }
    if (isLatchkeyError(e)) {
      console.error(`latchkey witness: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

const command: CliCommand = { summary, run };
export default command;
