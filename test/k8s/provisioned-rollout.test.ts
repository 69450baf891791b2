// Zero-downtime under load (issue 11), through a provisioned Gateway's Service addresses:
//
// - a rolling update of the data-plane Deployment (2 replicas; a changed spec.infrastructure
//   annotation changes the pod template), and a rollout of the backend Deployment, each under a
//   load loop of keep-alive requests against the Service's LoadBalancer address, lose no request;
// - stopping the controller leaves traffic flowing (the same load loop, through the ClusterIP),
//   and when a controller returns the data planes resync: a route added meanwhile is served.
//
// The rollouts need the local cluster to behave like a kubelet around the pods (readiness probes
// gate Ready, preStop hooks and terminationGracePeriodSeconds are honoured): hack/pod-lifecycle.mjs,
// which podrunner.json lists as the `pod-lifecycle` feature. A cluster started before it cannot
// run them (kwok marks every pod Ready at once), so they are skipped there, saying why.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/provisioned-rollout.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { apply, getObj, ROOT, waitFor } from './helpers.js';
import { GW, LONG, ref, served, startHarness, type Harness } from './provisioned-harness.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/provisioned-rollout.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');
const log = (l: string) => {
  if (process.env.PORTICO_TEST_VERBOSE) console.log(`# ${l}`);
};
const HOST = 'rollout.example';
const LATER = 'later.example';

function clusterHasPodLifecycle(): boolean {
  const dir = process.env.PORTICO_CLUSTER_DIR ?? path.join(ROOT, '.cache/cluster');
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'pods', 'podrunner.json'), 'utf8')) as { features?: string[] };
    return info.features?.includes('pod-lifecycle') ?? false;
  } catch {
    return false;
  }
}
const LIFECYCLE = !KUBECONFIG || clusterHasPodLifecycle();
const NO_LIFECYCLE = "the cluster's podrunner predates pod-lifecycle (readiness probes, preStop, grace period): restart the cluster";

/** Backends: the echo server, 2 replicas, ready once it accepts on 3000, a short preStop so endpoints move first. */
function backend(ns: string, rev: string) {
  return {
    ...ref('apps/v1', 'Deployment', 'echo', ns),
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'echo' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'echo' }, annotations: { 'portico.dev/test-rev': rev } },
        spec: {
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: 'echo',
              image: 'gcr.io/k8s-staging-gateway-api/echo-basic:v1',
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              ports: [{ containerPort: 3000 }],
              readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 1 },
              lifecycle: { preStop: { sleep: { seconds: 2 } } },
            },
          ],
        },
      },
    },
  };
}

interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  /** Backend pods that answered (the echo server names itself). */
  pods: Set<string>;
}

/**
 * A load loop: `workers` clients on one keep-alive agent, each sending GETs one after another
 * (`pauseMs` apart) to ip:port until stop() or `max` requests. A request fails on any error or
 * any status but 200; nothing is retried.
 */
