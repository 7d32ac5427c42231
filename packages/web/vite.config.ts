/**
 * Builds the browser app into packages/web/dist, which the hub serves at `/`.
 * Relative asset paths (`base: "./"`) keep it working behind a reverse-proxy prefix; no inline
 * scripts or styles are emitted, so the hub's Content-Security-Policy can forbid them.
 */
import { fileURLToPath } from "node:url";
import { defaultClientConditions, defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  plugins: [react()],
  // Bundle workspace packages (@latchkey/protocol) from their sources, not their compiled dist/.
  resolve: { conditions: ["@latchkey/source", ...defaultClientConditions] },
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
