// Second half of `npm run build` for @latchkey/hub: esbuild bundles the compiled CLI (dist/cli/
// main.js, from tsc) and its pure-JavaScript dependencies into dist/bundle/, which bin/latchkey.js
// runs. Why: loading ~1,000 module files (typebox and kysely alone are 635) took most of the
// hub's start-up CPU and memory; a few bundled chunks load in a fraction of that. Dynamic imports
// (one per CLI command, PostgreSQL, passkeys, the demo) stay separate chunks, loaded when used.
// Native addons and the PostgreSQL driver stay ordinary dependencies.
import { build } from "esbuild";
import { readFileSync, readdirSync, rmSync } from "node:fs";
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
  // Licence texts go to *.LEGAL.txt beside each chunk: several spell their authors' names
  // outside ASCII, and one such character makes V8 hold that whole chunk as UTF-16 (twice its size).
  legalComments: "external",
  // Smaller sources parse faster and V8 keeps them in memory (~6 MiB less); names are kept, so
  // stack traces still name the functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});

// V8 keeps a script's source in memory, as Latin-1 when every character allows it and as UTF-16
// otherwise: one non-ASCII character in the 2.5 MB app chunk cost 2.5 MiB of idle RSS. esbuild
// escapes them in strings, not in regular expressions.
for (const file of readdirSync(outdir).filter((name) => name.endsWith(".js"))) {
  const text = readFileSync(`${outdir}/${file}`, "latin1");
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) {
    console.error(
      `bundle: ${file} has a non-ASCII character near ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}; ` +
        "escape it in the source (\\uXXXX), so V8 can hold the chunk as Latin-1",
    );
    process.exit(1);
  }
}
