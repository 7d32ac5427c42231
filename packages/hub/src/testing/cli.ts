/**
 * Node arguments that run the `latchkey` CLI from its TypeScript sources, for tests:
 * `spawn(process.execPath, [...LATCHKEY_FROM_SOURCE, "start", …])`. The shipped bin/latchkey.js
 * runs the compiled dist/ instead, which a test must not depend on (it may be stale or absent);
 * the packaging test covers that path.
 */
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** tsx by absolute URL, so children started in another working directory still find it. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export const LATCHKEY_FROM_SOURCE: readonly string[] = [
  "--conditions=@latchkey/source",
  "--import",
  TSX,
  fileURLToPath(new URL("../cli/main.ts", import.meta.url)),
];
