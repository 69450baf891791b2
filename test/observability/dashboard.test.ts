// The dashboard on `portico run --admin` (src/observability/dashboard.ts): a real run with two
// workers on real sockets, traffic from fetch, the page loaded in headless Chromium (Debian
// package `chromium`, driven over the DevTools protocol: ./chromium.ts). Checks what the state
// says against /metrics (one counting path), that the page's route row shows a non-zero rate and
// the broken route its reason, and that no reply and no rendered DOM holds key material.
// PORTICO_DASHBOARD_SCREENSHOT=path writes the page's screenshot there (docs/dashboard.png).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { start, ROOT, type Running } from '../e2e/cli.js';
import { echoBackend, freePort, type Backend } from '../dataplane/helpers.js';
import { assertNoKeyMaterial, tlsGatewayObjects } from '../fixtures/secrets.js';
import { parse, sum } from './metrics-helpers.js';
import { Browser, chromiumPath } from './chromium.js';

const gw = 'gateway.networking.k8s.io/v1';
const meta = (name: string) => ({ name, namespace: 'default' });
const service = (name: string, port: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: meta(name), spec: { ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: port }] } });

function manifests(port: number, backendPort: number, tlsPorts: { https: number; tls: number; http: number }): string {
  const objs = [
    { apiVersion: gw, kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    { apiVersion: gw, kind: 'Gateway', metadata: meta('web'), spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', protocol: 'HTTP', port }] } },
    { apiVersion: gw, kind: 'HTTPRoute', metadata: meta('app'), spec: { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'app', port: 80 }] }] } },
    // No listener named https on web: Accepted False NoMatchingParent.
    { apiVersion: gw, kind: 'HTTPRoute', metadata: meta('broken'), spec: { parentRefs: [{ name: 'web', sectionName: 'https' }], rules: [{ backendRefs: [{ name: 'app', port: 80 }] }] } },
    // A Service without endpoints: every request a 503 from Portico.
    { apiVersion: gw, kind: 'HTTPRoute', metadata: meta('down'), spec: { parentRefs: [{ name: 'web' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/down' } }], backendRefs: [{ name: 'down', port: 80 }] }] } },
    service('app', backendPort),
    service('down', 1),
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { ...meta('app-1'), labels: { 'kubernetes.io/service-name': 'app' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', protocol: 'TCP', port: backendPort }],
    },
    // Every key-carrying field the IR has (listener and backend client certificates), and a Secret with a PEM in data.
    ...tlsGatewayObjects({ namespace: 'default', gatewayClassName: 'portico', ports: tlsPorts, backend: { address: '127.0.0.1', port: 1 }, withMalformedSecret: true }),
  ];
  return objs.map((o) => YAML.stringify(o)).join('---\n');
}

interface State {
  mode: string;
  metrics: boolean;
  gateways: { namespace: string; name: string; listeners: { name: string; attachedRoutes: number }[] }[];
  routes: { kind: string; name: string; parents: { parentRef: string; conditions: { type: string; status: string; reason: string }[] }[] }[];
  backends: { name: string; ready: number }[];
  problems: { severity: string; file: string; line: number; object: string; path: string; message: string }[];
  traffic: { route: string; backend: string; unit: string; total: number; errors: number; buckets: number[] }[];
}

describe('dashboard: portico run --admin', () => {
  let dir: string, echo: Backend, run: Running, port: number, admin: string, health: string;
  before(async () => {
    echo = await echoBackend('app');
    dir = await mkdtemp(join(tmpdir(), 'portico-dashboard-'));
    port = await freePort();
    const tlsPorts = { https: await freePort(), tls: await freePort(), http: await freePort() };
    await writeFile(join(dir, 'gateways.yaml'), manifests(port, echo.port, tlsPorts));
    // A manifest that does not parse: a problem with file and line.
    await writeFile(join(dir, 'typo.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: typo\n   namespace: default\n');
    run = start(['run', dir, '--workers', '2', '--admin', '127.0.0.1:0', '--health', '127.0.0.1:0']);
    admin = `http://127.0.0.1:${(await run.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/, 60_000))[1]}`;
    health = `http://127.0.0.1:${(await run.waitFor(/health on http:\/\/127\.0\.0\.1:(\d+)/, 60_000))[1]}`;
  });
  after(async () => {
    await run?.stop();
    await echo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string, base = admin) => {
    const r = await fetch(base + path);
    return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
  };
  const traffic = async (n: number, path = '/') => {
    for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } })).text();
  };

  test('the page and its assets come from Portico (no other origin), admin listener only', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script type="module" src="dashboard\/app\.js">/);
    for (const [path, type] of [['/dashboard/app.js', /^text\/javascript/], ['/dashboard/rates.js', /^text\/javascript/], ['/dashboard/style.css', /^text\/css/]] as const) {
      const a = await get(path);
      assert.equal(a.status, 200, path);
      assert.match(a.type, type, path);
      assert.ok(a.body.length > 200, path);
    }
    for (const path of ['/', '/dashboard/app.js', '/dashboard/rates.js', '/dashboard/style.css'])
      assert.doesNotMatch((await get(path)).body, /(?:src|href)=["']?(?:https?:)?\/\/|import\s.*from\s+['"]https?:|@import\s+url\(\s*['"]?https?:/, `${path} loads nothing from another origin`);
    for (const path of ['/', '/dashboard/state', '/dashboard/app.js']) assert.equal((await get(path, health)).status, 404, `health listener must not serve ${path}`);
  });

  test('state: conditions, backends, problems with file and line, traffic equal to /metrics; no key material', async () => {
    await traffic(30);
    await traffic(5, '/down');
    const s = JSON.parse((await get('/dashboard/state')).body) as State;
    assert.equal(s.mode, 'file');
    assert.equal(s.metrics, true);
    const web = s.gateways.find((g) => g.name === 'web');
    assert.deepEqual(web?.listeners.map((l) => [l.name, l.attachedRoutes]), [['http', 2]]);
    const broken = s.routes.find((r) => r.name === 'broken')!;
    assert.deepEqual(broken.parents.map((p) => [p.parentRef, p.conditions.find((c) => c.type === 'Accepted')?.reason]), [['default/web/https', 'NoMatchingParent']]);
    assert.deepEqual(
      s.backends.filter((b) => ['default/app:80', 'default/down:80'].includes(b.name)).map((b) => [b.name, b.ready]),
      [['default/app:80', 1], ['default/down:80', 0]],
    );
    const typo = s.problems.find((p) => p.file.endsWith('typo.yaml'));
    assert.ok(typo && typo.severity === 'error' && typo.line > 0, JSON.stringify(s.problems));
    assert.ok(s.problems.some((p) => p.file.endsWith('gateways.yaml') && p.line > 0 && p.object === 'Secret default/pem-in-data' && /not shown/.test(p.message)), JSON.stringify(s.problems));

    // The same counters /metrics exposes (scraped after the state: nothing ran in between).
    const m = parse((await get('/metrics')).body);
    const app = s.traffic.find((t) => t.route === 'HTTPRoute/default/app' && t.backend === 'default/app:80')!;
    assert.equal(app.total, sum(m, 'portico_http_requests_total', { route_name: 'app' }));
    assert.ok(app.total >= 30);
    assert.equal(app.errors, 0);
    assert.equal(app.buckets.reduce((a, b) => a + b, 0), sum(m, 'portico_http_request_duration_seconds_count', { route_name: 'app' }));
    const down = s.traffic.find((t) => t.route === 'HTTPRoute/default/down')!;
    assert.deepEqual([down.total, down.errors], [5, sum(m, 'portico_http_5xx_responses_total', { route_name: 'down', side: 'portico' })]);

    for (const path of ['/', '/dashboard/state', '/dashboard/app.js', '/dashboard/rates.js', '/dashboard/style.css']) assertNoKeyMaterial((await get(path)).body, `GET ${path}`);
  });

  test('headless Chromium: a live rate on the route row, the broken route red with its reason', { timeout: 120_000 }, async (t) => {
    const bin = chromiumPath();
    if (!bin) {
      if (process.env.CI) assert.fail('chromium is missing: install the Debian package chromium (.ci/run does)');
      t.skip('chromium is not installed (Debian package chromium)');
      return;
    }
    const browser = await Browser.launch(bin);
    let sending = true;
    // A failed request stops the load; its error is the test's (below), not a 30 s wait for a rate.
    let loadError: unknown;
    const load = (async () => {
      for (let i = 0; sending; i++) {
        await traffic(1, i % 10 === 0 ? '/down' : '/');
        await new Promise((r) => setTimeout(r, 15));
      }
    })().catch((e: unknown) => {
      loadError = e;
    });
    try {
      await browser.goto(`${admin}/`);
      const rate = await browser.waitFor<number>(
        `(() => { const v = Number(document.querySelector('tr[data-route="HTTPRoute/default/app"] td[data-col="rate"]')?.dataset.value); return v > 0 ? v : 0; })()`,
        30_000,
        'a non-zero rate on the HTTPRoute default/app row',
      );
      assert.ok(rate > 0);
      const row = await browser.eval<{ cls: string; text: string }>(
        `(() => { const r = document.querySelector('tr[data-route="HTTPRoute/default/broken"]'); return { cls: r.className, text: r.textContent }; })()`,
      );
      assert.match(row.cls, /\bbad\b/);
      assert.match(row.text, /Accepted: False NoMatchingParent/);
      assert.match(row.text, /has no listener with sectionName https/);
      const appRow = await browser.eval<string>(`document.querySelector('tr[data-route="HTTPRoute/default/app"]').className`);
      assert.doesNotMatch(appRow, /\bbad\b/);
      // The down route: 503s from Portico show as errors; its backend has no ready endpoint.
      await browser.waitFor(`document.querySelector('tr[data-route="HTTPRoute/default/down"] td[data-col="errors"]')?.textContent === '100.0%'`, 20_000, 'errors 100% on the down route');
      assert.equal(await browser.eval(`document.querySelector('tr[data-backend="default/down:80"] td.zero')?.textContent`), '0');
      const problems = await browser.eval<string>(`document.querySelector('#problems').textContent`);
      assert.match(problems, /typo\.yaml:\d+/);
      // p50/p99 of the app route, in milliseconds.
      assert.match(await browser.eval<string>(`document.querySelector('tr[data-route="HTTPRoute/default/app"] td[data-col="p99"]').textContent`), /^\d+(\.\d+)? m?s$/);
      assertNoKeyMaterial(await browser.eval<string>('document.documentElement.outerHTML'), 'the rendered page');
      const shot = process.env.PORTICO_DASHBOARD_SCREENSHOT;
      if (shot) {
        // For the README: rates over a few seconds of traffic, not the first two polls.
        await browser.waitFor(`Number(document.querySelector('.window').textContent) >= 5`, 30_000, 'a 5 s rate window');
        await writeFile(resolve(ROOT, shot), await browser.screenshot());
      }
    } finally {
      sending = false;
      await load;
      // Always: a browser left running keeps this test file's process, and so the whole run, alive.
      await browser.close();
      if (loadError) throw new Error(`the load stopped: ${(loadError as Error).message}`, { cause: loadError });
    }
  });
});
