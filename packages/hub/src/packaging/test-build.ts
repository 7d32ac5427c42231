/**
 * Test and bench support: makes sure the compiled packages (packages/{protocol,lock,hub}/dist)
 * and the web app (packages/web/dist) are built and newer than their sources, building only
 * what is stale. Tests otherwise run the sources; only the packaging test and the footprint
 * bench need what `npm run build` makes.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const HUB_BIN = join(REPO_ROOT, "packages/hub/bin/latchkey.js");
const run = promisify(execFile);

/** The environment of a production process: no "@latchkey/source" condition (see vitest.config.ts). */
export function productionEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const options = (env.NODE_OPTIONS ?? "").replace(/--conditions=@latchkey\/source/g, "").trim();
  if (options === "") delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = options;
  return env;
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return path.endsWith(".test.ts") ? 0 : st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** True when `output` is missing or older than any of `inputs` (test files aside). */
function stale(output: string, inputs: string[]): boolean {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return inputs.filter((p) => existsSync(p)).some((p) => newestMtime(p) > built);
}

const TS_OUTPUTS: Record<string, string> = {
  protocol: "dist/index.js",
  lock: "dist/index.js",
  hub: "dist/bundle/main.js",
};

/** Builds what is stale; returns what it built, e.g. ["web", "ts"] or [] when all was fresh. */
export async function ensureBuilt(): Promise<string[]> {
  const built: string[] = [];
  const web = join(REPO_ROOT, "packages/web");
  const webInputs = ["src", "public", "index.html", "vite.config.ts"].map((p) => join(web, p));
  if (stale(join(web, "dist/index.html"), webInputs)) {
    // Built beside dist and swapped in, so a browser test running meanwhile never sees half an app.
    const staging = join(web, `.dist-${process.pid}`);
    try {
      await run("npx", ["vite", "build", web, "--outDir", staging, "--emptyOutDir", "--logLevel", "warn"], {
        cwd: REPO_ROOT,
        env: productionEnv(),
      });
      rmSync(join(web, "dist"), { recursive: true, force: true });
      renameSync(staging, join(web, "dist"));
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    built.push("web");
  }
  const tsStale = Object.entries(TS_OUTPUTS).some(([name, output]) => {
    const dir = join(REPO_ROOT, "packages", name);
    return stale(join(dir, output), [
      join(dir, "src"),
      join(dir, "package.json"),
      join(dir, "tsconfig.build.json"),
    ]);
  });
  if (tsStale) {
    await run("npm", ["run", "build:ts"], { cwd: REPO_ROOT, env: productionEnv(), maxBuffer: 16 << 20 });
    built.push("ts");
  }
  return built;
}
