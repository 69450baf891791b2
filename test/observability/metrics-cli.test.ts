// /metrics served by `portico run` on --admin and --health (control plane and engine, workers
// summed), and by `portico dataplane` on --health; --metrics off leaves the engine's families out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, webAppManifests, type Running } from '../e2e/cli.js';
import { echoBackend, freePort, type Backend } from '../dataplane/helpers.js';
import { families, parse, promtool, sum } from './metrics-helpers.js';
import { MALLOC_ENV } from '../../src/dataplane/heap-flags.js';

/** VmRSS of a process and its descendants, in bytes. */
function treeRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const own = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  return own + children.reduce((a, c) => a + treeRssBytes(c), 0);
}

/** One more HTTPRoute on Gateway web, for `hostname`, to Service `service` port 80. */
const hostRoute = (name: string, hostname: string, service: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: web }]
  hostnames: [${hostname}]
  rules: [{ backendRefs: [{ name: ${service}, port: 80 }] }]
`;

const manifests = (port: number, backendPort: number, extra = '') => webAppManifests(port, backendPort, hostRoute('broken', 'broken.example', 'missing') + extra);

describe('metrics: portico run', () => {
  let dir: string, echo: Backend, run: Running, off: Running;
  let port: number, admin: number, health: number, portOff: number, adminOff: number;
  before(async () => {
    echo = await echoBackend('app');
    dir = await mkdtemp(join(tmpdir(), 'portico-metrics-'));
    [port, admin, health, portOff, adminOff] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    await writeFile(join(dir, 'on.yaml'), manifests(port, echo.port));
    const dirOff = join(dir, 'off');
    await (await import('node:fs/promises')).mkdir(dirOff);
    await writeFile(join(dirOff, 'off.yaml'), manifests(portOff, echo.port));
    run = start(['run', join(dir, 'on.yaml'), '--workers', '2', '--admin', `127.0.0.1:${admin}`, '--health', `127.0.0.1:${health}`]);
    off = start(['run', dirOff, '--workers', '1', '--admin', `127.0.0.1:${adminOff}`, '--metrics', 'off']);
    await run.waitFor(/health on/);
    await off.waitFor(/admin on/);
  });
  after(async () => {
    await Promise.all([run?.stop(), off?.stop()]);
    await echo?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('admin and health serve the same families, text/plain 0.0.4, promtool-clean', async () => {
    // New connections each time: the OS spreads them over both workers.
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/x`, { headers: { connection: 'close' } });
      assert.equal(r.status, 200);
      await r.text();
    }
    const a = await fetch(`http://127.0.0.1:${admin}/metrics`);
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await a.text();
    const h = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
    assert.deepEqual(families(h), families(text));
    const S = parse(text);
    // Both workers' counts, summed by the primary.
    assert.equal(sum(S, 'portico_http_requests_total', { gateway_name: 'web', listener: 'http', route_name: 'app', backend: 'default/app:80', code: '200' }), 20);
    assert.equal(sum(S, 'portico_dataplane_applies_total', { result: 'ok' }), 1); // once per config, not per worker
    assert.equal(sum(S, 'portico_backend_endpoints_ready', { backend: 'default/app:80' }), 1); // max over workers, not the sum
    // Control plane.
    assert.ok(sum(S, 'portico_translations_total', { result: 'ok' }) >= 1);
    assert.ok(sum(S, 'portico_translation_duration_seconds_count') >= 1);
    assert.ok(sum(S, 'portico_config_last_good_timestamp_seconds') > 1.7e9);
    assert.equal(sum(S, 'portico_objects', { kind: 'HTTPRoute' }), 2);
    assert.equal(sum(S, 'portico_objects', { kind: 'Gateway' }), 1);
    assert.equal(sum(S, 'portico_object_conditions', { kind: 'Gateway', condition: 'Programmed', status: 'True' }), 1);
    assert.equal(sum(S, 'portico_object_conditions', { kind: 'HTTPRoute', condition: 'Accepted', status: 'True' }), 2);
    // Process metrics: every process once (the primary and both workers), as /proc sees them.
    const rss = sum(S, 'process_resident_memory_bytes');
    const procRss = treeRssBytes(run.child.pid!);
    assert.ok(rss > 0.7 * procRss && rss < 1.3 * procRss, `process_resident_memory_bytes ${rss}, /proc says ${procRss}`);
    assert.ok(sum(S, 'process_resident_memory_bytes') > sum(S, 'nodejs_heap_size_used_bytes'));
    assert.ok(sum(S, 'nodejs_heap_size_total_bytes') >= sum(S, 'nodejs_heap_size_used_bytes'));
    assert.ok(sum(S, 'process_cpu_seconds_total') > 0);
    // The primary (bin/portico.js execs itself) and each worker run with glibc's malloc settings
    // (src/dataplane/heap-flags.ts MALLOC_ENV), unless this test's environment sets its own.
    const workers = readFileSync(`/proc/${run.child.pid}/task/${run.child.pid}/children`, 'utf8').split(' ').filter(Boolean);
    assert.equal(workers.length, 2);
    for (const pid of [run.child.pid!, ...workers]) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      for (const [k, v] of Object.entries(MALLOC_ENV)) assert.ok(environ.includes(`${k}=${process.env[k] ?? v}`), `${k} in process ${pid}`);
    }
    const r = promtool(text);
    if (r) assert.equal(r.output.trim() + `rc=${r.code}`, 'rc=0');
  });

  test('a change: how long until it served, and which path of the incremental translator answered it', async () => {
    const scrape = async () => parse(await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text());
    assert.equal(sum(await scrape(), 'portico_translation_paths_total', { path: 'full' }), 1, 'start-up is one full translation');
    // Renamed into place, as an editor saves: the watcher never sees half a file.
    await writeFile(join(dir, '.on.yaml.tmp'), manifests(port, echo.port, hostRoute('added', 'added.example', 'app')));
    await rename(join(dir, '.on.yaml.tmp'), join(dir, 'on.yaml'));
    let S = await scrape();
    // Observed once the rebuild's configuration serves, after its translation was counted.
    for (let i = 0; i < 100 && sum(S, 'portico_change_to_serving_seconds_count') < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      S = await scrape();
    }
    assert.ok(sum(S, 'portico_change_to_serving_seconds_count') >= 1);
    assert.equal(sum(S, 'portico_objects', { kind: 'HTTPRoute' }), 3);
    assert.ok(sum(S, 'portico_change_to_serving_seconds_sum') > 0);
    assert.ok(sum(S, 'portico_translation_paths_total', { path: 'routes' }) >= 1, 'the added route was spliced in');
    assert.equal(sum(S, 'portico_translation_paths_total', { path: 'full' }), 1);
  });

  test('--metrics off: no engine families, control plane still there', async () => {
    const r = await fetch(`http://127.0.0.1:${portOff}/x`);
    assert.equal(r.status, 200);
    await r.text();
    const text = await (await fetch(`http://127.0.0.1:${adminOff}/metrics`)).text();
    const f = families(text);
    assert.ok(f.has('portico_translations_total'));
    assert.ok(![...f].some((n) => n.startsWith('portico_http_') || n.startsWith('portico_dataplane_')), [...f].join(' '));
  });
});
