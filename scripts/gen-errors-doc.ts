// Writes docs/errors.md from the error registry (the test in registry.test.ts keeps them equal).
import { writeFileSync } from "node:fs";
import { renderErrorsDoc } from "../packages/protocol/src/errors/registry.js";

writeFileSync(new URL("../docs/errors.md", import.meta.url), renderErrorsDoc());
console.log("wrote docs/errors.md");
