// Control-plane figures for file mode: how long from a manifest change (an HTTPRoute added, the
// Gateway's listener moved, the TLS Secret rotated, an EndpointSlice's endpoint moved) until
// the data plane serves it, next to N existing routes and N*10 endpoints; start to serving;
// memory over every Portico process; and memory before and after add/delete churn cycles.

import { mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import os from 'node:os';
import type { BenchContext } from './context.js';
import { toYaml } from './manifests.js';
import {
  cpAddedRoute,
  cpBase,
  cpChurnRoutes,
  cpEndpoints,
  cpEpsProbe,
  cpGateway,
  cpRoutes,
  hostFor,
  cpSecret,
  ENDPOINTS_PER_SERVICE,
  EPS_PROBE_PATH,
  serviceCount,
  type CpPorts,
} from './cp-manifests.js';
import { churnUnderLoad } from './cp-churn-load.js';
import { certFingerprint, httpStatus, percentile, pollUntil, presentedCert } from './cp-probe.js';
import { startPorticoOn, type PorticoCommand } from './portico.js';
import { RELEASE_QUIET_MS } from '../../src/dataplane/heap-flags.js';
import { run, sampleRss, sleep, stopProcess, treePssKiB, treeRssKiB } from './proc.js';
import type { ControlPlaneRow, ChangeFigures } from './report.js';
import { routePath } from './scenarios.js';

/**
 * Pause before an RSS figure: Portico gives freed heap back once configuration work has been
 * quiet for RELEASE_QUIET_MS (2 s), workers 0.5 s apart each (src/dataplane/heap-flags.ts).
 */
const SETTLE_MS = 5000;

export interface ControlPlaneOptions {
  counts: number[];
  /** Changes measured per kind (route, Gateway, Secret, EndpointSlice). */
  changes: number;
  /** Data-plane worker processes (`portico run --workers`). */
  workers: number;
  /** Churn cycles (add then delete `churnRoutes` routes) at the route count `churnAt`; 0 = none. */
  churnCycles: number;
  /** The churn stops after this many seconds (0 = no bound); the cycles done are reported. */
  churnMaxSeconds: number;
  churnRoutes: number;
  churnAt: number;
  /** Seconds of wrk, quiet then with routes changing 10 times a second, at `churnAt`; 0 = none. */
  churnLoadSeconds: number;
  startupTimeoutMs: number;
  changeTimeoutMs: number;
  /** Every route (the added ones too) on a hostname of its own: a virtual host per route (--cp-hosts). */
  ownHosts?: boolean;
}

/** A second certificate the Secret change rotates to (the first is the bench's usual one). */
export async function secondCert(dir: string): Promise<{ certPem: string; keyPem: string }> {
  const cert = join(dir, 'rotated.crt');
  const key = join(dir, 'rotated.key');
  const r = await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=rotated.bench.local',
    '-addext', 'subjectAltName=DNS:bench.local,DNS:*.bench.local,IP:127.0.0.1',
  ]);
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

/**
 * When a rename into `dir` took effect, on the hrtime clock: the folder's mtime, which the kernel
 * sets as it swaps the entry in, clamped to the syscall's span. A change is timed from there, not
 * from the call. Replacing a file on ext4 first flushes the new file's data (auto_da_alloc), and on
 * this shared disk that sometimes holds the rename for 50-850 ms before anything can see it: the
 * change series' single outliers were exactly those. The mtime comes from the kernel's coarse
 * clock (at most a tick early) and is mapped through Date.now() (at most 1 ms late).
 */
function renamedAt(dir: string, before: bigint, after: bigint): bigint {
  const mtimeNs = statSync(dir, { bigint: true }).mtimeNs;
  const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  const t = mtimeNs - offset;
  return t < before ? before : t > after ? after : t;
}

/** The renames of a series the kernel held 5 ms or more before they took effect (not counted in the figures). */
function renames(ms: readonly number[]): string {
  const slow = ms.filter((x) => x >= 5);
  return slow.length ? ` (${slow.length} of ${ms.length} renames held 5 ms or more before they took effect, not counted: ${slow.map((x) => x.toFixed(0)).join('/')} ms)` : '';
}

function figures(samples: number[]): ChangeFigures {
  return { samples_ms: samples.map((x) => Math.round(x * 10) / 10), p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99) };
}

