// hack/pod-lifecycle.mjs, the kubelet's part that podrunner plays on the local cluster: readiness
// probes (httpGet, tcpSocket) against real sockets, termination (preStop sleep, SIGTERM, SIGKILL
// at the end of terminationGracePeriodSeconds) against real processes, and, with a cluster, the
// Ready condition written into a pod's status as the EndpointSlice controller reads it.
//
//   node --import tsx --test test/k8s/pod-lifecycle.test.ts     (the cluster part needs PORTICO_KUBECONFIG)

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
// @ts-expect-error: plain ESM JavaScript without type declarations (run by node directly)
import { probeOnce, Readiness, terminate } from '../../hack/pod-lifecycle.mjs';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { apply, getObj, kubeConfigFrom, remove, waitFor } from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

describe('readiness probes', () => {
  test('httpGet: 200-399 passes, 503 and a closed port fail; a named port is looked up', async (t) => {
    let code = 200;
    const server = http.createServer((_req, res) => res.writeHead(code).end());
    const port = await listen(server);
    t.after(() => server.close());
    const c = (p: unknown) => ({ name: 'c', ports: [{ name: 'health', containerPort: port }], readinessProbe: { httpGet: { path: '/readyz', port: p } } });
    assert.equal(await probeOnce('127.0.0.1', c(port)), true);
    assert.equal(await probeOnce('127.0.0.1', c('health')), true, 'named port');
    code = 302;
    assert.equal(await probeOnce('127.0.0.1', c(port)), true);
    code = 503;
    assert.equal(await probeOnce('127.0.0.1', c(port)), false);
    assert.equal(await probeOnce('127.0.0.1', c('nope')), false, 'unknown port name');
    server.close();
    assert.equal(await probeOnce('127.0.0.1', c(port)), false, 'nothing listening');
  });

  test('tcpSocket: a listener passes, a closed port fails', async () => {
    const server = net.createServer((s) => s.destroy());
    const port = await listen(server);
    const c = { name: 'c', readinessProbe: { tcpSocket: { port } } };
    assert.equal(await probeOnce('127.0.0.1', c), true);
    await new Promise<void>((r) => server.close(() => r()));
    assert.equal(await probeOnce('127.0.0.1', c), false);
  });
});

