import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";
import { SummaryLineReporter } from "./scripts/vitest-summary-reporter.js";

// Tests run the TypeScript sources: workspace packages resolve through their "@latchkey/source"
// export condition, never through a dist/ that may be stale or not built. Child processes started
// with `node --import tsx` get the same condition through NODE_OPTIONS.
const SOURCE_CONDITION = "@latchkey/source";

export default defineConfig({
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
  test: {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --conditions=${SOURCE_CONDITION}`.trim() },
    include: ["packages/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // expect.poll waits up to 1 s by default: too little for a browser or a lock on a busy
    // two-core CI machine. Polls still end as soon as they succeed.
    expect: { poll: { timeout: 15_000, interval: 100 } },
    reporters: ["default", new SummaryLineReporter()],
  },
});
