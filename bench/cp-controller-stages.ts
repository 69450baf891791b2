// Where one controller-mode change spends its time, in one process: `portico controller
// --dataplane in-process`'s path (informer event -> ControllerLoop: Snapshot, relevance,
// incremental translate, in-process engine apply, statuses -> status writer) on the objects
// bench/lib/cp-controller.ts writes to the cluster, with this script playing the API server:
// objects enter through KubernetesSource.observe() as the informers hand them over, and a status
// write is answered and echoed back through the "watch" 1 ms later, as the API server does.
// Composed as src/controller/index.ts composes it for the in-process data plane (Ingress serving
// on, metrics wrapper, Ingress status releaser). Prints per change kind the median and worst of:
// the whole change (event to engine.apply resolved), translate, apply, the rest (debounce, Snapshot,
// relevance), and setDesired (after the apply: not part of the change's time, but of the CPU between changes).
//
//   node --import tsx bench/cp-controller-stages.ts [routes=10000] [changes=10] [route,gateway,secret,endpointslice]
//
// Through tsx (src/), somewhat slower than the tsc build the bench runs; compare runs of this script.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KubeConfig } from '../src/sources/kubeconfig.js';
import { GROUP_OF, type KindName } from '../src/api/names.js';
import type { Resource } from '../src/api/types.js';
import { KubernetesSource, type ServedKind } from '../src/sources/kubernetes.js';
import { ControllerLoop } from '../src/controller/loop.js';
import { StatusWriter } from '../src/controller/status-writer.js';
import { stampGoodApplies } from '../src/controller/metrics.js';
import { stableMachineAddressUsable } from '../src/controller/addresses.js';
import { ingressReleaser } from '../src/controller/ingress-status.js';
import { ControlPlaneMetrics } from '../src/observability/metrics/controlplane.js';
import { incrementalTranslate } from '../src/translate/incremental.js';
import { translate } from '../src/translate/index.js';
import { serveIngresses } from '../src/convert/serve.js';
import { ingressServeOptions } from '../src/cli/ingress-flags.js';
import { createEngine } from '../src/dataplane/engine.js';
import { ensureCert } from './lib/certs.js';
import { secondCert } from './lib/control-plane.js';
import { cpAddedRoute, cpEndpoints, cpGateway, cpRoutes, cpSecret, EPS_PROBE_PATH, type CpPorts } from './lib/cp-manifests.js';
import { epsProbe, into, type Doc } from './lib/cp-controller.js';
import { httpRoute } from './lib/manifests.js';

const routes = Number(process.argv[2] ?? 10_000);
const changes = Number(process.argv[3] ?? 10);
const kinds = (process.argv[4] ?? 'route,gateway,secret,endpointslice').split(',');
const ns = 'bench-cp-replay';
const cls = 'bench-cp-replay';
const controllerName = `portico.dev/${cls}`;
const p: CpPorts = { http: 33020, https: 33021, moved: [33022, 33023], backend: 33100, closed: 33101 };
const certDir = mkdtempSync(join(tmpdir(), 'portico-cp-controller-stages-'));
const certs = [await ensureCert(certDir), await secondCert(certDir)];

const servedOf = (kind: KindName): ServedKind => ({ kind, group: GROUP_OF[kind], version: 'v1', plural: `${kind.toLowerCase()}s` });

/** The API server's part: uid, resourceVersion, generation (bumped when anything but status changes), creationTimestamp. */
let rv = 1;
const stored = new Map<string, Resource>();
const keyFor = (d: { kind: string; metadata: { namespace?: string; name: string } }) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;
function persist(d: Doc): Resource {
  const before = stored.get(keyFor(d));
  const o = structuredClone(d) as unknown as Resource;
  o.metadata = {
    ...o.metadata,
    uid: before?.metadata.uid ?? randomUUID(),
    resourceVersion: String(++rv),
    generation: (before?.metadata.generation ?? 0) + 1,
    creationTimestamp: before?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  if (before?.status) o.status = before.status;
  stored.set(keyFor(d), o);
  return o;
}

class ReplaySource extends KubernetesSource {
  override async start(): Promise<void> {}
  override served(kind: KindName): ServedKind | undefined {
    return servedOf(kind);
  }
  override get synced(): boolean {
    return true;
  }
}
const kc = new KubeConfig();
kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:9', skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
const source = new ReplaySource({ kubeConfig: kc, statusUnread: new Set((Object.keys(GROUP_OF) as KindName[]).filter((k) => GROUP_OF[k].startsWith('gateway.networking'))) });
const write = (d: Doc) => {
  const o = persist(d);
  source.observe('update', servedOf(o.kind as KindName), structuredClone(o) as never);
};
// Status writes: PUT .../status answered with the stored object, then echoed by the watch.
Object.defineProperty(source, 'client', {
  value: {
    json: async (method: string, _path: string, o?: { body?: Resource }) => {
      if (method !== 'PUT' || !o?.body) throw new Error(`replay: ${method} not played`);
      const cur = stored.get(keyFor(o.body))!;
      const next = { ...cur, status: structuredClone(o.body.status), metadata: { ...cur.metadata, resourceVersion: String(++rv) } } as Resource;
      stored.set(keyFor(o.body), next);
      setTimeout(() => source.observe('update', servedOf(next.kind as KindName), structuredClone(next) as never), 1);
      return structuredClone(next);
    },
  },
});

const docs: Doc[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: cls }, spec: { controllerName } },
  ...into(cpSecret(certs[0]!.certPem, certs[0]!.keyPem), ns, cls),
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend-a', namespace: ns }, spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ name: 'http', port: p.backend, protocol: 'TCP' }] } },
  ...into(cpEndpoints(routes), ns, cls),
  ...into(cpRoutes(routes, p.backend), ns, cls),
  ...epsProbe(ns, false, p.closed),
  ...into([httpRoute('eps-probe', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: EPS_PROBE_PATH } }], backendRefs: [{ name: 'backend-eps', port: 80 }] }] })], ns, cls),
  ...into(cpGateway(p, 0), ns, cls),
];
for (const d of docs) {
  const o = persist(d);
  source.observe('add', servedOf(o.kind as KindName), structuredClone(o) as never);
}