/** A process that logs SIGTERM and exits `exitAfterMs` later (never, when negative). */
function child(exitAfterMs: number) {
  const p = spawn(process.execPath, ['-e', `process.on('SIGTERM', () => { console.log('TERM ' + Date.now()); if (${exitAfterMs} >= 0) setTimeout(() => process.exit(0), ${exitAfterMs}); }); console.log('up'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  return { p, out: () => out, up: new Promise<void>((r) => p.stdout!.once('data', () => r())) };
}
const pod = (grace: number | undefined) => ({ metadata: { name: 'p', namespace: 'ns' }, spec: grace === undefined ? {} : { terminationGracePeriodSeconds: grace } });

describe('termination', () => {
  test('preStop sleep runs before SIGTERM; a process that exits on SIGTERM is not killed', async () => {
    const c = child(100);
    await c.up;
    const t0 = Date.now();
    await terminate(c.p, pod(10), { name: 'c', lifecycle: { preStop: { sleep: { seconds: 1 } } } });
    const term = Number(/TERM (\d+)/.exec(c.out())?.[1]);
    assert.ok(term - t0 >= 950, `SIGTERM ${term - t0} ms after the start, after the 1 s preStop sleep`);
    assert.equal(c.p.signalCode, null, 'exited by itself');
    assert.equal(c.p.exitCode, 0);
  });

  test('a process still running when the grace period (counted from deletion, preStop included) ends gets SIGKILL', async () => {
    const c = child(-1);
    await c.up;
    const t0 = Date.now();
    await terminate(c.p, pod(3), { name: 'c', lifecycle: { preStop: { sleep: { seconds: 1 } } } });
    const took = Date.now() - t0;
    assert.match(c.out(), /TERM/);
    assert.equal(c.p.signalCode, 'SIGKILL');
    assert.ok(took >= 2900 && took < 4500, `killed at the end of the 3 s grace period (${took} ms)`);
  });

  test('`now` (podrunner shutting down) skips the hook', async () => {
    const c = child(0);
    await c.up;
    const t0 = Date.now();
    await terminate(c.p, pod(30), { name: 'c', lifecycle: { preStop: { sleep: { seconds: 5 } } } }, { now: true });
    assert.ok(Date.now() - t0 < 2000);
    assert.match(c.out(), /TERM/);
  });
});

/**
 * The cluster's own podrunner runs these pods and writes their Ready condition too, once their
 * containers run (later when the pod's IP still drains a deleted pod's process). Waiting for the
 * container to answer puts its write before the test's, which are then the last word.
 */
const containerAnswers = (ip: string, port: number) =>
  waitFor(`the container answers on ${ip}:${port}`, () =>
    new Promise<true | undefined>((resolve) => {
      const s = net.connect({ host: ip, port, timeout: 1000 }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(undefined));
      s.on('timeout', () => (s.destroy(), resolve(undefined)));
    }),
  );

describe('the Ready condition in the pod status, on the local cluster', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  test('a failing probe writes Ready False, the EndpointSlice marks the endpoint not ready; a passing one writes Ready True', async (t) => {
    const client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(KUBECONFIG!);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const ns = `portico-lifecycle-${Date.now().toString(36)}`;
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    t.after(() => remove(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
    // The echo server answers on 3000 (podrunner runs it); the probe asks for a path on a port nothing serves, then 3000.
    const podSpec = (port: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probed', namespace: ns, labels: { app: 'probed' } },
      spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'echo', image: 'registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0', ports: [{ containerPort: 3000 }], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } }] },
    });
    await apply(client, podSpec(3999));
    await apply(client, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'probed', namespace: ns }, spec: { selector: { app: 'probed' }, ports: [{ port: 80, targetPort: 3000 }] } });
    type PodObj = { metadata: { uid: string }; spec: unknown; status?: { podIP?: string; conditions?: { type: string; status: string }[] } };
    const withIp = await waitFor('the pod has an IP', async () => {
      const p = await getObj<PodObj>(client, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probed', namespace: ns } });
      return p?.status?.podIP ? p : undefined;
    });
    const readyIs = (want: string) => waitFor(`Ready ${want}, and the EndpointSlice agrees`, async () => {
      const p = await getObj<PodObj>(client, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probed', namespace: ns } });
      const slices = await client.json<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { query: { labelSelector: 'kubernetes.io/service-name=probed' } });
      const ep = slices.items.flatMap((s) => s.endpoints ?? [])[0];
      return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === want && ep?.conditions?.ready === (want === 'True') || undefined;
    }, 20_000);
    // The podrunner probes 3999 (the pod's spec) and writes Ready False once; then this test's writes.
    await containerAnswers(withIp.status!.podIP!, 3000);
    await readyIs('False');
    const logs: string[] = [];
    const readiness = new Readiness(core, (l: string) => logs.push(l));
    t.after(() => readiness.forget(withIp.metadata.uid));
    readiness.track(withIp);
    await readyIs('False');
    // The same pod object with a probe that passes (readiness tracks the latest pod it is given).
    readiness.forget(withIp.metadata.uid);
    readiness.track({ ...withIp, spec: podSpec(3000).spec });
    await readyIs('True');
    assert.ok(logs.some((l) => /Ready False/.test(l)) && logs.some((l) => /Ready True/.test(l)), logs.join(' | '));
  });

  test('a pod without a probe whose containers have not started (its IP still drains) is NotReady, then Ready once they run', async (t) => {
    const client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(KUBECONFIG!);
    const ns = `portico-started-${Date.now().toString(36)}`;
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    t.after(() => remove(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
    await apply(client, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'plain', namespace: ns, labels: { app: 'plain' } },
      spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'echo', image: 'registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0', ports: [{ containerPort: 3000 }] }] },
    });
    await apply(client, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'plain', namespace: ns }, spec: { selector: { app: 'plain' }, ports: [{ port: 80, targetPort: 3000 }] } });
    type PodObj = { metadata: { uid: string; name: string; namespace: string }; spec: { containers: unknown[] }; status?: { podIP?: string; conditions?: { type: string; status: string }[] } };
    const get = () => getObj<PodObj>(client, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'plain', namespace: ns } });
    const readyIs = (want: string) => waitFor(`Ready ${want}, and the EndpointSlice agrees`, async () => {
      const p = await get();
      const slices = await client.json<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { query: { labelSelector: 'kubernetes.io/service-name=plain' } });
      const ep = slices.items.flatMap((s) => s.endpoints ?? [])[0];
      return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === want && ep?.conditions?.ready === (want === 'True') || undefined;
    }, 20_000);
    // kwok makes a pod without a probe Ready as soon as it has an IP (the podrunner, once its container runs).
    await readyIs('True');
    const pod = (await get())!;
    await containerAnswers(pod.status!.podIP!, 3000);
    await readyIs('True');
    const logs: string[] = [];
    const readiness = new Readiness(kc.makeApiClient(k8s.CoreV1Api), (l: string) => logs.push(l));
    await readiness.started(pod, false);
    await readyIs('False');
    await readiness.started(pod, true);
    await readyIs('True');
    assert.ok(logs.some((l) => /Ready False \(containers not started\)/.test(l)) && logs.some((l) => /Ready True \(containers started\)/.test(l)), logs.join(' | '));
  });
});
