// `portico run` end to end: real manifests, real sockets, real HTTP requests for each
// feature the README shows, then reload-on-change and a clean drain on signal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackends, type Echo, type RunningBackends } from '../../examples/backends.js';
import { ROOT, start } from './cli.js';
import { freePort } from '../dataplane/helpers.js';

let backends: RunningBackends;
before(async () => {
  backends = await startBackends();
});
after(async () => {
  await backends?.close();
});

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; echo?: Echo }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, echo: res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Echo) : undefined };
}

async function tally(url: string, n: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await get(url, headers);
    const b = r.echo?.backend ?? `status ${r.status}`;
    counts[b] = (counts[b] ?? 0) + 1;
  }
  return counts;
}

/** examples/ listens on fixed ports; other suites may hold one briefly, so wait for them rather than fail. */
async function waitForFreePorts(ports: number[], timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      const free = await new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
      });
      if (free) break;
      if (Date.now() > end) throw new Error(`port ${port} stayed busy; examples/ needs it`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

test('portico run examples/: canary split, header routing, redirect, URL rewrite, admin API, drain on SIGTERM', { timeout: 90_000 }, async () => {
  await waitForFreePorts([8080, 9000, 9080, 9081, 9443, 9444]);
  const run = start(['run', 'examples/', '--workers', '1', '--admin', '127.0.0.1:0']);
  try {
    const [, adminPort] = await run.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/);
    assert.match(run.output(), /ok {4}HTTPRoute default\/canary: Accepted, ResolvedRefs/);
    assert.match(run.output(), /HTTP  0\.0\.0\.0:8080  default\/web\/http/);
    const base = 'http://127.0.0.1:8080';

    // Canary: 90/10 by weight.
    const split = await tally(`${base}/`, 200);
    assert.equal((split['echo-v1'] ?? 0) + (split['echo-v2'] ?? 0), 200, JSON.stringify(split));
    assert.ok(split['echo-v2']! >= 5 && split['echo-v2']! <= 45, `v2 share out of range: ${JSON.stringify(split)}`);
    const one = await get(`${base}/shop?item=1`);
    assert.equal(one.headers.get('x-portico-route'), 'canary');
    assert.equal(one.echo!.path, '/shop');
    assert.deepEqual(one.echo!.query, { item: '1' });

    // Header routing: x-version: v2 always reaches v2, with the request header the route sets.
    assert.deepEqual(await tally(`${base}/`, 20, { 'x-version': 'v2' }), { 'echo-v2': 20 });
    const hv = await get(`${base}/x`, { 'x-version': 'v2' });
    assert.equal(hv.echo!.headers['x-routed-by'], 'header-routing');
    // A different header value falls back to the canary route.
    assert.equal((await get(`${base}/`, { 'x-version': 'v3' })).headers.get('x-portico-route'), 'canary');

    // Redirect: /old/... -> 301 /new/..., query kept.
    const red = await get(`${base}/old/page?x=1`);
    assert.equal(red.status, 301);
    assert.equal(red.headers.get('location'), 'http://127.0.0.1:8080/new/page?x=1');

    // URL rewrite: /api/... reaches echo-api as /v1/... with Host api.internal.
    const rw = await get(`${base}/api/users/42?full=1`);
    assert.equal(rw.status, 200);
    assert.equal(rw.echo!.backend, 'echo-api');
    assert.equal(rw.echo!.path, '/v1/users/42');
    assert.equal(rw.echo!.headers.host, 'api.internal');
    assert.deepEqual(rw.echo!.query, { full: '1' });

    // Admin API.
    const admin = `http://127.0.0.1:${adminPort}`;
    assert.equal(await (await fetch(`${admin}/healthz`)).text(), 'ok\n');
    const ir = (await (await fetch(`${admin}/ir`)).json()) as { ports: { port: number; protocol: string }[] };
    assert.ok(ir.ports.some((p) => p.port === 8080 && p.protocol === 'HTTP'));
    const status = (await (await fetch(`${admin}/status`)).json()) as { statuses: { kind: string; name: string }[]; problems: unknown[] };
    assert.ok(status.statuses.some((s) => s.kind === 'HTTPRoute' && s.name === 'rewrite'));
    assert.deepEqual(status.problems, []);
    assert.equal((await fetch(`${admin}/nope`)).status, 404);

    const code = await run.stop('SIGTERM');
    assert.equal(code, 0, run.output());
    assert.match(run.output(), /SIGTERM: draining/);
  } finally {
    await run.stop('SIGKILL');
  }
});