// As src/controller/index.ts composes the in-process controller.
const writer = new StatusWriter({ store: source, controllerName });
writer.setEnabled(true);
const cp = new ControlPlaneMetrics();
const engine = createEngine({});
const timing = { translate: 0, apply: 0, setDesired: 0 };
const timed = <A extends unknown[], R>(what: keyof typeof timing, fn: (...a: A) => R) => (...a: A): R => {
  const t = performance.now();
  try {
    return fn(...a);
  } finally {
    timing[what] += performance.now() - t;
  }
};
let applied: (() => void) | undefined;
const stamped = stampGoodApplies(engine, cp);
const inc = incrementalTranslate(translate);
const loop = new ControllerLoop({
  source,
  engine: {
    ...stamped,
    apply: async (ir) => {
      const t = performance.now();
      const r = await stamped.apply(ir);
      timing.apply += performance.now() - t;
      applied?.();
      return r;
    },
  },
  translate: timed('translate', cp.wrapTranslate(serveIngresses(inc, ingressServeOptions({})!))),
  writer,
  controllerName,
  addressFor: () => '0.0.0.0',
  addressUsable: stableMachineAddressUsable(),
  sessionSeed: () => 'replay',
  extendStatuses: ingressReleaser(undefined),
  log: () => {},
});
const origSetDesired = writer.setDesired.bind(writer);
writer.setDesired = timed('setDesired', origSetDesired);

let t0 = performance.now();
await loop.start();
await writer.idle();
console.log(`start: ${(performance.now() - t0).toFixed(0)} ms for ${source.entries().length} objects; ${writer.stats.writes} statuses written`);
await new Promise((r) => setTimeout(r, 500));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const worst = (xs: number[]) => Math.max(...xs);
for (const kind of kinds) {
  const rows: Record<string, number[]> = { total: [], translate: [], apply: [], setDesired: [], rest: [] };
  for (let k = 1; k <= changes; k++) {
    const change = () => {
      if (kind === 'route') write(into([cpAddedRoute(`added-${k}`, `/added-${k}`, p.backend)], ns, cls)[0]!);
      else if (kind === 'gateway') write(into(cpGateway(p, (k % 2) as 0 | 1), ns, cls)[0]!);
      else if (kind === 'secret') write(into(cpSecret(certs[k % 2]!.certPem, certs[k % 2]!.keyPem), ns, cls)[0]!);
      else write(epsProbe(ns, k % 2 === 1, p.closed)[1]!);
    };
    for (const key of Object.keys(timing) as (keyof typeof timing)[]) timing[key] = 0;
    const done = new Promise<void>((r) => (applied = r));
    t0 = performance.now();
    change();
    await done;
    const total = performance.now() - t0;
    applied = undefined;
    rows.total!.push(total);
    rows.translate!.push(timing.translate);
    rows.apply!.push(timing.apply);
    rows.rest!.push(total - timing.translate - timing.apply);
    await new Promise((r) => setTimeout(r, 200));
    await writer.idle();
    // after serving, before the next change: the statuses handed to the writer
    rows.setDesired!.push(timing.setDesired);
  }
  console.log(`${kind} change at ${routes} routes, ms (median / worst of ${changes}): ` + Object.entries(rows).map(([s, xs]) => `${s} ${median(xs).toFixed(1)} / ${worst(xs).toFixed(1)}`).join(', '));
}
console.log(`incremental translation: ${JSON.stringify(inc.stats)}; loop ${JSON.stringify(loop.stats)}; writer ${JSON.stringify(writer.stats)}`);
await loop.stop();
writer.stop();
await engine.close(0);
rmSync(certDir, { recursive: true, force: true });
