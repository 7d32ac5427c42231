/** Prometheus text exposition for the hub's own counters (no client library needed). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();
  readonly #authFailures = new Map<string, number>();
  readonly startedAt = Date.now();
  #eventsIngested = 0;
  #eventsQuarantined = 0;
  #ingestGaps = 0;
  /** Gauges read at each scrape, registered by the parts that own them (e.g. the device gateway). */
  readonly #gauges = new Map<string, { help: string; read: () => number }>();
  readonly #labeledGauges = new Map<
    string,
    { help: string; label: string; read: () => Readonly<Record<string, number>> }
  >();

  registerGauge(name: string, help: string, read: () => number): void {
    this.#gauges.set(name, { help, read });
  }

  /** A gauge with one label, e.g. latchkey_credential_sync{state="set"}; read at each scrape. */
  registerLabeledGauge(
    name: string,
    help: string,
    label: string,
    read: () => Readonly<Record<string, number>>,
  ): void {
    this.#labeledGauges.set(name, { help, label, read });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${escapeLabel(method)}",route="${escapeLabel(route)}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const hKey = `method="${escapeLabel(method)}",route="${escapeLabel(route)}"`;
    let h = this.#latency.get(hKey);
    if (h === undefined) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(hKey, h);
    }
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.counts[i] = (h.counts[i] ?? 0) + 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  authFailure(kind: string): void {
    this.#authFailures.set(kind, (this.#authFailures.get(kind) ?? 0) + 1);
  }

  /** Lock events appended to the ledger by ingestion (implements ingest's IngestMetrics). */
  eventsIngested(n: number): void {
    this.#eventsIngested += n;
  }

  eventsQuarantined(n: number): void {
    this.#eventsQuarantined += n;
  }

  ingestGap(): void {
    this.#ingestGaps += 1;
  }

  render(gauges: Readonly<Record<string, { help: string; value: number }>>): string {
    const out: string[] = [];
    out.push("# HELP latchkey_http_requests_total HTTP requests by method, route and status.");
    out.push("# TYPE latchkey_http_requests_total counter");
    for (const [k, v] of this.#requests) out.push(`latchkey_http_requests_total{${k}} ${v}`);
    out.push("# HELP latchkey_http_request_duration_seconds HTTP request latency.");
    out.push("# TYPE latchkey_http_request_duration_seconds histogram");
    for (const [k, h] of this.#latency) {
      BUCKETS.forEach((b, i) =>
        out.push(`latchkey_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i] ?? 0}`),
      );
      out.push(`latchkey_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`latchkey_http_request_duration_seconds_sum{${k}} ${h.sum}`);
      out.push(`latchkey_http_request_duration_seconds_count{${k}} ${h.count}`);
    }
    out.push("# HELP latchkey_auth_failures_total Failed sign-in, second-factor and setup attempts.");
    out.push("# TYPE latchkey_auth_failures_total counter");
    for (const [k, v] of this.#authFailures)
      out.push(`latchkey_auth_failures_total{kind="${escapeLabel(k)}"} ${v}`);
    const counters: [string, string, number][] = [
      [
        "latchkey_events_ingested_total",
        "Lock events verified and appended to the ledger.",
        this.#eventsIngested,
      ],
      [
        "latchkey_events_quarantined_total",
        "Lock event records quarantined (bad signature, broken link, wrong lock, malformed, conflicting).",
        this.#eventsQuarantined,
      ],
      [
        "latchkey_ingest_gaps_total",
        "Batches in which a lock's events were missing (sequence gap).",
        this.#ingestGaps,
      ],
    ];
    for (const [name, help, value] of counters) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    }
    const mem = process.memoryUsage();
    const all: Record<string, { help: string; value: number }> = {
      ...gauges,
      ...Object.fromEntries([...this.#gauges].map(([n, g]) => [n, { help: g.help, value: g.read() }])),
      process_resident_memory_bytes: { help: "Resident memory.", value: mem.rss },
      nodejs_heap_used_bytes: { help: "V8 heap in use.", value: mem.heapUsed },
      latchkey_uptime_seconds: {
        help: "Seconds since the hub started.",
        value: (Date.now() - this.startedAt) / 1000,
      },
    };
    for (const [name, g] of Object.entries(all)) {
      out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
    }
    for (const [name, g] of this.#labeledGauges) {
      out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`);
      for (const [value, n] of Object.entries(g.read()))
        out.push(`${name}{${g.label}="${escapeLabel(value)}"} ${n}`);
    }
    return out.join("\n") + "\n";
  }
}
