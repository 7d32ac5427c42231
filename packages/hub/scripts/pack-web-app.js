// `prepack` of @latchkey/hub: a tarball must carry the compiled hub and the built web app, which
// lives in another workspace (packages/web/dist), so it is copied into the package as web-app/.
import { cpSync, existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const hub = fileURLToPath(new URL("..", import.meta.url));
const webBuild = fileURLToPath(new URL("../../web/dist/", import.meta.url));
const missing = [`${hub}dist/bundle/main.js`, `${webBuild}index.html`].filter((f) => !existsSync(f));
if (missing.length > 0) {
  console.error(`pack: missing ${missing.join(", ")}; run \`npm run build\` at the repository root first`);
  process.exit(1);
}
rmSync(`${hub}web-app`, { recursive: true, force: true });
cpSync(webBuild, `${hub}web-app`, { recursive: true });
