/**
 * Shared benchmark helpers. Each area keeps its benchmarks in `packages/<pkg>/bench/*.bench.ts`,
 * exporting `default` as a `BenchSuite`. `npm run bench` runs them all (`--quick` for a < 60 s
 * run, `--only <text>` to filter suites by name) and writes bench/results/latest.json.
 */
export interface BenchResult {
  /** What was measured, e.g. "access decision latency (1,000 users / 5,000 credentials)". */
  readonly name: string;
  /** Unit of median and p99, e.g. "µs", "ms", "events/s", "MiB". */
  readonly unit: string;
  readonly median: number;
  readonly p99: number | null;
  /** The reference measured in the same run, e.g. "node:crypto Ed25519 verify", with its value. */
  readonly reference: { readonly name: string; readonly median: number; readonly unit: string } | null;
  /** median / reference.median (or its inverse for rates, as stated in name); null without reference. */
  readonly ratio: number | null;
}

export interface BenchContext {
  readonly quick: boolean;
  /** A fresh temporary directory for this suite, removed afterwards. */
  readonly tmpDir: string;
  log(line: string): void;
}

export interface BenchSuite {
  readonly name: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

export function summarize(samples: readonly number[]): { median: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Time `fn` once per sample (after `warmup` unmeasured calls); returns samples in microseconds. */
export function sampleMicros(fn: () => void, samples: number, warmup = Math.min(100, samples)): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = new Array<number>(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return out;
}

/** Async variant of sampleMicros. */
export async function sampleMicrosAsync(
  fn: () => Promise<void>,
  samples: number,
  warmup = 10,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = new Array<number>(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return out;
}

/**
 * Operations per second of `fn` (which performs `opsPerCall` operations), measured over `rounds`
 * rounds of at least `minMillis` each; returns the per-round rates so a median can be quoted.
 */
export function rateRounds(fn: () => void, opsPerCall: number, rounds: number, minMillis: number): number[] {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      fn();
      ops += opsPerCall;
      elapsed = performance.now() - t0;
    } while (elapsed < minMillis);
    rates.push((ops * 1000) / elapsed);
  }
  return rates;
}

export function median(values: readonly number[]): number {
  return summarize(values).median;
}
