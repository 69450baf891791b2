// The dashboard on the admin listener: one page (./dashboard/, static files shipped in the
// package, no CDN) and GET /dashboard/state, the JSON it polls. The state is a view of what the
// admin API already serves: the statuses the translator computed, the IR's backends, the file
// source's problems, and the cumulative traffic figures read from the same metrics snapshot
// /metrics exposes (no second counting path). Rates and quantiles are the browser's job: it
// differentiates two polls (./dashboard/rates.js), as Prometheus' rate() and
// histogram_quantile() would. Read-only; every reply goes through redact()/scrubSecrets()
// (admin.ts), and the state carries no certificate or key field at all.

import { readFile } from 'node:fs/promises';
import type { IR } from '../ir/types.js';
import type { ObjectStatus } from '../translate/types.js';
import type { FileProblem } from '../sources/files.js';
import { json, type AdminEndpoints, type AdminReply } from './admin.js';
import { gather, type SnapshotSource } from './metrics/endpoint.js';
import type { Snapshot } from './metrics/registry.js';

export interface DashboardSource {
  mode: 'file' | 'kubernetes';
  ir(): IR | undefined;
  statuses(): readonly ObjectStatus[];
  /** File mode: the manifest problems (file and line). */
  problems?(): readonly FileProblem[];
  /** What /metrics sums; absent or empty: the page shows configuration only. */
  metrics?(): readonly SnapshotSource[];
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** Cumulative counts for one route × backend (or L4 route × backend); the browser takes deltas. */
export interface TrafficView {
  /** `Kind/namespace/name`, or '' for requests no route matched. */
  route: string;
  backend: string;
  /** `http` requests or `l4` connections. */
  unit: 'http' | 'l4';
  total: number;
  /** 5xx answers (HTTP) or refused connections (L4). */
  errors: number;
  /** Duration histogram: per-bucket counts, not cumulative; the last slot is +Inf. */
  buckets: number[];
}

export interface DashboardState {
  mode: DashboardSource['mode'];
  time: number;
  /** The engine counts (false with --metrics off). */
  metrics: boolean;
  /** Upper bounds of the duration buckets, in seconds. */
  bounds: number[];
  gatewayClasses: { name: string; conditions: ConditionView[] }[];
  gateways: { namespace: string; name: string; conditions: ConditionView[]; listeners: { name: string; attachedRoutes: number; conditions: ConditionView[] }[] }[];
  routes: { kind: string; namespace: string; name: string; parents: { parentRef: string; conditions: ConditionView[] }[] }[];
  backends: { name: string; protocol: string; ready: number }[];
  /** As `portico run` prints them (sources/files.ts formatProblem), in fields. */
  problems: { severity: string; file: string; line: number; object: string; path: string; message: string }[];
  traffic: TrafficView[];
}

type Rec = Record<string, unknown>;

function conditions(v: unknown): ConditionView[] {
  if (!Array.isArray(v)) return [];
  return v.map((c: Rec) => ({ type: String(c.type ?? ''), status: String(c.status ?? ''), reason: String(c.reason ?? ''), message: String(c.message ?? '') }));
}

function parentRefName(p: Rec, routeNamespace: string): string {
  const ns = typeof p.namespace === 'string' ? p.namespace : routeNamespace;
  const kind = typeof p.kind === 'string' && p.kind !== 'Gateway' ? `${p.kind}/` : '';
  const section = typeof p.sectionName === 'string' ? `/${p.sectionName}` : '';
  const port = typeof p.port === 'number' ? `:${p.port}` : '';
  return `${kind}${ns}/${String(p.name ?? '')}${section}${port}`;
}

const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);

/** Gateway classes, Gateways (with listeners) and routes (per parentRef) from the translator's statuses. */
export function objectsView(statuses: readonly ObjectStatus[]): Pick<DashboardState, 'gatewayClasses' | 'gateways' | 'routes'> {
  const out: Pick<DashboardState, 'gatewayClasses' | 'gateways' | 'routes'> = { gatewayClasses: [], gateways: [], routes: [] };
  for (const s of statuses) {
    const st = s.status as Rec;
    const ns = s.namespace ?? '';
    if (s.kind === 'GatewayClass') out.gatewayClasses.push({ name: s.name, conditions: conditions(st.conditions) });
    else if (s.kind === 'Gateway') {
      const listeners = Array.isArray(st.listeners) ? (st.listeners as Rec[]) : [];
      out.gateways.push({
        namespace: ns,
        name: s.name,
        conditions: conditions(st.conditions),
        listeners: listeners.map((l) => ({ name: String(l.name ?? ''), attachedRoutes: Number(l.attachedRoutes ?? 0), conditions: conditions(l.conditions) })),
      });
    } else if (ROUTE_KINDS.has(s.kind)) {
      const parents = Array.isArray(st.parents) ? (st.parents as Rec[]) : [];
      out.routes.push({
        kind: s.kind,
        namespace: ns,
        name: s.name,
        parents: parents.map((p) => ({ parentRef: parentRefName((p.parentRef ?? {}) as Rec, ns), conditions: conditions(p.conditions) })),
      });
    }
  }
  const byName = (a: { namespace?: string; name: string }, b: { namespace?: string; name: string }) =>
    `${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.namespace ?? ''}/${b.name}`);
  out.gatewayClasses.sort(byName);
  out.gateways.sort(byName);
  out.routes.sort((a, b) => a.kind.localeCompare(b.kind) || byName(a, b));
  return out;
}

