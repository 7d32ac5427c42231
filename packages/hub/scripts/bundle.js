// Second half of `npm run build` for @latchkey/hub: esbuild bundles the compiled CLI (dist/cli/
// main.js, from tsc) and its pure-JavaScript dependencies into dist/bundle/, which bin/latchkey.js
// runs. Why: loading ~1,000 module files (typebox and kysely alone are 635) took most of the
// hub's start-up CPU and memory; a few bundled chunks load in a fraction of that. Dynamic imports
// (one per CLI command, PostgreSQL, passkeys, the demo) stay separate chunks, loaded when used.
// Native addons and the PostgreSQL driver stay ordinary dependencies.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const hub = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${hub}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { main: `${hub}dist/cli/main.js` },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  // The "@latchkey/source" condition is for development only: bundle the workspaces' dist/.
  conditions: [],
  // Native addons (and pg, whose optional native half is one) must stay files on disk.
  external: ["better-sqlite3", "@node-rs/argon2", "pg", "pg-native"],
  // CommonJS dependencies call require() for Node's own modules; an ES module has none.
  banner: {
    js: "import { createRequire as __latchkeyCreateRequire } from 'node:module'; const require = __latchkeyCreateRequire(import.meta.url);",
  },
  // Chunks sit beside main.js, two levels below the package as dist/server/*.js are: the hub finds
  // the web app relative to its own module (server/web-static.ts).
  chunkNames: "[name]-[hash]",
  legalComments: "eof",
  // Smaller sources parse faster and V8 keeps them in memory (~6 MiB less); names are kept, so
  // stack traces still name the functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});