export async function measureControlPlane(
  ctx: BenchContext,
  pc: PorticoCommand,
  o: ControlPlaneOptions,
  log: (line: string) => void,
): Promise<ControlPlaneRow[]> {
  const rows: ControlPlaneRow[] = [];
  const base = ctx.ports.controlPlane;
  const p: CpPorts = { http: base, https: base + 1, moved: [base + 2, base + 3], backend: ctx.ports.backendA, closed: base + 4 };
  const certB = await secondCert(ctx.runDir);
  const certs = [ctx.cert, certB];
  const prints = certs.map((c) => certFingerprint(c.certPem));
  for (const n of o.counts) {
    const label = o.ownHosts ? `${n} routes, a hostname each` : `${n} routes`;
    const row: ControlPlaneRow = {
      routes: n,
      endpoints: serviceCount(n) * ENDPOINTS_PER_SERVICE,
      workers: o.workers,
      ...(o.ownHosts ? { own_hosts: true } : {}),
      load_average: os.loadavg()[0]!,
      startup_ms: null,
      route: null,
      gateway: null,
      secret: null,
      endpoint_slice: null,
      rss_mb: null,
      peak_rss_mb: null,
    };
    rows.push(row);
    const dir = join(ctx.runDir, 'control-plane', String(n));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Written beside the watched directory and renamed in, so the watcher never sees half a file.
    let seq = 0;
    /** Writes the new file beside the folder; the change is the rename this returns. */
    const stage = (file: string, docs: Record<string, unknown>[]) => {
      const tmp = join(dir, '..', `.cp-${n}-${seq++}.yaml`);
      writeFileSync(tmp, toYaml(docs));
      return () => renameSync(tmp, join(dir, file));
    };
    const put = (file: string, docs: Record<string, unknown>[]) => stage(file, docs)();
    put('base.yaml', cpBase(p));
    put('gateway.yaml', cpGateway(p, 0));
    put('secret.yaml', cpSecret(certs[0]!.certPem, certs[0]!.keyPem));
    put('endpoints.yaml', cpEndpoints(n));
    put('routes.yaml', cpRoutes(n, p.backend, o.ownHosts));
    put('eps-probe.yaml', cpEpsProbe(p, true));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const t0 = process.hrtime.bigint();
    let proc;
    try {
      proc = await startPorticoOn({ ...ctx, workers: o.workers }, pc, dir, p.http, `portico-cp-${n}`, o.startupTimeoutMs);
    } catch (e) {
      row.note = (e as Error).message;
      log(`control plane ${label}: ${row.note}`);
      continue;
    }
    const rss = sampleRss(proc.pid, 100);
    const status = (port: number, path: string) => httpStatus(agent, port, path, o.ownHosts ? hostFor(path) : undefined);
    /** Per series: how long the kernel held each change's rename before it took effect (renamedAt). */
    let renameMs: number[] = [];
    // Portico logs, per build, how long after the first file event of the change its config was
    // applied on every worker (src/cli/run.ts): the part of each change inside Portico, as
    // controller mode reads the controller's log. Per series, for the changes it measures.
    const logFile = join(dir, '..', `portico-cp-${n}.log`);
    const eventToServing = (): number[] => [...readFileSync(logFile, 'utf8').matchAll(/serving ([\d.]+) ms after the change event/g)].map((m) => Number(m[1]));
    let events: number[] = [];
    const fromEvent: Record<string, number[]> = {};
    /** Makes one change and polls until `served`; null (and a note) past the deadline. `measured`: its Portico-side time counts in the series. */
    const change = async (what: string, file: string, docs: Record<string, unknown>[], served: () => Promise<boolean>, measured = true): Promise<number | null> => {
      const seen = eventToServing().length;
      const rename = stage(file, docs);
      const before = process.hrtime.bigint();
      rename();
      const t = renamedAt(dir, before, process.hrtime.bigint());
      renameMs.push(Number(t - before) / 1e6);
      const ms = await pollUntil(served, t, o.changeTimeoutMs);
      if (ms === null) row.note = `${what} not served within ${o.changeTimeoutMs} ms`;
      // Changes are spaced out: each one is measured on its own, not as part of a burst.
      await sleep(200);
      const e = eventToServing()[seen];
      if (measured && ms !== null && e !== undefined) events.push(e);
      return ms;
    };
    const series = async (what: string, one: (k: number) => Promise<number | null>): Promise<ChangeFigures | null> => {
      const out: number[] = [];
      renameMs = [];
      events = fromEvent[what] = [];
      for (let k = 1; k <= o.changes; k++) {
        const ms = await one(k);
        if (ms === null) break;
        out.push(ms);
      }
      log(`control plane ${label}: ${what} ${out.map((x) => x.toFixed(0)).join('/')} ms; file event to serving ${events.map((x) => x.toFixed(0)).join('/')} ms${renames(renameMs)}`);
      return out.length ? figures(out) : null;
    };
    try {
      const left = o.startupTimeoutMs - Number(process.hrtime.bigint() - t0) / 1e6;
      row.startup_ms = await pollUntil(async () => (await status(p.http, `${routePath(n - 1)}/x`)) === 200, t0, Math.max(left, 1000));
      if (row.startup_ms === null) {
        row.note = `last of ${n} routes not served within ${o.startupTimeoutMs} ms`;
        continue;
      }
      // Let the start-up garbage settle before the first change, as a long-running process would:
      // each process returns its freed pages in one last-resort GC once configuration work has
      // been quiet for RELEASE_QUIET_MS, workers 0.5 s apart (src/dataplane/heap-flags.ts). With
      // only 1 s here the first changes met those pauses (the first route change was the slowest in every run).
      await sleep(RELEASE_QUIET_MS + 500 * o.workers + 1000);
      row.route = await series('route', (k) => {
        const path = `/added-${n}-${k}`;
        return change('route change', `added-${k}.yaml`, [cpAddedRoute(`added-${k}`, path, p.backend, o.ownHosts)], async () => (await status(p.http, path)) === 200);
      });
      row.gateway = await series('gateway', (k) => {
        const to = (k % 2) as 0 | 1;
        return change('Gateway change', 'gateway.yaml', cpGateway(p, to), async () => (await status(p.moved[to], `${routePath(n - 1)}/x`)) === 200);
      });
      row.secret = await series('secret', (k) => {
        const c = certs[k % 2]!;
        return change('Secret change', 'secret.yaml', cpSecret(c.certPem, c.keyPem), async () => (await presentedCert(p.https)) === prints[k % 2]);
      });
      /** Where backend-eps's endpoint is: on the backend (the manifest set starts so) or on a closed port. */
      let epsUp = true;
      row.endpoint_slice = await series('endpointslice', (k) => {
        const up = (epsUp = k % 2 === 0);
        return change('EndpointSlice change', 'eps-probe.yaml', cpEpsProbe(p, up), async () => {
          const s = await status(p.http, EPS_PROBE_PATH);
          return up ? s === 200 : s >= 500;
        });
      });
      // The route change after an EndpointSlice change: the slice change first (served, not
      // measured), then a new route, measured. Each of the series above runs on its own, so none
      // of them would show a route change that costs more after a slice change than before it.
      row.route_after_endpoints = await series('route after endpointslice', async (k) => {
        const up = (epsUp = !epsUp);
        const moved = await change(
          'EndpointSlice change',
          'eps-probe.yaml',
          cpEpsProbe(p, up),
          async () => {
            const s = await status(p.http, EPS_PROBE_PATH);
            return up ? s === 200 : s >= 500;
          },
          false,
        );
        if (moved === null) return null;
        const path = `/after-eps-${n}-${k}`;
        return change('route change after an EndpointSlice change', `after-eps-${k}.yaml`, [cpAddedRoute(`after-eps-${k}`, path, p.backend, o.ownHosts)], async () => (await status(p.http, path)) === 200);
      });
      const pp = (xs: number[] | undefined) => (xs && xs.length ? `${percentile(xs, 50)!.toFixed(0)}/${percentile(xs, 99)!.toFixed(0)}` : 'n/a');
      row.note = [row.note, `file event to serving p50/p99 ms: route ${pp(fromEvent.route)}, Gateway ${pp(fromEvent.gateway)}, Secret ${pp(fromEvent.secret)}, EndpointSlice ${pp(fromEvent.endpointslice)}, route after EndpointSlice ${pp(fromEvent['route after endpointslice'])}`].filter(Boolean).join('; ');
      // RSS once the changes are over (after the same pause as the churn figures), not mid-burst.
      await sleep(SETTLE_MS);
      row.rss_mb = treeRssKiB(proc.pid) / 1024;
      row.pss_mb = treePssKiB(proc.pid) / 1024;
      if (o.churnCycles > 0 && n === o.churnAt) row.churn = await churn(proc.pid, put, dir, status, p, o, log);
      if (o.churnLoadSeconds > 0 && n === o.churnAt) row.churn_load = await churnUnderLoad(put, ctx.runDir, p.http, `${routePath(n - 1)}/x`, p.backend, o.churnLoadSeconds, 10, log);
    } finally {
      row.peak_rss_mb = rss.stop();
      agent.destroy();
      await stopProcess(proc);
    }
    const f = (c: ChangeFigures | null) => (c ? `${c.p50_ms?.toFixed(0)}/${c.p99_ms?.toFixed(0)}` : 'n/a');
    log(
      `control plane ${label}: start ${row.startup_ms?.toFixed(0)} ms; p50/p99 ms: route ${f(row.route)}, gateway ${f(row.gateway)}, secret ${f(row.secret)}, endpointslice ${f(row.endpoint_slice)}, route after endpointslice ${f(row.route_after_endpoints ?? null)}; RSS ${row.rss_mb?.toFixed(1)} MiB, PSS ${row.pss_mb?.toFixed(1)} (peak ${row.peak_rss_mb?.toFixed(1)})`,
    );
  }
  return rows;
}

