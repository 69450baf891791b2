// The translate stage alone of one control-plane change at N routes (issue 15): the bench's
// manifest set (bench/lib/cp-manifests.ts) as bench/cp-stages.ts writes it, all snapshots built
// first, then only incrementalTranslate() timed (median, min, max) and, given a path, a CPU
// profile of just those calls (inspector Profiler, 100 us sampling).
//
//   node --import tsx bench/cp-translate.ts [routes=10000] [changes=10] [route|edit|batch|batch-edit|gateway|secret|grpc|tcp] [profile.cpuprofile]
//
// MIXED=1 adds a GRPCRoute, a second Gateway with a TCP and an HTTP listener, a TCPRoute and a
// BackendTLSPolicy (with its CA ConfigMap): before the splices took them, any of these made every
// change a full translate(). grpc/tcp change a GRPCRoute/TCPRoute of their own (needs MIXED=1).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { FileLoader } from '../src/sources/files.js';
import { Snapshot } from '../src/store/snapshot.js';
import { translate } from '../src/translate/index.js';
import { incrementalTranslate } from '../src/translate/incremental.js';
import { ensureCert } from './lib/certs.js';
import { secondCert } from './lib/control-plane.js';
import { cpAddedRoute, cpBase, cpEndpoints, cpEpsProbe, cpGateway, cpRoutes, cpSecret, type CpPorts } from './lib/cp-manifests.js';
import { toYaml } from './lib/manifests.js';

const routes = Number(process.argv[2] ?? 10_000);
const changes = Number(process.argv[3] ?? 10);
const kind = process.argv[4] ?? 'route';
const profOut = process.argv[5];
/** batch / batch-edit: how many routes each change adds / edits (BATCH=1000 by default): a kubectl apply of many, a re-list. */
const BATCH = Number(process.env.BATCH ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'portico-cp-translate-'));
const put = (file: string, docs: Record<string, unknown>[]) => { writeFileSync(join(dir, `${file}.tmp`), toYaml(docs)); renameSync(join(dir, `${file}.tmp`), join(dir, file)); };
const p: CpPorts = { http: 31020, https: 31021, moved: [31022, 31023], backend: 31100, closed: 31101 };
const certDir = mkdtempSync(join(tmpdir(), 'portico-cp-translate-certs-'));
const certs = [await ensureCert(certDir), await secondCert(certDir)];
put('base.yaml', cpBase(p)); put('gateway.yaml', cpGateway(p, 0)); put('secret.yaml', cpSecret(certs[0]!.certPem, certs[0]!.keyPem));
put('endpoints.yaml', cpEndpoints(routes)); put('routes.yaml', cpRoutes(routes, p.backend)); put('eps-probe.yaml', cpEpsProbe(p, true));
if (process.env.MIXED) {
  const GW = 'gateway.networking.k8s.io/v1';
  const ns = 'bench';
  put('mixed.yaml', [
    { apiVersion: GW, kind: 'GRPCRoute', metadata: { name: 'grpc-1', namespace: ns }, spec: { parentRefs: [{ name: 'l4', sectionName: 'grpc' }], hostnames: ['grpc.example.com'], rules: [{ matches: [{ method: { service: 'pkg.S' } }], backendRefs: [{ name: 'eps-00001', port: 80 }] }] } },
    { apiVersion: GW, kind: 'Gateway', metadata: { name: 'l4', namespace: ns }, spec: { gatewayClassName: 'portico', addresses: [{ type: 'IPAddress', value: '127.0.0.1' }], listeners: [{ name: 'tcp', port: 31050, protocol: 'TCP' }, { name: 'grpc', port: 31051, protocol: 'HTTP' }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'tcp-1', namespace: ns }, spec: { parentRefs: [{ name: 'l4' }], rules: [{ backendRefs: [{ name: 'eps-00002', port: 80 }] }] } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: ns }, data: { 'ca.crt': certs[0]!.certPem } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'BackendTLSPolicy', metadata: { name: 'tls-1', namespace: ns }, spec: { targetRefs: [{ group: '', kind: 'Service', name: 'eps-00003' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }], hostname: 'eps.example.com' } } },
  ]);
}
const loader = new FileLoader([dir]);
const inc = incrementalTranslate(translate);
const options = { addressFor: () => '0.0.0.0', addressUsable: () => true, sessionSeed: 'cp-stages' };
let snapshot = new Snapshot((await loader.load()).entries);
inc(snapshot, options);
const snaps: Snapshot[] = [];
for (let i = 0; i < changes; i++) {
  if (kind === 'gateway') put('gateway.yaml', cpGateway(p, i % 2 === 0 ? 1 : 0));
  else if (kind === 'secret') put('secret.yaml', cpSecret(certs[(i + 1) % 2]!.certPem, certs[(i + 1) % 2]!.keyPem));
  else if (kind === 'grpc' || kind === 'tcp') {
    const GW = 'gateway.networking.k8s.io/v1';
    put('mixed-change.yaml', [kind === 'grpc'
      ? { apiVersion: GW, kind: 'GRPCRoute', metadata: { name: 'grpc-2', namespace: 'bench' }, spec: { parentRefs: [{ name: 'l4', sectionName: 'grpc' }], hostnames: ['grpc.example.com'], rules: [{ matches: [{ method: { service: `pkg.S${i}` } }], backendRefs: [{ name: 'eps-00004', port: 80 }] }] } }
      : { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'tcp-2', namespace: 'bench' }, spec: { parentRefs: [{ name: 'l4' }], rules: [{ backendRefs: [{ name: `eps-0000${5 + (i % 2)}`, port: 80 }] }] } }]);
  }
  else if (kind === 'batch-edit')
    put('routes.yaml', cpRoutes(routes, p.backend).map((d, j) => (j < BATCH ? { ...d, spec: { ...(d.spec as object), rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/edit-${i}-${j}` } }], backendRefs: [{ name: 'backend-a', port: p.backend }] }] } } : d)));
  else if (kind === 'batch') put(`batch-${i}.yaml`, Array.from({ length: BATCH }, (_, j) => cpAddedRoute(`batch-${i}-${j}`, `/batch-${i}-${j}`, p.backend)));
  else if (kind === 'edit') put(`added-0.yaml`, [cpAddedRoute(`added-0`, `/added-${i}`, p.backend)]);
  else put(`added-${i}.yaml`, [cpAddedRoute(`added-${i}`, `/added-${i}`, p.backend)]);
  snapshot = new Snapshot((await loader.load()).entries, snapshot);
  snaps.push(snapshot);
}
const session = new Session(); session.connect();
if (profOut) { await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 100 }); await session.post('Profiler.start'); }
const times: number[] = [];
for (const s of snaps) { const t = performance.now(); inc(s, options); times.push(performance.now() - t); }
if (profOut) { const { profile } = await session.post('Profiler.stop'); writeFileSync(profOut, JSON.stringify(profile)); }
session.disconnect();
rmSync(dir, { recursive: true, force: true });
rmSync(certDir, { recursive: true, force: true });
times.sort((a, b) => a - b);
console.log(`${kind}: translate median ${times[times.length >> 1]!.toFixed(2)} ms min ${times[0]!.toFixed(2)} max ${times.at(-1)!.toFixed(2)} stats ${JSON.stringify(inc.stats)}`);
