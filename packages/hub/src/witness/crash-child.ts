/**
 * Child process for the witness's kill -9 test: serves a witness on a free port (printing
 * "listening <url>") that SIGKILLs itself right after persisting a new state and before
 * answering — the worst moment for a crash.
 */
import { WITNESS_KEY_FILE, loadWitnessKey } from "./key.js";
import { parseLogKey } from "./config.js";
import { serveWitness } from "./http.js";
import { Witness } from "./witness.js";

const [dir, logKey] = process.argv.slice(2);
if (dir === undefined || logKey === undefined)
  throw new Error(`usage: crash-child <dir with ${WITNESS_KEY_FILE}> <log vkey>`);
const { origin, publicKey } = parseLogKey(logKey);
const witness = Witness.open({
  dir,
  key: loadWitnessKey(dir),
  logs: new Map([[origin, publicKey]]),
  onPersisted: () => process.kill(process.pid, "SIGKILL"),
});
const server = await serveWitness(witness, [origin], { host: "127.0.0.1", port: 0 });
process.stdout.write(`listening ${server.url}\n`);