/**
 * `cycles` times: add `churnRoutes` routes in one file, wait until the last answers, delete the
 * file, wait until it is gone (404). RSS before the first cycle and after the last (after the
 * same 2 s settle both times), summed over Portico's processes.
 */
async function churn(
  pid: number,
  put: (file: string, docs: Record<string, unknown>[]) => void,
  dir: string,
  status: (port: number, path: string) => Promise<number>,
  p: CpPorts,
  o: ControlPlaneOptions,
  log: (line: string) => void,
): Promise<NonNullable<ControlPlaneRow['churn']>> {
  await sleep(SETTLE_MS);
  const before = treeRssKiB(pid) / 1024;
  const started = Date.now();
  let done = 0;
  let note: string | undefined;
  /** RSS every 100 cycles: where it settles, not only where it ends. */
  const samples: { cycles: number; rss_mb: number }[] = [];
  for (let c = 0; c < o.churnCycles; c++) {
    if (o.churnMaxSeconds > 0 && Date.now() - started > o.churnMaxSeconds * 1000) {
      note = `stopped after ${o.churnMaxSeconds} s (--cp-churn-max-s)`;
      break;
    }
    const last = `/churn-${c}-${o.churnRoutes - 1}`;
    const t = process.hrtime.bigint();
    put('churn.yaml', cpChurnRoutes(c, o.churnRoutes, p.backend));
    if ((await pollUntil(async () => (await status(p.http, last)) === 200, t, o.changeTimeoutMs)) === null) {
      note = `churn cycle ${c}: added routes not served within ${o.changeTimeoutMs} ms`;
      break;
    }
    unlinkSync(join(dir, 'churn.yaml'));
    if ((await pollUntil(async () => (await status(p.http, last)) === 404, t, o.changeTimeoutMs)) === null) {
      note = `churn cycle ${c}: deleted routes still served after ${o.changeTimeoutMs} ms`;
      break;
    }
    done++;
    if (done % 100 === 0) {
      samples.push({ cycles: done, rss_mb: treeRssKiB(pid) / 1024 });
      log(`churn: ${done}/${o.churnCycles} cycles, RSS ${samples.at(-1)!.rss_mb.toFixed(1)} MiB`);
    }
  }
  await sleep(SETTLE_MS);
  const after = treeRssKiB(pid) / 1024;
  log(`churn: ${done} cycles of ${o.churnRoutes} routes in ${((Date.now() - started) / 1000).toFixed(0)} s; RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MiB`);
  return { cycles: done, routes: o.churnRoutes, seconds: (Date.now() - started) / 1000, rss_before_mb: before, rss_after_mb: after, rss_samples: samples, ...(note ? { note } : {}) };
}