function load(ip: string, port: number, p: string, { workers = 4, pauseMs = 5, max = 200_000 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  const r: LoadResult = { ok: 0, failed: 0, errors: [], pods: new Set() };
  let stopping = false;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: ip, port, path: p, headers: { host: HOST }, agent, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode === 200) {
            r.ok++;
            try {
              r.pods.add((JSON.parse(body) as { pod: string }).pod);
            } catch {
              /* counted as served; the pod name is only for the report */
            }
          } else {
            r.failed++;
            if (r.errors.length < 20) r.errors.push(`${res.statusCode}: ${body.slice(0, 120)}`);
          }
          resolve();
        });
        res.on('error', (e) => {
          r.failed++;
          if (r.errors.length < 20) r.errors.push(`response: ${e.message}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => {
        r.failed++;
        if (r.errors.length < 20) r.errors.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
        resolve();
      });
    });
  const loops = Array.from({ length: workers }, async () => {
    while (!stopping && r.ok + r.failed < max) {
      await one();
      await new Promise((res) => setTimeout(res, pauseMs));
    }
  });
  return {
    result: r,
    async stop(): Promise<LoadResult> {
      stopping = true;
      await Promise.all(loops);
      agent.destroy();
      return r;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('provisioned data planes under load: rollouts and a controller restart lose no request', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset', timeout: 420_000 }, () => {
  let h: Harness;
  let ns = '';
  const GATEWAY = 'web';
  const gateway = (rev: string) => ({
    ...ref(GW, 'Gateway', GATEWAY, ns),
    spec: {
      gatewayClassName: h.className,
      infrastructure: {
        annotations: { 'portico.dev/test-rev': rev },
        parametersRef: { group: 'gateway.portico.dev', kind: 'GatewayParameters', name: 'two' },
      },
      listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
    },
  });
  const route = (name: string, host: string) => ({
    ...ref(GW, 'HTTPRoute', name, ns),
    spec: { parentRefs: [{ name: GATEWAY }], hostnames: [host], rules: [{ backendRefs: [{ name: 'echo', port: 8080 }] }] },
  });

  /** Waits until the Deployment has rolled out: every replica updated and ready, no old one left. */
  async function rolledOut(name: string, generationAtLeast: number) {
    await waitFor(`Deployment ${ns}/${name} rolled out`, async () => {
      const d = await getObj<{ metadata: { generation: number }; spec: { replicas: number }; status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number } }>(h.client, ref('apps/v1', 'Deployment', name, ns));
      const s = d?.status;
      return d && d.metadata.generation >= generationAtLeast && s?.observedGeneration === d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.readyReplicas === d.spec.replicas && s.replicas === d.spec.replicas || undefined;
    }, LONG * 2);
  }
  const generation = async (name: string) => (await getObj<{ metadata: { generation: number } }>(h.client, ref('apps/v1', 'Deployment', name, ns)))!.metadata.generation;

  before(async () => {
    if (!KUBECONFIG) return;
    h = await startHarness(KUBECONFIG, 'portico-roll', log);
    ns = `portico-roll-${h.run}`;
    const c = h.client;
    await apply(c, ref('v1', 'Namespace', ns));
    await apply(c, backend(ns, '1'));
    await apply(c, { ...ref('v1', 'Service', 'echo', ns), spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080, targetPort: 3000 }] } });
    await apply(c, { ...ref('gateway.portico.dev/v1alpha1', 'GatewayParameters', 'two', ns), spec: { deployment: { replicas: 2 } } });
    await apply(c, gateway('1'));
    await apply(c, route('root', HOST));
    await h.startController();
    const a = await h.serviceAddresses(ns, GATEWAY);
    await served(a.lb!, 80, HOST);
    await rolledOut(h.nameOf(GATEWAY), 1);
    await rolledOut('echo', 1);
  });

  after(async () => {
    if (!KUBECONFIG) return;
    await h?.close([ns]);
  });

  test('a rolling update of the data-plane Deployment (2 replicas) under load loses no request', { skip: !LIFECYCLE && NO_LIFECYCLE }, async () => {
    const name = h.nameOf(GATEWAY);
    const { lb } = await h.serviceAddresses(ns, GATEWAY);
    const before = new Set((await h.dataplanePods(ns, GATEWAY)).map((p) => p.name));
    const gen = await generation(name);
    const l = load(lb!, 80, '/dataplane-rollout');
    await sleep(1000);
    await apply(h.client, gateway('2'));
    await rolledOut(name, gen + 1);
    const now = (await h.dataplanePods(ns, GATEWAY)).map((p) => p.name);
    assert.ok(now.every((p) => !before.has(p)), `every data-plane pod replaced: before ${[...before].join(', ')}, now ${now.join(', ')}`);
    // The old pods are deleted at once; their processes drain after (preStop 5 s + drain delay 5 s): keep loading through that.
    await sleep(14_000);
    const r = await l.stop();
    log(`data-plane rollout: ${r.ok} served, ${r.failed} failed`);
    assert.equal(r.failed, 0, `lost requests: ${r.errors.join(' | ')}`);
    assert.ok(r.ok > 500, `the load ran (${r.ok} requests)`);
  });

  test('a rollout of the backend Deployment (2 replicas) under load loses no request', { skip: !LIFECYCLE && NO_LIFECYCLE }, async () => {
    const { lb } = await h.serviceAddresses(ns, GATEWAY);
    const gen = await generation('echo');
    const l = load(lb!, 80, '/backend-rollout');
    await sleep(1000);
    const first = new Set(l.result.pods);
    await apply(h.client, backend(ns, '2'));
    await rolledOut('echo', gen + 1);
    await sleep(5000);
    const r = await l.stop();
    const fresh = [...r.pods].filter((p) => !first.has(p));
    log(`backend rollout: ${r.ok} served, ${r.failed} failed, pods ${[...r.pods].join(', ')}`);
    assert.equal(r.failed, 0, `lost requests: ${r.errors.join(' | ')}`);
    assert.ok(r.ok > 500, `the load ran (${r.ok} requests)`);
    assert.ok(first.size >= 1 && fresh.length >= 2, `answers came from the old and the new backend pods: ${[...r.pods].join(', ')}`);
  });

  test('stopping the controller leaves traffic flowing through the ClusterIP; a returning controller resyncs the data planes', async () => {
    const { clusterIP } = await h.serviceAddresses(ns, GATEWAY);
    const l = load(clusterIP, 80, '/controller-away');
    await sleep(1000);
    await h.stopController();
    await sleep(4000);
    const during = l.result.ok;
    // A change made while no controller runs reaches the data planes once one is back.
    await apply(h.client, route('later', LATER));
    await sleep(1000);
    assert.equal((await new Promise<number>((resolve) => http.get({ host: clusterIP, port: 80, path: '/', headers: { host: LATER }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', () => resolve(0)))), 404, 'no controller: the new route is not served yet');
    await h.startController();
    const echo = await served(clusterIP, 80, LATER);
    assert.equal(echo.namespace, ns);
    const r = await l.stop();
    log(`controller away: ${r.ok} served (${during} by the time it had been gone 4 s), ${r.failed} failed`);
    assert.equal(r.failed, 0, `lost requests: ${r.errors.join(' | ')}`);
    assert.ok(during > 100, `requests were served while the controller was gone (${during})`);
  });
});
