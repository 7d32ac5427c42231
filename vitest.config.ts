import { defineConfig } from "vitest/config";
import { SummaryLineReporter } from "./scripts/vitest-summary-reporter.js";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new SummaryLineReporter()],
  },
});
