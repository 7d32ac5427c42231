/**
 * Runs `latchkey verify` once in a fresh process for the evidence bench and writes what it cost:
 * wall time of the command (read, verify, report) and the process's peak resident memory.
 * Usage: node --import tsx evidence-verify-child.ts RESULT.json BUNDLE [verify options…]
 */
import { writeFileSync } from "node:fs";
import verify from "../src/cli/verify.js";

const [out, ...args] = process.argv.slice(2);
if (out === undefined || args.length === 0)
  throw new Error("usage: evidence-verify-child RESULT.json BUNDLE [options]");
const t0 = performance.now();
const exitCode = await verify.run(args);
const ms = performance.now() - t0;
// maxRSS is in KiB (getrusage).
writeFileSync(out, JSON.stringify({ exitCode, ms, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
