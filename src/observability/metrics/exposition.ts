// Snapshots -> Prometheus text exposition format 0.0.4, and the sum of several snapshots
// (the workers of one process, plus the totals of workers that died: counters stay monotonic).

import type { FamilySnapshot, SeriesValue, Snapshot } from './registry.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function num(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x);
}

function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** The text format. Families sorted by name, series by label values, so the output is stable. */
export function expose(snap: Snapshot): string {
  const out: string[] = [];
  for (const f of [...snap].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    out.push(`# HELP ${f.name} ${escHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const series = [...f.series].sort((a, b) => cmp(a[0], b[0]));
    for (const [labels, v] of series) {
      if (typeof v === 'number') {
        out.push(`${f.name}${labelText(f.labelNames, labels)} ${num(v)}`);
        continue;
      }
      const bounds = f.buckets ?? [];
      const base = f.name;
      let cum = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cum += v.b[i] ?? 0;
        const le = i < bounds.length ? num(bounds[i]!) : '+Inf';
        out.push(`${base}_bucket${labelText(f.labelNames, labels, `le="${le}"`)} ${cum}`);
      }
      out.push(`${base}_sum${labelText(f.labelNames, labels)} ${num(v.sum)}`);
      out.push(`${base}_count${labelText(f.labelNames, labels)} ${v.count}`);
    }
  }
  return out.join('\n') + '\n';
}

function cmp(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Sums snapshots family by family, series by series. Gauges are summed too (active
 * connections of every worker add up); pass `countersOnly` to keep only counters and
 * histograms (what a dead worker leaves behind).
 */
export function merge(snaps: Snapshot[], countersOnly = false): Snapshot {
  const fams = new Map<string, { f: FamilySnapshot; idx: Map<string, [string[], SeriesValue]> }>();
  for (const snap of snaps) {
    for (const f of snap) {
      if (countersOnly && f.type === 'gauge') continue;
      let m = fams.get(f.name);
      if (!m) {
        m = { f: { ...f, series: [] }, idx: new Map() };
        fams.set(f.name, m);
      }
      for (const [labels, v] of f.series) {
        const key = labels.join('\u0000');
        const cur = m.idx.get(key);
        if (!cur) {
          const copy: [string[], SeriesValue] = [labels, typeof v === 'number' ? v : { b: [...v.b], sum: v.sum, count: v.count }];
          m.idx.set(key, copy);
          m.f.series.push(copy);
        } else if (typeof v === 'number') {
          cur[1] = f.agg === 'max' ? Math.max(cur[1] as number, v) : (cur[1] as number) + v;
        } else {
          const c = cur[1] as { b: number[]; sum: number; count: number };
          for (let i = 0; i < v.b.length; i++) c.b[i] = (c.b[i] ?? 0) + v.b[i]!;
          c.sum += v.sum;
          c.count += v.count;
        }
      }
    }
  }
  return [...fams.values()].map((m) => m.f);
}
