// Aggregation (medians over rounds, peak RSS, ratio to nginx in the same run) and output:
// the Markdown table and the JSON file whose shape other tools rely on.

import type { LoadResult } from './load.js';
import type { ProxyName, Scenario } from './scenarios.js';

export interface Sample extends LoadResult {
  rssMb: number;
  /** CPU the target's processes used per request, in microseconds (Markdown only). */
  cpuUsPerReq: number;
}

export interface Cell {
  scenario: string;
  proxy: ProxyName;
  samples: Sample[];
  /** Why there are no samples (unavailable, failed verification, load tool error). */
  note?: string;
}

/** One row of results[] in the JSON file; the field set is fixed by issue 6. */
export interface ResultRow {
  scenario: string;
  proxy: ProxyName;
  rps: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  rss_mb: number | null;
  ratio_to_nginx: number | null;
}

export interface ResultsFile {
  date: string;
  machine: string;
  results: ResultRow[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(x: number, digits: number): number | null {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function toRows(cells: Cell[]): ResultRow[] {
  const rows: ResultRow[] = cells.map((c) => {
    const ok = c.samples;
    return {
      scenario: c.scenario,
      proxy: c.proxy,
      rps: round(median(ok.map((x) => x.rps)), 0),
      p50_ms: round(median(ok.map((x) => x.p50Ms)), 3),
      p99_ms: round(median(ok.map((x) => x.p99Ms)), 3),
      rss_mb: round(Math.max(...ok.map((x) => x.rssMb)), 1),
      ratio_to_nginx: null,
    };
  });
  for (const r of rows) {
    const nginx = rows.find((x) => x.scenario === r.scenario && x.proxy === 'nginx');
    if (r.rps !== null && nginx?.rps) r.ratio_to_nginx = round(r.rps / nginx.rps, 3);
  }
  return rows;
}

function fmt(x: number | null, digits = 2): string {
  return x === null ? 'n/a' : x.toFixed(digits);
}

/** Change-to-serving times of one kind of change. */
export interface ChangeFigures {
  samples_ms: number[];
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface ControlPlaneRow {
  /** file (default): portico run on a folder; controller: portico controller (in-process data plane) on the local cluster; provisioned: the same with a data-plane pod. */
  mode?: 'file' | 'controller' | 'provisioned';
  /** Every route on a hostname of its own (--cp-hosts): a virtual host per route. */
  own_hosts?: boolean;
  routes: number;
  /** Endpoints in the EndpointSlices the routes reach. */
  endpoints: number;
  workers: number;
  /** 1-minute load average when this row started (the machine is shared). */
  load_average: number;
  startup_ms: number | null;
  route: ChangeFigures | null;
  gateway: ChangeFigures | null;
  secret: ChangeFigures | null;
  endpoint_slice: ChangeFigures | null;
  /** A route change right after an EndpointSlice change (file mode): under pod churn most route changes are. */
  route_after_endpoints?: ChangeFigures | null;
  /** Sum over Portico's processes (primary + workers) after the changes; peak over the whole row. */
  rss_mb: number | null;
  /** The same processes' proportional set size: pages they share (the Node binary's) counted once. */
  pss_mb?: number | null;
  peak_rss_mb: number | null;
  /** Provisioned mode: the data-plane pod's process (included in rss_mb and pss_mb). */
  dataplane_rss_mb?: number;
  dataplane_pss_mb?: number;
  churn?: { cycles: number; routes: number; seconds?: number; rss_before_mb: number; rss_after_mb: number; rss_samples?: { cycles: number; rss_mb: number }[]; note?: string };
  /** wrk on an unchanging route, quiet and while routes change 10 times a second (cp-churn-load.ts). */
  churn_load?: ChurnLoadResult;
  /**
   * Provisioned mode, per series (route, gateway, secret, endpointslice, route after endpointslice):
   * from the controller's informer event until the probe saw the pod serve, the issue's measure of
   * controller mode; the rows' change figures count from the start of the API write.
   */
  from_event?: Record<string, ChangeFigures>;
  /** Controller mode: the start-up burst of status writes, as the controller logged its end. */
  status_burst?: string;
  note?: string;
}

export interface ReportInput {
  file: ResultsFile;
  cells: Cell[];
  scenarios: Scenario[];
  settings: string[];
  controlPlane?: ControlPlaneRow[];
}

export function markdown(r: ReportInput): string {
  const out: string[] = [];
  out.push(`# Portico bench, ${r.file.date}`, '', `Machine: ${r.file.machine}`, '');
  for (const s of r.settings) out.push(`- ${s}`);
  out.push('');
  const head = r.file.results.find((x) => x.scenario === 'small-get' && x.proxy === 'portico');
  if (head) {
    const nginx = r.file.results.find((x) => x.scenario === 'small-get' && x.proxy === 'nginx');
    const p99 = head.p99_ms !== null && nginx?.p99_ms ? ` (p99 ${(head.p99_ms / nginx.p99_ms).toFixed(2)}x nginx's)` : '';
    out.push(`**Headline: small-get, Portico = ${fmt(head.ratio_to_nginx)}x nginx's throughput${p99}.**`, '');
  }
  out.push('## Data plane', '');
  out.push('| scenario | proxy | req/s | ratio to nginx | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | errors | note |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const row of r.file.results) {
    const cell = r.cells.find((c) => c.scenario === row.scenario && c.proxy === row.proxy);
    const errors = cell ? cell.samples.reduce((n, x) => n + x.errors, 0) : 0;
    const cpu = cell && cell.samples.length ? median(cell.samples.map((x) => x.cpuUsPerReq)) : null;
    const name = row.proxy === 'portico' ? '**portico**' : row.proxy;
    const ratio = row.proxy === 'portico' ? `**${fmt(row.ratio_to_nginx)}**` : fmt(row.ratio_to_nginx);
    out.push(
      `| ${row.scenario} | ${name} | ${fmt(row.rps, 0)} | ${ratio} | ${fmt(row.p50_ms)} | ${fmt(row.p99_ms)} | ${fmt(row.rss_mb, 1)} | ${fmt(cpu, 1)} | ${errors} | ${(cell?.note ?? '').replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 160)} |`,
    );
  }
  out.push('', 'Scenarios:', '');
  for (const s of r.scenarios) out.push(`- \`${s.name}\`: ${s.title}`);
  if (r.controlPlane) out.push(...controlPlaneMarkdown(r.controlPlane));
  out.push('');
  return out.join('\n');
}

import type { ChurnLoadResult } from './cp-churn-load.js';

export function controlPlaneMarkdown(rows: readonly ControlPlaneRow[]): string[] {
  const out = ['', '## Control plane (Portico, file mode and controller mode)', ''];
  out.push(
    'Time from a manifest change (file renamed into the watched folder) until the data plane serves it, polled every ~2 ms: a new HTTPRoute answers, the Gateway listener moved to another port answers, the HTTPS listener presents the rotated Secret, an EndpointSlice\'s endpoint moved between a live and a closed port shows in the status. Next to N routes and N*10 endpoints. RSS sums every Portico process (primary + workers); PSS counts the pages they share (the Node binary) once. Controller mode: the same objects written to the local API server, timed from the write until served (bench/README.md).',
    '',
  );
  const f = (c: ChangeFigures | null) => (c ? `${fmt(c.p50_ms, 0)} / ${fmt(c.p99_ms, 0)}` : 'n/a');
  out.push('| mode | routes | endpoints | workers | load avg | start to serving ms | route p50/p99 ms | Gateway p50/p99 ms | Secret p50/p99 ms | EndpointSlice p50/p99 ms | route after EndpointSlice p50/p99 ms | RSS MiB | PSS MiB | peak RSS MiB | note |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const c of rows) {
    out.push(
      `| ${c.mode ?? 'file'}${c.own_hosts ? ', a hostname per route' : ''} | ${c.routes} | ${c.endpoints} | ${c.workers} | ${fmt(c.load_average, 1)} | ${fmt(c.startup_ms, 0)} | ${f(c.route)} | ${f(c.gateway)} | ${f(c.secret)} | ${f(c.endpoint_slice)} | ${f(c.route_after_endpoints ?? null)} | ${fmt(c.rss_mb, 1)} | ${fmt(c.pss_mb ?? null, 1)} | ${fmt(c.peak_rss_mb, 1)} | ${(c.note ?? '').replace(/\|/g, '/').slice(0, 160)} |`,
    );
  }
  for (const c of rows) {
    if (!c.from_event) continue;
    const parts = Object.entries(c.from_event).map(([what, x]) => `${what} ${f(x)}`);
    out.push('', `Provisioned at ${c.routes} routes, from the informer event until the pod serves (p50 / p99 ms): ${parts.join(', ')}.`);
  }
  for (const c of rows) {
    if (!c.churn) continue;
    const pct = ((c.churn.rss_after_mb / c.churn.rss_before_mb - 1) * 100).toFixed(1);
    const took = c.churn.seconds !== undefined ? ` in ${c.churn.seconds.toFixed(0)} s` : '';
    const along = c.churn.rss_samples?.length ? ` Along the way (cycles: MiB): ${c.churn.rss_samples.map((x) => `${x.cycles}: ${x.rss_mb.toFixed(0)}`).join(', ')}.` : '';
    out.push('', `Churn at ${c.routes} routes: ${c.churn.cycles} cycles of adding and deleting ${c.churn.routes} routes${took}; RSS ${c.churn.rss_before_mb.toFixed(1)} MiB before, ${c.churn.rss_after_mb.toFixed(1)} MiB after (${pct}%).${along}${c.churn.note ? ` ${c.churn.note}` : ''}`);
  }
  for (const c of rows) {
    const l = c.churn_load;
    if (!l) continue;
    out.push(
      '',
      `Churn under load at ${c.routes} routes (wrk -c50 on an unchanging route, ${l.seconds} s each): quiet p99 ${l.quiet.p99Ms.toFixed(2)} ms, ${l.quiet.errors} errors; while ${l.changes} route changes were written (10/s): p99 ${l.churn.p99Ms.toFixed(2)} ms (${(l.churn.p99Ms / l.quiet.p99Ms).toFixed(2)}x), ${l.churn.errors} errors.`,
    );
  }
  return out;
}
