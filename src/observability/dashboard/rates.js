// Rates, error ratios and latency quantiles from two polls of /dashboard/state, whose traffic
// rows carry cumulative counters and histogram buckets read from the metrics registry. The same
// arithmetic as Prometheus' rate() and histogram_quantile(): differences of counters over the
// window (a counter that went down means the process restarted: the newer value is the delta),
// and a quantile interpolated linearly inside its bucket. Plain ES module: the browser loads it,
// and test/observability/dashboard.test.ts imports it.

/** Sums traffic rows by `keyOf(row)` (rows for which it returns null are skipped). */
export function group(rows, keyOf) {
  const out = new Map();
  for (const r of rows) {
    const key = keyOf(r);
    if (key === null || key === undefined) continue;
    let g = out.get(key);
    if (!g) out.set(key, (g = { unit: r.unit, total: 0, errors: 0, buckets: [] }));
    g.total += r.total;
    g.errors += r.errors;
    while (g.buckets.length < r.buckets.length) g.buckets.push(0);
    r.buckets.forEach((n, i) => (g.buckets[i] += n));
  }
  return out;
}

/** The q-quantile (0..1) of a histogram: `counts` per bucket (not cumulative; the last is +Inf). NaN when empty. */
export function quantile(q, bounds, counts) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (below + n >= rank && n > 0) {
      // Past the last finite bound nothing is known: histogram_quantile answers that bound too.
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return bounds[bounds.length - 1];
}

function diff(newer, older) {
  // A counter below its earlier value: the process (or a worker's figures) started over.
  if (!older || newer.total < older.total) return newer;
  return {
    unit: newer.unit,
    total: newer.total - older.total,
    errors: newer.errors - older.errors,
    buckets: newer.buckets.map((n, i) => n - (older.buckets[i] ?? 0)),
  };
}

const seriesKey = (r) => `${r.unit}\u0000${r.route}\u0000${r.backend}`;

/**
 * Per group over the window between two states: `rate` (per second), `errorRatio` (0..1, NaN
 * without traffic), `p50` and `p99` in seconds (NaN without observations). Each series (route ×
 * backend row) is differenced first and the differences summed, as sum(rate(...)) does: a
 * restart of one series must not hide another's increase.
 */
export function figures(older, newer, keyOf) {
  const seconds = (newer.time - older.time) / 1000;
  const before = new Map(older.traffic.map((r) => [seriesKey(r), r]));
  const deltas = newer.traffic.map((r) => ({ ...diff(r, before.get(seriesKey(r))), route: r.route, backend: r.backend }));
  const out = new Map();
  for (const [key, d] of group(deltas, keyOf)) {
    out.set(key, {
      unit: d.unit,
      rate: seconds > 0 ? d.total / seconds : NaN,
      errorRatio: d.total > 0 ? d.errors / d.total : NaN,
      p50: quantile(0.5, newer.bounds, d.buckets),
      p99: quantile(0.99, newer.bounds, d.buckets),
    });
  }
  return out;
}
