import { defineConfig } from "vitest/config";
import { SummaryLineReporter } from "./scripts/vitest-summary-reporter.js";

export default defineConfig({
  test: {
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
