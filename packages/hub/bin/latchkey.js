#!/usr/bin/env node
// The `latchkey` command. Sources are TypeScript run through tsx's loader, so no build step is
// needed to use a fresh clone.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