/** The families the page reads, and what each adds to a route × backend row. */
const READ: Record<string, { unit: TrafficView['unit']; add: (row: TrafficView, labels: Record<string, string>, v: number | number[]) => void }> = {
  portico_http_requests_total: {
    unit: 'http',
    add: (row, l, v) => {
      row.total += v as number;
      if (l.code?.startsWith('5')) row.errors += v as number;
    },
  },
  portico_http_request_duration_seconds: { unit: 'http', add: (row, _l, v) => addBuckets(row, v as number[]) },
  portico_l4_connections_total: { unit: 'l4', add: (row, _l, v) => (row.total += v as number) },
  portico_l4_connections_refused_total: {
    unit: 'l4',
    add: (row, _l, v) => {
      row.total += v as number;
      row.errors += v as number;
    },
  },
  portico_l4_connection_duration_seconds: { unit: 'l4', add: (row, _l, v) => addBuckets(row, v as number[]) },
};

function addBuckets(row: TrafficView, b: number[]): void {
  if (row.buckets.length === 0) row.buckets = b.map(() => 0);
  for (let i = 0; i < b.length && i < row.buckets.length; i++) row.buckets[i]! += b[i]!;
}

/** Cumulative per route × backend figures, summed over gateways, listeners, rules and codes. */
export function trafficView(snapshot: Snapshot): { traffic: TrafficView[]; bounds: number[] } {
  const rows = new Map<string, TrafficView>();
  let bounds: number[] = [];
  for (const f of snapshot) {
    const read = READ[f.name];
    if (!read) continue;
    if (f.buckets && bounds.length === 0) bounds = f.buckets;
    const idx = (n: string) => f.labelNames.indexOf(n);
    const [k, ns, n, be] = [idx('route_kind'), idx('route_namespace'), idx('route_name'), idx('backend')];
    for (const [values, v] of f.series) {
      const labels: Record<string, string> = {};
      f.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      const route = values[n] ? `${values[k]}/${values[ns]}/${values[n]}` : '';
      const backend = values[be] ?? '';
      const key = `${read.unit}\u0000${route}\u0000${backend}`;
      let row = rows.get(key);
      if (!row) rows.set(key, (row = { route, backend, unit: read.unit, total: 0, errors: 0, buckets: [] }));
      read.add(row, labels, typeof v === 'number' ? v : v.b);
    }
  }
  const traffic = [...rows.values()].sort((a, b) => a.route.localeCompare(b.route) || a.backend.localeCompare(b.backend));
  return { traffic, bounds };
}

export async function dashboardState(src: DashboardSource): Promise<DashboardState> {
  const ir = src.ir();
  const sources = src.metrics?.() ?? [];
  const snapshot = sources.length > 0 ? await gather(sources) : [];
  const { traffic, bounds } = trafficView(snapshot);
  return {
    mode: src.mode,
    time: Date.now(),
    // --metrics off: the engine registers no family, so there is no traffic to show (not zero traffic).
    metrics: snapshot.some((f) => f.name === 'portico_http_requests_total'),
    bounds,
    ...objectsView(src.statuses()),
    backends: Object.values(ir?.clusters ?? {}).map((c) => ({ name: c.name, protocol: c.protocol, ready: c.endpoints.length })),
    problems: (src.problems?.() ?? []).map((p) => ({
      severity: p.severity,
      file: p.file,
      line: p.line,
      object: p.kind ? `${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name ?? '(unnamed)'}` : '',
      path: p.path ?? '',
      message: p.message,
    })),
    traffic,
  };
}

const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/dashboard/app.js': 'app.js',
  '/dashboard/rates.js': 'rates.js',
  '/dashboard/style.css': 'style.css',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page's files, read once from beside this module (src/ or dist/: `npm run build` copies them). */
function asset(file: string): () => Promise<AdminReply> {
  let body: Promise<string> | undefined;
  return async () => {
    body ??= readFile(new URL(`./dashboard/${file}`, import.meta.url), 'utf8');
    try {
      return { body: await body, type: TYPES[file.split('.').pop()!]! };
    } catch (e) {
      body = undefined;
      return { code: 500, body: `dashboard: ${file} is missing from this build (${(e as NodeJS.ErrnoException).code}); \`npm run build\` copies src/observability/dashboard/ to dist/\n` };
    }
  };
}

/** `/` (the page), its assets, and `/dashboard/state`. */
export function dashboardEndpoints(src: DashboardSource): AdminEndpoints {
  const out: AdminEndpoints = { '/dashboard/state': async () => json(await dashboardState(src)) };
  for (const [path, file] of Object.entries(ASSETS)) out[path] = asset(file);
  return out;
}
