// Real sockets: `portico run` serves what `portico convert` printed, with an echo server
// behind every Service, and every sample request of --verify is sent to it over HTTP (and
// HTTPS for hosts in spec.tls). The backend that answers, the path and Host it received,
// or the redirect, must be what ingress-nginx's semantics say (rows --verify passes), and
// for the rows --verify flags (reported approximations) what the converted routes say.
// Also checked on the wire: x-forwarded-prefix, custom-headers and the CORS preflight.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { convertIngresses } from '../../src/convert/index.js';
import { verifyConversion } from '../../src/convert/verify/index.js';
import { describe as describeOutcome, type Outcome, type SampleRequest } from '../../src/convert/verify/types.js';
import { echoBackend, freePort, type Backend } from '../dataplane/helpers.js';
import { start } from '../e2e/cli.js';
import { clusterObjectsFor, convertCase } from './cases.js';

// Every case whose annotations convert (exactly or approximately) into HTTP routing; gRPC,
// passthrough and HTTPS backends are covered by the goldens and `portico check`, and
// two-classes needs two addresses (one per ingress-nginx).
const CASES = [
  'basic-prefix', 'exact-path', 'implementation-specific', 'multiple-hosts', 'no-host-rule', 'default-backend-only', 'default-backend-with-rules',
  'merge-shared-host', 'duplicate-path-conflict', 'named-port-with-service', 'tls-basic', 'tls-ssl-redirect-false', 'tls-mixed-redirect', 'force-ssl-redirect', 'tls-wildcard',
  'wildcard-host', 'cross-namespace-merge', 'ingress-class-default', 'use-regex', 'rewrite-capture-group', 'rewrite-capture-new-prefix', 'rewrite-no-capture', 'rewrite-slash-capture',
  'app-root', 'app-root-tls', 'permanent-redirect', 'permanent-redirect-code', 'permanent-redirect-tls', 'temporal-redirect', 'from-to-www-redirect', 'upstream-vhost', 'x-forwarded-prefix', 'custom-headers',
  'cors-defaults', 'cors-custom', 'timeouts', 'affinity-cookie', 'canary-weight', 'canary-weight-total', 'canary-by-header', 'canary-by-header-value',
  'canary-by-header-pattern', 'canary-by-cookie', 'canary-precedence', 'canary-path-rewrite',
];

const backends = new Map<string, Backend>();
after(async () => {
  for (const b of backends.values()) await b.close();
});

async function backendFor(key: string): Promise<Backend> {
  let b = backends.get(key);
  if (!b) backends.set(key, (b = await echoBackend(key)));
  return b;
}

/** Services and EndpointSlices putting an echo server named "ns/svc:port" behind every backendRef; TLS Secrets; GatewayClass. */
async function clusterFor(resources: Resource[]): Promise<Resource[]> {
  const out: Resource[] = [];
  for (const r of clusterObjectsFor(resources)) {
    if (r.kind !== 'Service') {
      out.push(r);
      continue;
    }
    const ns = r.metadata.namespace!;
    const ports = (r.spec as { ports: { name: string; port: number }[] }).ports;
    const slicePorts: { name: string; port: number }[] = [];
    for (const p of ports) slicePorts.push({ name: p.name, port: (await backendFor(`${ns}/${r.metadata.name}:${p.port}`)).port });
    out.push(r, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${r.metadata.name}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': r.metadata.name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: slicePorts,
    } as unknown as Resource);
  }
  return out;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(req: SampleRequest, port: number, method = 'GET', extra: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port, method, path: req.path, headers: { host: req.host, ...req.headers, ...extra }, agent: false as const };
    const r = req.scheme === 'https' ? https.request({ ...opts, servername: req.host, rejectUnauthorized: false }) : http.request(opts);
    r.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

