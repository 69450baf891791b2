// Where one control-plane change spends its time, stage by stage, in one process: the file-mode
// path of `portico run --workers N` (file load -> Snapshot -> incremental translate -> status
// summary -> IR delta encode -> IPC JSON framing -> worker decode -> worker routers) replayed
// on the control-plane bench's manifest set (bench/lib/cp-manifests.ts). Prints the median of
// each stage over the changes. What bench/results/2026-12-01-control-plane.md ("Second pass")
// reports as the in-process profile.
//
//   node --import tsx bench/cp-stages.ts [routes=10000] [changes=10] [route|gateway|secret|service|service-port|eps-route|grant|ca|session|route-after-full] [hosts]
//
// service: an annotation on a referenced Service (what translate() does not read); service-port: a
// port added to and taken from a referenced Service (what it reads); eps-route: an
// EndpointSlice change, then a route change, alternately (the route change after the slice change);
// grant: a ReferenceGrant that lets one route reach a Service in another namespace, given and
// taken back. ca: the CA bundle of a BackendTLSPolicy on one Service (10 routes' backend) rotated
// in its ConfigMap, one certificate and two in turn. session: the session persistence of an
// XBackendTrafficPolicy on the same Service renamed (its 10 routes carry it).
// route-after-full: route changes after a second full translate (another session seed).
// hosts: each route on a hostname of its own (10,000 virtual hosts on one listener).
//
// Through tsx (src/) every stage is somewhat slower than the tsc build portico runs; compare runs
// of this script with each other, not with the bench.

import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { FileLoader } from '../src/sources/files.js';
import { Snapshot } from '../src/store/snapshot.js';
import { translate } from '../src/translate/index.js';
import { incrementalTranslate } from '../src/translate/incremental.js';
import { DeltaDecoder, DeltaEncoder } from '../src/dataplane/ir-delta.js';
import { RuntimeConfig } from '../src/dataplane/config.js';
import { DataplaneMetrics } from '../src/observability/metrics/dataplane.js';
import { RunSummary } from '../src/cli/report.js';
import { cpAddedRoute, cpEpsProbe, cpGateway, cpSecret } from './lib/cp-manifests.js';
import { stageFolder } from './lib/cp-stage-folder.js';

const routes = Number(process.argv[2] ?? 10_000);
const changes = Number(process.argv[3] ?? 10);
const kind = process.argv[4] ?? 'route';
/** `hosts`: every route on a hostname of its own (one virtual host per route), not all on one. */
const ownHosts = process.argv[5] === 'hosts';
const folder = await stageFolder('cp-stages', routes, ownHosts);
const { dir, p, certs, put } = folder;

const loader = new FileLoader([dir]);
const inc = incrementalTranslate(translate);
const encoder = new DeltaEncoder();
const decoder = new DeltaDecoder();
const metrics = new DataplaneMetrics();
let options = { addressFor: () => '0.0.0.0', addressUsable: () => true, sessionSeed: 'cp-stages' };

/** The route and Service of the grant changes, in place before the first load; the grant itself is what changes. */
const GRANTS_NS = 'grants';
const grant = (allow: boolean) => ({
  apiVersion: 'gateway.networking.k8s.io/v1beta1',
  kind: 'ReferenceGrant',
  metadata: { name: 'bench-to-grants', namespace: GRANTS_NS },
  spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: allow ? 'bench' : 'nobody' }], to: [{ group: '', kind: 'Service' }] },
});
if (kind === 'grant') {
  const route = cpAddedRoute('cross-namespace', '/cross-namespace', p.backend);
  (route.spec as { rules: { backendRefs: Record<string, unknown>[] }[] }).rules[0]!.backendRefs[0]!.namespace = GRANTS_NS;
  put('grant-route.yaml', [
    route,
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend-a', namespace: GRANTS_NS }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: p.backend, protocol: 'TCP' }] } },
  ]);
  put('grant.yaml', [grant(false)]);
  folder.takeWritten();
}

/** The policy of the ca changes: on eps-00000, its CA in ConfigMap bench-ca. */
const caPolicy = (pem: string) => [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench-ca', namespace: 'bench' }, data: { 'ca.crt': pem } },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'BackendTLSPolicy',
    metadata: { name: 'eps-tls', namespace: 'bench' },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: 'eps-00000' }], validation: { hostname: 'eps.internal', caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'bench-ca' }] } },
  },
];
if (kind === 'ca') {
  put('ca-policy.yaml', caPolicy(certs[0]!.certPem));
  folder.takeWritten();
}
const sessionPolicy = (name: string) => [
  {
    apiVersion: 'gateway.networking.x-k8s.io/v1alpha1',
    kind: 'XBackendTrafficPolicy',
    metadata: { name: 'eps-sticky', namespace: 'bench' },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: 'eps-00000' }], sessionPersistence: { sessionName: name } },
  },
];
if (kind === 'session') {
  put('session-policy.yaml', sessionPolicy('bench-session'));
  folder.takeWritten();
}

