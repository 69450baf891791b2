// The HTTP access log, request ids and trace ids, over real sockets (HTTP/1.1 and h2c clients).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { createEngine } from '../../src/dataplane/engine.js';
import type { EngineOptions } from '../../src/dataplane/engine-api.js';
import { AccessLogger, ACCESS_LOG_FIELDS, newRequestId, traceIdOf } from '../../src/observability/access-log.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, route, to } from '../dataplane/helpers.js';

type Line = Record<string, unknown>;

async function withEngine(opts: EngineOptions, fn: (port: number, lines: Line[], rawLines: string[], backendPort: number) => Promise<void>): Promise<void> {
  const a = await echoBackend('a', (req, res) => {
    if (req.url?.startsWith('/slow')) {
      setTimeout(() => { if (!res.destroyed) res.end('late'); }, 500);
      return true;
    }
    return false;
  });
  const port = await freePort();
  const raw: string[] = [];
  const engine = createEngine({ accessLog: (l) => raw.push(l), ...opts });
  await engine.apply({
    ports: [httpPort(port, [listener('web', [
      route({ path: { type: 'PathPrefix', value: '/slow' } }, [to('a')], [], { timeouts: { requestMs: 100 }, source: { kind: 'HTTPRoute', namespace: 'default', name: 'slow', rule: 0 } }),
      route({ path: { type: 'PathPrefix', value: '/empty' } }, [to('empty')], [], { source: { kind: 'HTTPRoute', namespace: 'default', name: 'empty', rule: 1 } }),
      route({ path: { type: 'PathPrefix', value: '/ok' } }, [to('a')]),
    ])])],
    clusters: { a: cluster('a', [a.port]), empty: cluster('empty', []) },
  });
  try {
    await fn(port, raw.map(() => ({})), raw, a.port);
  } finally {
    await engine.close(100);
    await a.close();
  }
}

const parse = (raw: string[]): Line[] => raw.map((l) => JSON.parse(l) as Line);
const settle = () => new Promise((r) => setTimeout(r, 50));