/** What actually happened, in the words of the verify outcomes. */
function observed(reply: Reply, expected: Outcome): string {
  if (reply.status >= 300 && reply.status < 400) return describeOutcome({ kind: 'redirect', status: reply.status, location: String(reply.headers.location) });
  if (reply.status === 404) return describeOutcome({ kind: 'not-found' });
  if (reply.status !== 200) return `status ${reply.status}`;
  const echo = JSON.parse(reply.body) as { backend: string; url: string; headers: Record<string, string> };
  // A weighted split is checked for membership here; the weights themselves are pinned by the goldens and the router's own tests.
  const backendsOut = expected.kind === 'backend' && expected.backends[echo.backend] !== undefined ? expected.backends : { [echo.backend]: 1 };
  return describeOutcome({ kind: 'backend', backends: backendsOut, path: echo.url.split('?')[0]!, host: echo.headers.host!.replace(/:\d+$/, '') });
}

for (const name of CASES) {
  test(`portico run serves convert's output like ingress-nginx: ${name}`, { timeout: 60_000 }, async () => {
    const { input, options: caseOptions } = await convertCase(name);
    const options = { ...caseOptions, httpPort: await freePort(), httpsPort: await freePort() };
    const result = convertIngresses(input, options);
    const rows = verifyConversion(input, result, options);
    const dir = await mkdtemp(join(tmpdir(), 'portico-convert-run-'));
    await writeFile(join(dir, 'converted.yaml'), result.resources.map((r) => `---\n${stringify(r)}`).join(''));
    await writeFile(join(dir, 'cluster.yaml'), (await clusterFor(result.resources)).map((r) => `---\n${stringify(r)}`).join(''));
    const run = start(['run', dir, '--workers', '1']);
    try {
      await run.waitFor(new RegExp(`HTTP +0\\.0\\.0\\.0:${options.httpPort}`));
      let agreeWithNginx = 0;
      for (const row of rows) {
        if (row.nginx.kind === 'error' || row.gateway.kind === 'error') continue;
        const port = row.request.scheme === 'https' ? options.httpsPort : options.httpPort;
        const want = row.pass ? row.nginx : row.gateway;
        const got = observed(await send(row.request, port), want);
        assert.equal(got, describeOutcome(want), `${row.request.scheme}://${row.request.host}${row.request.path} ${JSON.stringify(row.request.headers)} (${row.request.why})`);
        if (row.pass) agreeWithNginx++;
      }
      assert.ok(agreeWithNginx > 0, 'no request was checked against the ingress-nginx semantics');

      const first = rows.find((r) => r.nginx.kind === 'backend' && r.pass)?.request;
      if (first && name === 'x-forwarded-prefix') {
        const echo = JSON.parse((await send({ ...first, path: '/api/users' }, options.httpPort)).body) as { url: string; headers: Record<string, string> };
        assert.equal(echo.url, '/users');
        assert.equal(echo.headers['x-forwarded-prefix'], '/api');
      }
      if (first && name === 'custom-headers') {
        const r = await send(first, options.httpPort);
        assert.equal(r.headers['x-frame-options'], 'DENY');
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
      }
      if (first && name === 'cors-custom') {
        const pre = await send(first, options.httpPort, 'OPTIONS', { origin: 'https://b.example.com', 'access-control-request-method': 'POST' });
        assert.equal(pre.headers['access-control-allow-origin'], 'https://b.example.com');
        assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
        const denied = await send(first, options.httpPort, 'OPTIONS', { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' });
        assert.equal(denied.headers['access-control-allow-origin'], undefined);
      }
      if (first && name === 'affinity-cookie') {
        // session-cookie-name/-max-age -> sessionPersistence: the data plane issues that cookie with that lifetime.
        const cookie = String((await send(first, options.httpPort)).headers['set-cookie'] ?? '');
        assert.match(cookie, /^route=[^;]+;/);
        assert.match(cookie, /Max-Age=172800/i);
      }
      if (first && name === 'canary-weight') {
        const seen = new Set<string>();
        for (let i = 0; i < 200 && seen.size < 2; i++) seen.add((JSON.parse((await send(first, options.httpPort)).body) as { backend: string }).backend);
        assert.deepEqual([...seen].sort(), ['default/web-v1:80', 'default/web-v2:80']);
      }
    } finally {
      await run.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