test('portico run reloads on change, keeps the last good version of a broken object, and drains on SIGINT', { timeout: 90_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  for (const f of ['gatewayclass.yaml', 'web-backends.yaml', 'http-canary.yaml']) await copyFile(join(ROOT, 'examples', f), join(dir, f));
  const gw = (await readFile(join(ROOT, 'examples', 'web-gateway.yaml'), 'utf8')).replace('port: 8080', `port: ${port}`);
  await writeFile(join(dir, 'gateway.yaml'), gw);

  const run = start(['run', dir, '--workers', '1']);
  try {
    await run.waitFor(new RegExp(`0\\.0\\.0\\.0:${port}`));
    const base = `http://127.0.0.1:${port}`;
    assert.ok((await tally(`${base}/`, 40))['echo-v1']! > 20);

    // Shift all traffic to v2.
    const canary = await readFile(join(dir, 'http-canary.yaml'), 'utf8');
    let mark = run.output().length;
    await writeFile(join(dir, 'http-canary.yaml'), canary.replace('weight: 90', 'weight: 0').replace('weight: 10', 'weight: 100'));
    await run.waitFor(/change detected, reloading/, 10_000, mark);
    await run.waitFor(/listening:/, 10_000, mark);
    // How long after the file event the new config served (what the bench reads): said once the build is applied.
    await run.waitFor(/serving \d+\.\d ms after the change event/, 10_000, mark);
    assert.deepEqual(await tally(`${base}/`, 30), { 'echo-v2': 30 });

    // Break the route: it keeps its last good version (all v2) and the problem names file:line and field.
    mark = run.output().length;
    await writeFile(join(dir, 'http-canary.yaml'), canary.replace('weight: 90', 'weight: -5'));
    await run.waitFor(/http-canary\.yaml:\d+: HTTPRoute default\/canary: spec\.rules\[0\]\.backendRefs\[0\]\.weight: must be at least 0.*keeping the last good version/, 10_000, mark);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await tally(`${base}/`, 20), { 'echo-v2': 20 });

    // A file that no longer parses keeps its documents too.
    mark = run.output().length;
    await writeFile(join(dir, 'gateway.yaml'), 'kind: Gateway\nmetadata: [oops\n');
    await run.waitFor(/gateway\.yaml:\d+: YAML syntax/, 10_000, mark);
    assert.equal((await get(`${base}/`)).status, 200);

    // Remove the route: 404 from the Gateway.
    mark = run.output().length;
    await rm(join(dir, 'http-canary.yaml'));
    await run.waitFor(/change detected, reloading/, 10_000, mark);
    await run.waitFor(/listening:/, 10_000, mark);
    assert.equal((await get(`${base}/`)).status, 404);

    assert.equal(await run.stop('SIGINT'), 0, run.output());
  } finally {
    await run.stop('SIGKILL');
  }
});

test('portico run exits 1 naming the port when a listener cannot bind at startup', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-run-busy-'));
  const blocker = createServer();
  t.after(async () => {
    blocker.close();
    await rm(dir, { recursive: true, force: true });
  });
  const port = await new Promise<number>((resolve) => blocker.listen(0, '0.0.0.0', () => resolve((blocker.address() as { port: number }).port)));
  for (const f of ['gatewayclass.yaml', 'web-backends.yaml', 'http-canary.yaml']) await copyFile(join(ROOT, 'examples', f), join(dir, f));
  await writeFile(join(dir, 'gateway.yaml'), (await readFile(join(ROOT, 'examples', 'web-gateway.yaml'), 'utf8')).replace('port: 8080', `port: ${port}`));
  const run = start(['run', dir, '--workers', '1']);
  const code = await run.stop('SIGCONT');
  assert.equal(code, 1, run.output());
  assert.match(run.output(), new RegExp(`${port}.*EADDRINUSE.*nothing to fall back to`));
  assert.doesNotMatch(run.output(), /^\s+at /m);
});

test('portico run serves the listeners it can bind, names the one it cannot, and binds it on a later reload', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-run-partial-'));
  const blocker = createServer();
  t.after(async () => {
    blocker.close();
    await rm(dir, { recursive: true, force: true });
  });
  const busy = await new Promise<number>((resolve) => blocker.listen(0, '0.0.0.0', () => resolve((blocker.address() as { port: number }).port)));
  const free = await freePort();
  for (const f of ['gatewayclass.yaml', 'web-backends.yaml', 'http-canary.yaml']) await copyFile(join(ROOT, 'examples', f), join(dir, f));
  const gateway = (await readFile(join(ROOT, 'examples', 'web-gateway.yaml'), 'utf8')).replace(
    '      port: 8080',
    `      port: ${free}\n    - name: busy\n      protocol: HTTP\n      port: ${busy}`,
  );
  await writeFile(join(dir, 'gateway.yaml'), gateway);
  // An address this machine does not have (TEST-NET-1): reported, never attempted.
  await writeFile(
    join(dir, 'elsewhere.yaml'),
    `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: elsewhere, namespace: default}\nspec:\n  gatewayClassName: portico\n  addresses: [{type: IPAddress, value: 192.0.2.1}]\n  listeners: [{name: http, protocol: HTTP, port: ${free}}]\n`,
  );
  const run = start(['run', dir, '--workers', '1']);
  try {
    await run.waitFor(new RegExp(`cannot listen on 0\\.0\\.0\\.0:${busy}/HTTP \\(EADDRINUSE\\): those listeners are not programmed`));
    await run.waitFor(/busy.*PortUnavailable/);
    await run.waitFor(/AddressNotUsable/);
    assert.doesNotMatch(run.output(), /192\.0\.2\.1:\d+\/HTTP \(/, 'an address the machine lacks is not even tried');
    assert.equal((await get(`http://127.0.0.1:${free}/`)).status, 200, 'the listener that could bind serves');

    // The other process lets go; the next reload (any change, or the periodic retry) binds the port.
    await new Promise((r) => blocker.close(r));
    const mark = run.output().length;
    await writeFile(join(dir, 'gateway.yaml'), `${gateway}\n# touched\n`);
    await run.waitFor(/every port is bound again/, 20_000, mark);
    assert.equal((await get(`http://127.0.0.1:${busy}/`)).status, 200, 'the freed port serves the same routes');
    assert.equal(await run.stop('SIGINT'), 0, run.output());
  } finally {
    await run.stop('SIGKILL');
  }
});
