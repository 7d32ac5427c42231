// `npm run bench [-- --quick] [-- --only <text>]`: runs every packages/*/bench/*.bench.ts suite,
// prints one table and writes bench/results/latest.json with the machine it ran on.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BenchResult, BenchSuite } from "./harness.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onlyIdx = args.indexOf("--only");
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;

const root = new URL("..", import.meta.url).pathname;
// Suites run the sources; so do the processes they start with `node --import tsx`.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --conditions=@latchkey/source`.trim();
const suiteFiles: string[] = [];
for (const pkg of readdirSync(join(root, "packages"))) {
  const dir = join(root, "packages", pkg, "bench");
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith(".bench.ts")) suiteFiles.push(join(dir, f));
}
// Whole-hub suites that belong to no one package (e.g. footprint.bench.ts) live in bench/.
for (const f of readdirSync(join(root, "bench")).sort())
  if (f.endsWith(".bench.ts")) suiteFiles.push(join(root, "bench", f));

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
};
console.log(
  `Latchkey bench (${quick ? "quick" : "full"}) on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`,
);

const all: (BenchResult & { suite: string })[] = [];
const started = performance.now();
for (const file of suiteFiles) {
  const suite = ((await import(pathToFileURL(file).href)) as { default: BenchSuite }).default;
  if (only !== undefined && !suite.name.includes(only)) continue;
  const tmpDir = mkdtempSync(join(tmpdir(), "latchkey-bench-"));
  console.log(`\n▶ ${suite.name}`);
  const t0 = performance.now();
  try {
    const results = await suite.run({ quick, tmpDir, log: (line) => console.log(`  ${line}`) });
    for (const r of results) all.push({ suite: suite.name, ...r });
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

const fmt = (n: number | null): string =>
  n === null ? "—" : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
console.log("\n| benchmark | median | p99 | unit | reference | ratio |\n|---|---|---|---|---|---|");
for (const r of all) {
  const ref = r.reference ? `${r.reference.name}: ${fmt(r.reference.median)} ${r.reference.unit}` : "—";
  console.log(`| ${r.name} | ${fmt(r.median)} | ${fmt(r.p99)} | ${r.unit} | ${ref} | ${fmt(r.ratio)} |`);
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);

mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(
  join(root, "bench", "results", "latest.json"),
  JSON.stringify({ date: new Date().toISOString(), quick, machine, results: all }, null, 2) + "\n",
);
console.log("wrote bench/results/latest.json");
