// A small Prometheus registry: counters, gauges and histograms with label children resolved
// once (at apply time, by the engine) and incremented as plain fields on the hot path.
// No per-request label lookups or string building: a child is a tiny object whose fields the
// caller bumps (`cell.v++`, `observe(h, seconds)`). Snapshots are plain JSON so a cluster
// primary can ask its workers for theirs and sum them (./aggregate.ts); exposition.ts turns a
// snapshot into the text format (0.0.4).

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Request/connection durations in seconds: 0.5 ms to 30 s, suited to a proxy. */
export const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Control-plane work (translate, apply) in seconds: 1 ms to 60 s. */
export const WORK_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A counter or gauge child: bump `v`. */
export interface Cell {
  v: number;
}

/** A histogram child: per-bucket counts (not cumulative; the last slot is +Inf), sum and count. */
export interface HistCell {
  b: Float64Array;
  sum: number;
  count: number;
  readonly bounds: readonly number[];
}

/** Adds one observation. A short linear scan over ~15 bounds: no allocation. */
export function observe(h: HistCell, x: number): void {
  const bounds = h.bounds;
  const n = bounds.length;
  let i = 0;
  while (i < n && x > bounds[i]!) i++;
  h.b[i]!++;
  h.sum += x;
  h.count++;
}

/** One series in a snapshot: label values in the family's labelNames order, then the value. */
export type SeriesValue = number | { b: number[]; sum: number; count: number };
export interface FamilySnapshot {
  name: string;
  help: string;
  type: MetricType;
  labelNames: string[];
  buckets?: number[];
  /** How a gauge combines across worker processes: summed (default), or the largest value. */
  agg?: 'sum' | 'max';
  series: [string[], SeriesValue][];
}
export type Snapshot = FamilySnapshot[];

const SEP = '\u0000';

export class Family<C extends Cell | HistCell = Cell | HistCell> {
  private readonly children = new Map<string, { labels: string[]; cell: C }>();
  /** Called before a snapshot: gauges computed on demand (pool use, ready endpoints). */
  collect: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
    readonly buckets?: readonly number[],
    readonly agg: 'sum' | 'max' = 'sum',
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`metric name ${name}`);
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    for (const l of labelNames) if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l) || l.startsWith('__') || l === 'le') throw new Error(`label ${l}`);
  }

  /** The child for these label values (created once, then the same object). Not for the hot path. */
  child(values: readonly string[] = []): C {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: ${values.length} label values for ${this.labelNames.length} labels`);
    const key = values.join(SEP);
    let c = this.children.get(key);
    if (!c) {
      const cell = (this.type === 'histogram' ? { b: new Float64Array(this.buckets!.length + 1), sum: 0, count: 0, bounds: this.buckets! } : { v: 0 }) as C;
      c = { labels: [...values], cell };
      this.children.set(key, c);
    }
    return c.cell;
  }

  /** Drops every child (gauges recomputed by `collect`). Counters are never reset. */
  reset(): void {
    this.children.clear();
  }

  snapshot(): FamilySnapshot {
    this.collect?.();
    const series: [string[], SeriesValue][] = [];
    // Counters and histograms that never moved are left out: every route x backend has cells for
    // retries, timeouts, mirrors..., and most of them stay at zero. Gauges are always shown.
    const gauge = this.type === 'gauge';
    for (const { labels, cell } of this.children.values()) {
      if ('v' in cell) {
        if (gauge || cell.v !== 0) series.push([labels, cell.v]);
      } else if (cell.count !== 0) series.push([labels, { b: Array.from(cell.b), sum: cell.sum, count: cell.count }]);
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      labelNames: [...this.labelNames],
      ...(this.buckets ? { buckets: [...this.buckets] } : {}),
      ...(this.agg === 'max' ? { agg: 'max' as const } : {}),
      series,
    };
  }
}

export class Registry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Family<Cell> {
    return this.add(new Family<Cell>(name, help, 'counter', labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = [], agg: 'sum' | 'max' = 'sum'): Family<Cell> {
    return this.add(new Family<Cell>(name, help, 'gauge', labelNames, undefined, agg));
  }
  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = DURATION_BUCKETS): Family<HistCell> {
    return this.add(new Family<HistCell>(name, help, 'histogram', labelNames, buckets));
  }

  private add<F extends Family>(f: F): F {
    const prev = this.families.get(f.name);
    if (prev) {
      if (prev.type !== f.type || prev.labelNames.join() !== f.labelNames.join()) throw new Error(`metric ${f.name} registered twice, differently`);
      return prev as F;
    }
    this.families.set(f.name, f);
    return f;
  }

  get(name: string): Family | undefined {
    return this.families.get(name);
  }

  snapshot(): Snapshot {
    return [...this.families.values()].map((f) => f.snapshot());
  }
}
