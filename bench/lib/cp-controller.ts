// Control-plane figures in controller mode: `portico controller` on the local cluster
// (hack/cluster.sh), the same objects as file mode (cp-manifests.ts) written through the API
// server, and the time from the API write until the data plane serves the change (the informer
// event, the rebuild, the apply). Run it inside the shared cluster lock with the cluster's
// environment (see bench/README.md); it deletes what it created.
// Differences from file mode, forced by the API server: backend-a is an ExternalName Service
// (EndpointSlices may not hold loopback addresses), and the EndpointSlice change moves
// backend-eps between no endpoint (503) and a closed port on the host end of the pods' veth,
// 10.244.255.1 (connection refused at once: 502).
// Two data planes: in-process (the controller serves, on loopback), or provisioned, the default
// of `portico controller`: the Gateway gets a Deployment whose pod (hack/podrunner.mjs) takes its
// config from the controller's config stream, and is probed at its pod IP. A change then also
// crosses the stream and is applied in the pod; backend-a is a server on the host end of the veth.

import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { apply, getObj, HOST_SIDE, installGatewayApiCrds, kubeConfigFrom, remove } from '../../test/k8s/helpers.js';
import type { BenchContext } from './context.js';
import { httpRoute } from './manifests.js';
import { cpAddedRoute, cpEndpoints, cpGateway, cpRoutes, cpSecret, ENDPOINTS_PER_SERVICE, EPS_PROBE_PATH, serviceCount, type CpPorts } from './cp-manifests.js';
import { certFingerprint, httpStatus, percentile, pollUntil, presentedCert } from './cp-probe.js';
import type { PorticoCommand } from './portico.js';
import { buildDist, dataplanePid, dataplanePodIP, hostBackend, podRunner } from './cp-provisioned.js';
import { sampleRss, sleep, startProcess, stopProcess, treePssKiB, treeRssKiB } from './proc.js';
import type { ChangeFigures, ControlPlaneRow } from './report.js';
import { routePath } from './scenarios.js';
import { RELEASE_QUIET_MS } from '../../src/dataplane/heap-flags.js';

export type Doc = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown } };

export interface ControllerModeOptions {
  counts: number[];
  changes: number;
  kubeconfig: string;
  startupTimeoutMs: number;
  changeTimeoutMs: number;
  /** The two certificates the Secret change rotates between. */
  certs: { certPem: string; keyPem: string }[];
  /** in-process (default): the controller serves; provisioned: a data-plane pod per Gateway. */
  dataplane?: 'in-process' | 'provisioned';
}

function figures(samples: number[]): ChangeFigures {
  return { samples_ms: samples.map((x) => Math.round(x * 10) / 10), p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99) };
}

/** Puts file-mode documents into namespace `ns` and GatewayClass `cls`. */
export function into(docs: Record<string, unknown>[], ns: string, cls: string): Doc[] {
  return docs.map((d) => {
    const o = structuredClone(d) as Doc;
    if (o.kind !== 'GatewayClass' && o.kind !== 'Namespace') o.metadata.namespace = ns;
    if (o.kind === 'Gateway') (o.spec as { gatewayClassName: string }).gatewayClassName = cls;
    return o;
  });
}

/** The first line of `file` that matches `re`, polled until `timeoutMs`. */
async function waitForLine(file: string, re: RegExp, timeoutMs: number): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const m = readFileSync(file, 'utf8').match(re);
    if (m) return m[0];
    await sleep(250);
  }
  return undefined;
}

export function epsProbe(ns: string, up: boolean, closedPort: number): Doc[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend-eps', namespace: ns }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'backend-eps-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'backend-eps' } },
      addressType: 'IPv4',
      endpoints: up ? [{ addresses: [HOST_SIDE], conditions: { ready: true } }] : [],
      ports: [{ name: 'http', port: closedPort, protocol: 'TCP' }],
    },
  ];
}

