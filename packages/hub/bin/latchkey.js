#!/usr/bin/env node
// The `latchkey` command: runs the compiled hub in dist/ with plain Node. In a repository
// checkout, `npm run build` makes dist/; tests and scripts run the TypeScript sources instead.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/bundle/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error(
    `latchkey: the hub is not built (${fileURLToPath(main)} is missing).\n` +
      "In a repository checkout, run `npm run build` first, then run this command again.",
  );
  process.exit(1);
}
await import(main.href);
