// translate() at scale: 10,000 HTTPRoutes on 100 Gateways (plus 1,000 Services with
// EndpointSlices). Prints routes/second and peak memory. Run: npm run bench:translate
//
// Each Gateway has one HTTP listener on port 80 with its own hostname, so all 100 share one
// IR Port (the cross-Gateway conflict check runs on every listener). Each route has two
// rules with two matches each, a header match, weighted backends and a filter.
// BENCH_FROM_SRC=1 measures src/ through tsx even when dist/ is fresh.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Resource } from '../src/api/types.js';
import type { Entry, Snapshot as SnapshotClass } from '../src/store/snapshot.js';
import type { translate as translateFn } from '../src/translate/index.js';

/**
 * Measure what production runs: the tsc build in dist/ (bin/portico.js runs it) when it is at
 * least as new as src/translate and src/store. Through tsx every arrow function is wrapped to
 * keep its name, which costs this benchmark about a third more time.
 */
function distIsFresh(): boolean {
  const dist = fileURLToPath(new URL('../dist/translate/index.js', import.meta.url));
  if (!existsSync(dist) || process.env.BENCH_FROM_SRC === '1') return false;
  const built = statSync(dist).mtimeMs;
  for (const dir of ['translate', 'store']) {
    const root = fileURLToPath(new URL(`../src/${dir}/`, import.meta.url));
    for (const f of readdirSync(root)) if (f.endsWith('.ts') && statSync(root + f).mtimeMs > built) return false;
  }
  return true;
}
const fromDist = distIsFresh();
const base = fromDist ? '../dist' : '../src';
const { Snapshot } = (await import(`${base}/store/snapshot.js`)) as { Snapshot: typeof SnapshotClass };
const { translate } = (await import(`${base}/translate/index.js`)) as { translate: typeof translateFn };

const GATEWAYS = Number(process.env.GATEWAYS ?? 100);
const ROUTES = Number(process.env.ROUTES ?? 10_000);
const SERVICES = Number(process.env.SERVICES ?? 1_000);
const RUNS = Number(process.env.RUNS ?? 7);

function build(): Entry[] {
  const out: Resource[] = [];
  out.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } });
  for (let g = 0; g < GATEWAYS; g++) {
    out.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: `gw-${g}`, namespace: `team-${g % 10}` },
      spec: {
        gatewayClassName: 'portico',
        listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: `*.gw-${g}.example.com`, allowedRoutes: { namespaces: { from: 'All' } } }],
      },
    });
  }
  for (let s = 0; s < SERVICES; s++) {
    const ns = `team-${s % 10}`;
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace: ns }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `svc-${s}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      addressType: 'IPv4',
      endpoints: [0, 1, 2].map((k) => ({ addresses: [`10.${s % 250}.${Math.floor(s / 250)}.${k + 1}`], conditions: { ready: true } })),
      ports: [{ name: 'http', port: 8080 }],
    } as unknown as Resource);
  }
  for (let r = 0; r < ROUTES; r++) {
    const g = r % GATEWAYS;
    const ns = `team-${r % 10}`;
    const svc = (k: number): string => `svc-${(r * 7 + k) % SERVICES - (((r * 7 + k) % SERVICES) % 10) + (r % 10)}`;
    out.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `route-${r}`, namespace: ns, creationTimestamp: new Date(Date.UTC(2024, 0, 1) + r * 1000).toISOString() },
      spec: {
        parentRefs: [{ name: `gw-${g}`, namespace: `team-${g % 10}` }],
        hostnames: [`app-${Math.floor(r / GATEWAYS) % 20}.gw-${g}.example.com`],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: `/api/${r}` } }, { path: { type: 'Exact', value: `/v${r}` }, headers: [{ name: 'x-canary', value: 'yes' }] }],
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-route', value: String(r) }] } }],
            backendRefs: [{ name: svc(0), port: 80, weight: 90 }, { name: svc(1), port: 80, weight: 10 }],
          },
          { matches: [{ path: { type: 'PathPrefix', value: `/static/${r}` } }], backendRefs: [{ name: svc(2), port: 80 }] },
        ],
      },
    });
  }
  return out.map((resource) => ({ resource }));
}

const entries = build();
const snapshot = new Snapshot(entries);
const times: number[] = [];
let last: ReturnType<typeof translate> | undefined;
const cpu: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  last = translate(snapshot);
  times.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}
cpu.sort((a, b) => a - b);
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const accepted = last!.statuses.filter(
  (s) => s.kind === 'HTTPRoute' && (s.status as { parents: { conditions: { type: string; status: string }[] }[] }).parents.every((p) => p.conditions.some((c) => c.type === 'Accepted' && c.status === 'True')),
).length;
const vhosts = last!.ir.ports.reduce((n, p) => n + p.listeners.reduce((m, l) => m + (l.virtualHosts?.length ?? 0), 0), 0);
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(
  JSON.stringify(
    {
      code: fromDist ? 'dist/ (tsc build)' : 'src/ via tsx (slower; npm run build first for the production figure)',
      gateways: GATEWAYS,
      httpRoutes: ROUTES,
      acceptedRoutes: accepted,
      virtualHosts: vhosts,
      clusters: Object.keys(last!.ir.clusters).length,
      runs: RUNS,
      medianMs: Math.round(median * 10) / 10,
      minMs: Math.round(times[0]! * 10) / 10,
      maxMs: Math.round(times[times.length - 1]! * 10) / 10,
      routesPerSecond: Math.round(ROUTES / (median / 1000)),
      // CPU time of the process per run (includes GC helper threads); less sensitive to other load than wall time.
      medianCpuMs: Math.round(cpu[Math.floor(cpu.length / 2)]! * 10) / 10,
      peakRssMB: Math.round(maxRssMB),
      heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1024 / 1024),
      // Timings on a shared machine mean little without this: load above the core count inflates them.
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      cores: cpus().length,
    },
    null,
    2,
  ),
);
if (accepted !== ROUTES) {
  console.error(`expected every route accepted, got ${accepted}/${ROUTES}`);
  process.exitCode = 1;
}