const firstState = await loader.load();
let snapshot = new Snapshot(firstState.byKey ?? firstState.entries);
let result = inc(snapshot, options);
if (kind === 'route-after-full') {
  // A second full translate (here a new session seed, as when provisioned mode creates its master
  // key Secret), then route changes: each must splice at the cost of one route, not compare all.
  options = { ...options, sessionSeed: 'cp-stages-reseeded' };
  result = inc(snapshot, options);
}
let ir = decoder.apply(encoder.encode(result.ir).text);
if (ir === 'resync') throw new Error('first delta must apply');
let config = new RuntimeConfig(ir, undefined, metrics);
const summary = new RunSummary();
summary.update(result.statuses);

const STAGES = ['file load', 'snapshot', 'translate', 'summary', 'encode', 'ipc framing', 'decode', 'routers'] as const;
const samples: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
let bytes = 0;
for (let i = 0; i < changes; i++) {
  if (kind === 'gateway') put('gateway.yaml', cpGateway(p, i % 2 === 0 ? 1 : 0));
  else if (kind === 'service') put('eps-probe.yaml', cpEpsProbe(p, true).map((d) => (d.kind === 'Service' ? { ...d, metadata: { ...(d.metadata as object), annotations: { revision: String(i) } } } : d)));
  else if (kind === 'service-port')
    put('eps-probe.yaml', cpEpsProbe(p, true).map((d) => (d.kind === 'Service' ? { ...d, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, ...(i % 2 === 0 ? [{ name: 'admin', port: 9000, protocol: 'TCP' }] : [])] } } : d)));
  else if (kind === 'eps-route' && i % 2 === 0) put('eps-probe.yaml', cpEpsProbe(p, i % 4 !== 0));
  else if (kind === 'grant') put('grant.yaml', [grant(i % 2 === 0)]);
  else if (kind === 'session') put('session-policy.yaml', sessionPolicy(`bench-session-${i}`));
  else if (kind === 'ca') put('ca-policy.yaml', caPolicy(i % 2 === 0 ? certs[0]!.certPem + certs[1]!.certPem : certs[0]!.certPem));
  else if (kind === 'secret') put('secret.yaml', cpSecret(certs[(i + 1) % 2]!.certPem, certs[(i + 1) % 2]!.keyPem));
  else put(`added-${i}.yaml`, [cpAddedRoute(`added-${i}`, `/added-${i}`, p.backend, ownHosts)]);
  await new Promise((r) => setTimeout(r, 20));
  let t = performance.now();
  const lap = (stage: (typeof STAGES)[number]) => {
    const now = performance.now();
    samples[stage]!.push(now - t);
    t = now;
  };
  const state = await loader.load(folder.takeWritten());
  lap('file load');
  snapshot = new Snapshot(state.byKey ?? state.entries, snapshot);
  lap('snapshot');
  result = inc(snapshot, options);
  lap('translate');
  summary.update(result.statuses);
  lap('summary');
  const delta = encoder.encode(result.ir);
  lap('encode');
  // The worker IPC's framing (cluster-engine.ts: the V8 serializer).
  const message = v8.deserialize(v8.serialize({ type: 'apply', id: i, delta: delta.text })) as { delta: string };
  lap('ipc framing');
  const next = decoder.apply(message.delta);
  if (next === 'resync') throw new Error('delta must apply');
  lap('decode');
  config = new RuntimeConfig(next, config, metrics);
  lap('routers');
  bytes += delta.text.length;
}
folder.remove();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
let total = 0;
for (const s of STAGES) {
  total += median(samples[s]!);
  console.log(`${s.padEnd(12)} ${median(samples[s]!).toFixed(1).padStart(8)} ms   each: ${samples[s]!.map((x) => x.toFixed(0)).join(' ')}`);
}
console.log(`${'total'.padEnd(12)} ${total.toFixed(1).padStart(8)} ms   (${kind} change at ${routes} routes, median of ${changes}; delta ${(bytes / changes / 1e6).toFixed(2)} MB each)`);
console.log(`incremental translation: ${JSON.stringify(inc.stats)}`);