function h2get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on('error', reject);
    const req = s.request({ ':path': path, ':authority': 'h2.example', ...headers });
    let body = '';
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      s.close();
      resolve({ status, body });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('access log (HTTP/1.1)', () => {
  test('one JSON line per request with IR names, endpoint, bytes, durations, request and trace ids; no header values', async () => {
    await withEngine({}, async (port, _l, raw, bport) => {
      const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const r = await request(port, '/ok/1?secret=q', { agent: false, headers: { host: 'web.example', traceparent: tp, authorization: 'Bearer TOPSECRET', cookie: 'session=COOKIESECRET' } });
      assert.equal(r.status, 200);
      const sent = json(r).headers['x-request-id']!;
      assert.match(sent, /^[0-9a-f]{32}$/);
      await request(port, '/ok/2', { agent: false, headers: { 'x-request-id': 'client-id-1' } });
      await settle();
      assert.equal(raw.length, 2);
      assert.ok(!raw[0]!.includes('TOPSECRET') && !raw[0]!.includes('COOKIESECRET') && !raw[0]!.includes('secret=q'));
      const [a, b] = parse(raw);
      assert.deepEqual(Object.keys(a!), [...ACCESS_LOG_FIELDS]);
      assert.equal(a!.gateway, 'default/gw');
      assert.equal(a!.listener, 'web');
      assert.equal(a!.route, 'HTTPRoute/default/r');
      assert.equal(a!.rule, 0);
      assert.equal(a!.backend, 'a');
      assert.equal(a!.endpoint, `127.0.0.1:${bport}`);
      assert.equal(a!.method, 'GET');
      assert.equal(a!.authority, 'web.example');
      assert.equal(a!.path, '/ok/1');
      assert.equal(a!.protocol, 'HTTP/1.1');
      assert.equal(a!.status, 200);
      assert.equal(a!.upstream_status, 200);
      assert.equal(a!.retries, 0);
      assert.equal(a!.local_reason, null);
      assert.ok((a!.bytes_received as number) > 0 && (a!.bytes_sent as number) > 0);
      assert.ok(typeof a!.duration_ms === 'number' && typeof a!.upstream_duration_ms === 'number');
      assert.ok((a!.upstream_duration_ms as number) <= (a!.duration_ms as number));
      assert.ok(!Number.isNaN(Date.parse(a!.time as string)));
      assert.equal(a!.request_id, sent);
      assert.equal(a!.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(b!.request_id, 'client-id-1');
      assert.equal(b!.trace_id, null);
    });
  });

  test('local answers carry the reason the metrics classify: no_route, no_endpoints, timeout', async () => {
    await withEngine({}, async (port, _l, raw) => {
      assert.equal((await request(port, '/nothing', { agent: false })).status, 404);
      assert.equal((await request(port, '/empty', { agent: false })).status, 503);
      assert.equal((await request(port, '/slow', { agent: false })).status, 504);
      await settle();
      const [nr, ne, to] = parse(raw);
      assert.deepEqual([nr!.status, nr!.local_reason, nr!.route, nr!.listener], [404, 'no_route', null, 'web']);
      assert.deepEqual([ne!.status, ne!.local_reason, ne!.route, ne!.rule, ne!.backend, ne!.endpoint], [503, 'no_endpoints', 'HTTPRoute/default/empty', 1, 'empty', null]);
      assert.deepEqual([to!.status, to!.local_reason, to!.route, to!.upstream_status], [504, 'timeout', 'HTTPRoute/default/slow', null]);
    });
  });

  test('field list, format string, sampling 0, request ids off / preserve', async () => {
    await withEngine({ accessLogFormat: { fields: ['status', 'path', 'request_id'] } }, async (port, _l, raw) => {
      await request(port, '/ok/x', { agent: false });
      await settle();
      const [l] = parse(raw);
      assert.deepEqual(Object.keys(l!), ['status', 'path', 'request_id']);
      assert.equal(l!.path, '/ok/x');
    });
    await withEngine({ accessLogFormat: { format: '%method% %path% %status% route=%route% reason=%local_reason%' }, requestId: 'off' }, async (port, _l, raw) => {
      const r = await request(port, '/ok/y', { agent: false });
      assert.equal(json(r).headers['x-request-id'], undefined);
      await request(port, '/nope', { agent: false });
      await settle();
      assert.deepEqual(raw, ['GET /ok/y 200 route=HTTPRoute/default/r reason=-', 'GET /nope 404 route=- reason=no_route']);
    });
    await withEngine({ accessLogFormat: { sample: 0 }, requestId: 'preserve' }, async (port, _l, raw) => {
      const r = await request(port, '/ok/z', { agent: false });
      assert.equal(json(r).headers['x-request-id'], undefined);
      const r2 = await request(port, '/ok/z', { agent: false, headers: { 'x-request-id': 'keep' } });
      assert.equal(json(r2).headers['x-request-id'], 'keep');
      await settle();
      assert.equal(raw.length, 0);
    });
  });
});

describe('access log (h2c)', () => {
  test('one JSON line per stream, request id generated and sent upstream', async () => {
    await withEngine({}, async (port, _l, raw, bport) => {
      const r = await h2get(port, '/ok/h2', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', cookie: 'c=COOKIESECRET' });
      assert.equal(r.status, 200);
      const sent = (JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-request-id'];
      assert.equal((await h2get(port, '/empty')).status, 503);
      await settle();
      assert.equal(raw.length, 2);
      assert.ok(!raw.join('').includes('COOKIESECRET'));
      const [a, b] = parse(raw);
      assert.deepEqual([a!.protocol, a!.method, a!.path, a!.authority, a!.status, a!.route, a!.backend, a!.endpoint, a!.upstream_status, a!.listener],
        ['HTTP/2', 'GET', '/ok/h2', 'h2.example', 200, 'HTTPRoute/default/r', 'a', `127.0.0.1:${bport}`, 200, 'web']);
      assert.equal(a!.request_id, sent);
      assert.match(String(sent), /^[0-9a-f]{32}$/);
      assert.equal(a!.trace_id, '0af7651916cd43dd8448eb211c80319c');
      assert.ok((a!.bytes_sent as number) > 0);
      assert.deepEqual([b!.status, b!.local_reason, b!.backend], [503, 'no_endpoints', 'empty']);
    });
  });
});

describe('access log units', () => {
  test('unknown fields are refused with the list of known ones', () => {
    assert.throws(() => new AccessLogger(() => undefined, { fields: ['status', 'headers'] }), /unknown field "headers"/);
    assert.throws(() => new AccessLogger(() => undefined, { format: '%status% %cookie%' }), /unknown field "%cookie%"/);
  });
  test('request ids are unique, trace ids come only from valid traceparents', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newRequestId()));
    assert.equal(ids.size, 1000);
    assert.equal(traceIdOf(['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(traceIdOf(['traceparent', '00-00000000000000000000000000000000-00f067aa0ba902b7-01']), '');
    assert.equal(traceIdOf(['traceparent', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']), '');
    assert.equal(traceIdOf(['traceparent', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']), '');
    assert.equal(traceIdOf([]), '');
  });
});

describe('access log: portico run', () => {
  test('--workers 2 --access-log-file: JSON lines with IR names from every worker; bad flags refused', async () => {
    const { mkdtemp, rm, writeFile, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { start, portico, webAppManifests } = await import('../e2e/cli.js');
    const echo = await echoBackend('app');
    const dir = await mkdtemp(join(tmpdir(), 'portico-alog-'));
    const [port, admin] = await Promise.all([freePort(), freePort()]);
    await writeFile(join(dir, 'm.yaml'), webAppManifests(port, echo.port));
    const file = join(dir, 'access.log');
    const run = start(['run', join(dir, 'm.yaml'), '--workers', '2', '--admin', `127.0.0.1:${admin}`, '--access-log-file', file, '--access-log-fields', 'gateway,listener,route,rule,backend,status,request_id']);
    try {
      await run.waitFor(/admin on/);
      for (let i = 0; i < 10; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/x${i}`, { headers: { connection: 'close' } });
        assert.equal(r.status, 200);
        await r.text();
      }
      let lines: Line[] = [];
      for (let i = 0; i < 50 && lines.length < 10; i++) {
        await settle();
        lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
      }
      assert.equal(lines.length, 10);
      for (const l of lines) {
        assert.deepEqual(Object.keys(l), ['gateway', 'listener', 'route', 'rule', 'backend', 'status', 'request_id']);
        assert.deepEqual([l.gateway, l.listener, l.route, l.rule, l.backend, l.status], ['default/web', 'http', 'HTTPRoute/default/app', 0, 'default/app:80', 200]);
      }
      assert.equal(new Set(lines.map((l) => l.request_id)).size, 10);
      assert.ok(!run.output().includes('"request_id"'), 'nothing on stdout');
    } finally {
      await run.stop();
      await echo.close();
      await rm(dir, { recursive: true, force: true });
    }
    const bad = await portico(['run', dir, '--access-log-fields', 'status,authorization']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown field "authorization"/);
    const bad2 = await portico(['run', dir, '--request-id', 'maybe']);
    assert.equal(bad2.code, 2);
    assert.match(bad2.stderr, /--request-id must be generate, preserve or off/);
    const bad3 = await portico(['run', dir, '--trace-sampling', '0.5']);
    assert.equal(bad3.code, 2);
    assert.match(bad3.stderr, /--trace-sampling needs --otlp-endpoint/);
    const bad4 = await portico(['run', dir, '--otlp-endpoint', 'collector:4318']);
    assert.equal(bad4.code, 2);
    assert.match(bad4.stderr, /--otlp-endpoint must be an http/);
  });
});