/** Applies `docs`, at most `parallel` requests at a time. */
async function applyAll(client: ApiClient, docs: Doc[], parallel = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < docs.length) await apply(client, docs[next++]!);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export async function measureControllerMode(ctx: BenchContext, pc: PorticoCommand, o: ControllerModeOptions, log: (line: string) => void): Promise<ControlPlaneRow[]> {
  const client = new ApiClient(kubeConfigFrom(o.kubeconfig));
  const base = ctx.ports.controlPlane;
  const provisioned = o.dataplane === 'provisioned';
  const mode = provisioned ? 'provisioned' : 'controller';
  if (provisioned) buildDist(ctx.repoDir, log);
  const backend = provisioned ? await hostBackend() : undefined;
  const p: CpPorts = { http: base, https: base + 1, moved: [base + 2, base + 3], backend: backend?.port ?? ctx.ports.backendA, closed: base + 4 };
  // A provisioned Gateway's Service would ask for 127.0.0.1 (file mode's address): it gets one from the cluster.
  const gateway = (to: 0 | 1, ns: string, tag: string) => into(cpGateway(p, to), ns, tag).map((g) => (provisioned ? { ...g, spec: { ...(g.spec as object), addresses: undefined } } : g));
  const prints = o.certs.map((c) => certFingerprint(c.certPem));
  const rows: ControlPlaneRow[] = [];
  // A cluster just brought up (hack/cluster.sh up after a down) has no Gateway API CRDs yet; applying them again changes nothing.
  await installGatewayApiCrds(client);
  for (const n of o.counts) {
    const tag = `bench-cp-${randomBytes(3).toString('hex')}`;
    const ns = tag;
    const controllerName = `portico.dev/${tag}`;
    const row: ControlPlaneRow = {
      routes: n,
      endpoints: serviceCount(n) * ENDPOINTS_PER_SERVICE,
      workers: 1,
      load_average: os.loadavg()[0]!,
      mode,
      startup_ms: null,
      route: null,
      gateway: null,
      secret: null,
      endpoint_slice: null,
      rss_mb: null,
      peak_rss_mb: null,
    };
    rows.push(row);
    const created: Doc[] = [];
    const put = async (docs: Doc[]) => {
      for (const d of docs) if (!created.some((c) => c.kind === d.kind && c.metadata.name === d.metadata.name)) created.push(d);
      await applyAll(client, docs);
    };
    let proc;
    const runner = provisioned ? podRunner(o.kubeconfig, tag, log) : undefined;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const t = Date.now();
      await put([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }]);
      await put([{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: tag }, spec: { controllerName } }]);
      await put(into(cpSecret(o.certs[0]!.certPem, o.certs[0]!.keyPem), ns, tag));
      await put([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend-a', namespace: ns }, spec: { type: 'ExternalName', externalName: provisioned ? HOST_SIDE : '127.0.0.1', ports: [{ name: 'http', port: p.backend, protocol: 'TCP' }] } }]);
      await put(into(cpEndpoints(n), ns, tag));
      await put(into(cpRoutes(n, p.backend), ns, tag));
      await put(epsProbe(ns, false, p.closed));
      await put(into([httpRoute('eps-probe', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: EPS_PROBE_PATH } }], backendRefs: [{ name: 'backend-eps', port: 80 }] }] })], ns, tag));
      await put(gateway(0, ns, tag));
      log(`${mode} mode ${n} routes: ${created.length} objects written in ${((Date.now() - t) / 1000).toFixed(0)} s`);

      const sync = `${HOST_SIDE}:${base + 5}`;
      const dataplaneArgs = provisioned ? ['--dataplane', 'provisioned', '--sync-listen', sync, '--sync-address', sync, '--dataplane-image', 'ghcr.io/portico-dev/portico:bench'] : ['--dataplane', 'in-process'];
      // This run's lines only: startProcess appends, and an earlier run's "status writes done" line
      // made the series start while this controller's start-up writes were still going.
      const logFile = join(ctx.runDir, `${mode}-${n}.log`);
      writeFileSync(logFile, '');
      const t0 = process.hrtime.bigint();
      proc = startProcess(`portico-${mode}-${n}`, pc.cmd, [...pc.args, 'controller', ...dataplaneArgs, '--kubeconfig', o.kubeconfig, '--controller-name', controllerName, '--namespace', ns, '--admin', 'off'], {
        cwd: ctx.repoDir,
        logFile,
        env: pc.env,
      });
      const rss = sampleRss(proc.pid, 100);
      // The controller logs, per rebuild, how long after the first change event it took in its config
      // was applied (src/controller/loop.ts): the informer-event-to-serving part of each change.
      const rebuilds = () => [...readFileSync(logFile, 'utf8').matchAll(/serving ([\d.]+) ms after the change event \(event at ([\d.]+) epoch ms\)/g)];
      const fromEvent: Record<string, number[]> = {};
      /** Provisioned: from the informer event (the controller's clock) until the probe saw the pod serve (ours: one machine, one clock). */
      const eventToPod: Record<string, number[]> = {};
      // Where the data plane listens: loopback, or the pod's IP once the pod has one ('' until then).
      let address = provisioned ? '' : '127.0.0.1';
      const status = (port: number, path: string) => httpStatus(agent, port, path, undefined, address);
      try {
        row.startup_ms = await pollUntil(async () => {
          address ||= (await dataplanePodIP(client, ns, 'bench', tag)) ?? '';
          return address !== '' && (await status(p.http, `${routePath(n - 1)}/x`)) === 200;
        }, t0, o.startupTimeoutMs);
        if (row.startup_ms === null) {
          row.note = `last of ${n} routes not served within ${o.startupTimeoutMs} ms`;
          continue;
        }
        // Start-up writes every route's status (10,000 writes took ~40 s here): the changes are
        // measured once that burst is over, as a controller runs nearly all its life, and not
        // against it. The controller logs the burst's end (src/controller/status-writer.ts).
        const burst = await waitForLine(logFile, /status writes done: .*/, 300_000);
        log(`${mode} mode ${n} routes: ${burst ?? 'no end of the start-up status writes in 300 s'}`);
        if (burst) row.status_burst = burst.replace('status writes done: ', '');
        // Past the controller's last-resort GC after start-up (RELEASE_QUIET_MS after the last apply: src/dataplane/heap-flags.ts).
        await sleep(RELEASE_QUIET_MS + 1500);
        const series = async (what: string, one: (k: number) => Promise<{ write: () => Promise<void>; served: () => Promise<boolean> }>) => {
          const out: number[] = [];
          const events: number[] = (fromEvent[what] = []);
          const toPod: number[] = (eventToPod[what] = []);
          for (let k = 1; k <= o.changes; k++) {
            const c = await one(k);
            const seen = rebuilds().length;
            const t1 = process.hrtime.bigint();
            await c.write();
            const ms = await pollUntil(c.served, t1, o.changeTimeoutMs);
            const servedAt = performance.timeOrigin + performance.now();
            if (ms === null) {
              row.note = `${what} change not served within ${o.changeTimeoutMs} ms`;
              break;
            }
            out.push(ms);
            await sleep(200);
            // the first rebuild after the write served it (one rebuild per change unless a status echo or retry adds one)
            const e = rebuilds()[seen];
            if (e === undefined) continue;
            events.push(Number(e[1]));
            if (provisioned) toPod.push(servedAt - Number(e[2]));
          }
          const pod = provisioned ? `; informer event to the pod serving ${toPod.map((x) => x.toFixed(0)).join('/')} ms` : '';
          log(`${mode} mode ${n} routes: ${what} ${out.map((x) => x.toFixed(0)).join('/')} ms; informer event to ${provisioned ? 'the config stream' : 'serving'} ${events.map((x) => x.toFixed(0)).join('/')} ms${pod}`);
          return out.length ? figures(out) : null;
        };
        row.route = await series('route', async (k) => {
          const path = `/added-${n}-${k}`;
          return { write: () => put(into([cpAddedRoute(`added-${k}`, path, p.backend)], ns, tag)), served: async () => (await status(p.http, path)) === 200 };
        });
        row.gateway = await series('gateway', async (k) => {
          const to = (k % 2) as 0 | 1;
          return { write: () => put(gateway(to, ns, tag)), served: async () => (await status(p.moved[to], `${routePath(n - 1)}/x`)) === 200 };
        });
        row.secret = await series('secret', async (k) => {
          const c = o.certs[k % 2]!;
          return { write: () => put(into(cpSecret(c.certPem, c.keyPem), ns, tag)), served: async () => (await presentedCert(p.https, address)) === prints[k % 2] };
        });
        /** Where backend-eps's endpoint is: a closed loopback port (502) or none ready (503, as written at start). */
        let epsUp = false;
        const epsServed = (up: boolean) => async () => (await status(p.http, EPS_PROBE_PATH)) === (up ? 502 : 503);
        row.endpoint_slice = await series('endpointslice', async (k) => {
          const up = (epsUp = k % 2 === 1);
          return { write: () => put(epsProbe(ns, up, p.closed).slice(1)), served: epsServed(up) };
        });
        // A slice change (written and served, not measured), then a new route (measured): see control-plane.ts.
        row.route_after_endpoints = await series('route after endpointslice', async (k) => {
          const up = (epsUp = !epsUp);
          const t = process.hrtime.bigint();
          await put(epsProbe(ns, up, p.closed).slice(1));
          if ((await pollUntil(epsServed(up), t, o.changeTimeoutMs)) === null) throw new Error('EndpointSlice change not served');
          await sleep(200);
          const path = `/after-eps-${n}-${k}`;
          return { write: () => put(into([cpAddedRoute(`after-eps-${k}`, path, p.backend)], ns, tag)), served: async () => (await status(p.http, path)) === 200 };
        });
        // RSS once the changes are over and the controller has returned what they freed, as file mode measures it.
        await sleep(RELEASE_QUIET_MS + 1500);
        row.rss_mb = treeRssKiB(proc.pid) / 1024;
        row.pss_mb = treePssKiB(proc.pid) / 1024;
        const pod = provisioned ? dataplanePid(address) : undefined;
        if (pod) {
          // Every Portico process: the controller and the Gateway's data plane.
          row.dataplane_rss_mb = treeRssKiB(pod) / 1024;
          row.dataplane_pss_mb = treePssKiB(pod) / 1024;
          row.rss_mb += row.dataplane_rss_mb;
          row.pss_mb += row.dataplane_pss_mb;
        } else if (provisioned) row.note = [row.note, 'data-plane process not found: RSS is the controller\'s alone'].filter(Boolean).join('; ');
        const pp = (xs: number[] | undefined) => (xs && xs.length ? `${percentile(xs, 50)!.toFixed(0)}/${percentile(xs, 99)!.toFixed(0)}` : 'n/a');
        if (provisioned) {
          row.from_event = {};
          for (const [what, xs] of Object.entries(eventToPod)) if (xs.length) row.from_event[what] = figures(xs);
        }
        row.note = [row.note, `informer event to ${provisioned ? 'published on the config stream' : 'serving'} p50/p99 ms: route ${pp(fromEvent.route)}, Gateway ${pp(fromEvent.gateway)}, Secret ${pp(fromEvent.secret)}, EndpointSlice ${pp(fromEvent.endpointslice)}, route after EndpointSlice ${pp(fromEvent['route after endpointslice'])}`, row.status_burst && `start-up status writes: ${row.status_burst}`].filter(Boolean).join('; ');
      } finally {
        row.peak_rss_mb = rss.stop();
      }
    } catch (e) {
      row.note = (e as Error).message.slice(0, 200);
      log(`${mode} mode ${n} routes: ${row.note}`);
    } finally {
      agent.destroy();
      if (proc) await stopProcess(proc);
      await runner?.stop();
      // The namespace takes its objects with it; the GatewayClass is cluster-scoped.
      await remove(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
      await remove(client, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: tag } }).catch(() => undefined);
      // Wait until it is gone: the next row's controller watches every namespace, and 12,000 objects
      // being deleted under it (a minute or more here) made its changes wait behind those deletions.
      const gone = Date.now() + 600_000;
      while (Date.now() < gone && (await getObj(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined))) await sleep(1000);
    }
    const f = (c: ChangeFigures | null) => (c ? `${c.p50_ms?.toFixed(0)}/${c.p99_ms?.toFixed(0)}` : 'n/a');
    const fe = row.from_event ? `; informer event to the pod serving: ${Object.entries(row.from_event).map(([what, x]) => `${what} ${f(x)}`).join(', ')}` : '';
    log(
      `${mode} mode ${n} routes: start ${row.startup_ms?.toFixed(0)} ms; p50/p99 ms: route ${f(row.route)}, gateway ${f(row.gateway)}, secret ${f(row.secret)}, endpointslice ${f(row.endpoint_slice)}${fe}; RSS ${row.rss_mb?.toFixed(1)} MiB, PSS ${row.pss_mb?.toFixed(1)}${row.dataplane_rss_mb !== undefined ? ` (data-plane pod RSS ${row.dataplane_rss_mb.toFixed(1)}, PSS ${row.dataplane_pss_mb?.toFixed(1)})` : ''}`,
    );
  }
  await backend?.close();
  return rows;
}
