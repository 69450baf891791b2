// The families metrics.test.ts can only see at rest, watched while traffic is in flight on real
// sockets: open HTTP/1.1 connections, open HTTP/2 streams, upstream pool connections carrying a
// request, an open TCP connection; then what only happens later or on failure: a UDP session's end
// (its lifetime histogram), UDP datagrams that open no session, a mirrored copy that fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { createL4Server, type L4Server } from '../../src/dataplane/l4/index.js';
import { DataplaneMetrics } from '../../src/observability/metrics/dataplane.js';
import { expose } from '../../src/observability/metrics/exposition.js';
import { metricsText } from '../../src/observability/metrics/endpoint.js';
import * as l4 from '../fixtures/l4.js';
import { cluster, echoBackend, freePort, httpPort, listener, request, route, to, type Backend } from '../dataplane/helpers.js';
import { parse, promtool, sum, type Sample } from './metrics-helpers.js';

const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });
const src = (name: string) => ({ source: { kind: 'HTTPRoute' as const, namespace: 'default', name, rule: 0 } });
const until = async (what: string, fn: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('metrics: gauges in flight, UDP session ends and refusals, mirror errors', () => {
  let engine: Engine;
  let echo: Backend, held: Backend;
  let slammer: net.Server;
  let tcpB: l4.Backend;
  let pHttp: number, pTcp: number;
  const release: (() => void)[] = [];
  const scrape = async (): Promise<Sample[]> => parse(await metricsText([engine]));

  before(async () => {
    echo = await echoBackend('echo');
    // Holds every request until the test lets it go.
    held = await echoBackend('held', (_req, res) => {
      release.push(() => res.end('done'));
      return true;
    });
    slammer = net.createServer((s) => s.destroy()); // a mirror backend that accepts and drops
    await new Promise<void>((r) => slammer.listen(0, '127.0.0.1', r));
    tcpB = await l4.tcpEcho('t');
    pHttp = await freePort();
    pTcp = await l4.freePort('tcp');
    engine = createEngine({});
    await engine.apply({
      ports: [
        httpPort(pHttp, [listener('http', [
          { ...route(prefix('/held'), [to('default/held:80')]), ...src('held') },
          {
            ...route(prefix('/mirror'), [to('default/echo:80')], [{ type: 'RequestMirror', backend: { cluster: 'default/slam:80' }, fraction: 1 }]),
            ...src('mirror'),
          },
        ])]),
        l4.l4Port('TCP', pTcp, [l4.to('default/tcp:9000')]),
      ],
      clusters: {
        'default/held:80': cluster('default/held:80', [held.port]),
        'default/echo:80': cluster('default/echo:80', [echo.port]),
        'default/slam:80': cluster('default/slam:80', [(slammer.address() as AddressInfo).port]),
        'default/tcp:9000': l4.cluster('default/tcp:9000', [tcpB.port]),
      },
    });
  });

  after(async () => {
    for (const r of release.splice(0)) r();
    await engine.close(100);
    await Promise.all([echo.close(), held.close(), tcpB.close()]);
    await new Promise((r) => slammer.close(r));
  });

  test('HTTP/1.1 connections, HTTP/2 streams and pool connections while a request is in flight, back to 0 after', async () => {
    const port = `127.0.0.1:${pHttp}/HTTP`;
    const agent = new http.Agent({ keepAlive: false });
    const h1 = request(pHttp, '/held/1', { agent });
    const h2s = http2.connect(`http://127.0.0.1:${pHttp}`);
    const stream = h2s.request({ ':path': '/held/2' });
    stream.resume();
    const streamDone = new Promise<void>((r) => stream.on('close', () => r()));
    await until('both requests at the backend', async () => release.length === 2);
    const S = await scrape();
    assert.equal(sum(S, 'portico_http_connections_active', { port }), 2, 'the HTTP/1.1 and the h2c connection');
    assert.equal(sum(S, 'portico_http2_streams_active', { port }), 1);
    assert.equal(sum(S, 'portico_upstream_pool_active_connections', { backend: 'default/held:80' }), 2);
    assert.ok(sum(S, 'portico_http_connections_total', { port }) >= 2);
    for (const r of release.splice(0)) r();
    assert.equal((await h1).status, 200);
    await streamDone;
    h2s.close();
    agent.destroy();
    await until('the gauges back to 0', async () => {
      const T = await scrape();
      return sum(T, 'portico_http_connections_active', { port }) === 0 &&
        sum(T, 'portico_http2_streams_active', { port }) === 0 &&
        sum(T, 'portico_upstream_pool_active_connections', { backend: 'default/held:80' }) === 0;
    });
  });

  test('an open TCP connection is active, then counted with its duration when it closes', async () => {
    const tcp = { listener: 'tcp', route_kind: 'TCPRoute', backend: 'default/tcp:9000' };
    const c = net.connect(pTcp, '127.0.0.1');
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.write('abc');
    await new Promise<void>((r) => c.once('data', () => r()));
    await until('one active TCP connection', async () => sum(await scrape(), 'portico_l4_connections_active', tcp) === 1);
    assert.equal(sum(await scrape(), 'portico_l4_connection_duration_seconds_count', tcp), 0);
    c.end();
    c.resume();
    await new Promise<void>((r) => c.on('close', () => r()));
    await until('the connection closed and timed', async () => {
      const S = await scrape();
      return sum(S, 'portico_l4_connections_active', tcp) === 0 && sum(S, 'portico_l4_connection_duration_seconds_count', tcp) === 1;
    });
    assert.equal(sum(await scrape(), 'portico_l4_received_bytes_total', tcp), 3);
  });

  test('a mirrored copy whose backend drops the connection: sent and error', async () => {
    assert.equal((await request(pHttp, '/mirror', { agent: false })).status, 200);
    const m = { route_name: 'mirror', backend: 'default/slam:80' };
    await until('the mirror error counted', async () => sum(await scrape(), 'portico_http_mirror_requests_total', { ...m, outcome: 'error' }) === 1);
    assert.equal(sum(await scrape(), 'portico_http_mirror_requests_total', { ...m, outcome: 'sent' }), 1);
  });

  test('UDP: a session that goes idle ends with its lifetime; datagrams that open no session are counted', async () => {
    // The L4 server directly, for a short idle timeout (the engine uses the 60 s default).
    const m = new DataplaneMetrics();
    const udpB = await l4.udpEcho('u');
    const pUdp = await l4.freePort('udp');
    const pNone = await l4.freePort('udp');
    const servers: L4Server[] = [];
    const clusters = { 'default/udp:53': l4.cluster('default/udp:53', [udpB.port], 'udp'), 'default/empty:53': l4.cluster('default/empty:53', [], 'udp') };
    servers.push(await createL4Server(l4.l4Port('UDP', pUdp, [l4.to('default/udp:53')]), clusters, { udpIdleMs: 200, metrics: m }));
    servers.push(await createL4Server(l4.l4Port('UDP', pNone, [l4.to('default/empty:53')]), clusters, { udpIdleMs: 200, metrics: m }));
    const u = await l4.udpClient();
    try {
      assert.equal(await l4.udpAsk(u, pUdp, 'ping'), 'u:ping');
      const udp = { listener: 'udp', route_kind: 'UDPRoute', backend: 'default/udp:53' };
      let S = parse(expose(m.registry.snapshot()));
      assert.equal(sum(S, 'portico_udp_sessions_active', udp), 1);
      assert.equal(sum(S, 'portico_udp_session_duration_seconds_count', udp), 0);
      assert.equal(await l4.udpAsk(u, pNone, 'a', 100), undefined);
      assert.equal(await l4.udpAsk(u, pNone, 'b', 100), undefined);
      await until('the idle session ended', async () => {
        S = parse(expose(m.registry.snapshot()));
        return sum(S, 'portico_udp_sessions_active', udp) === 0;
      });
      assert.equal(sum(S, 'portico_udp_session_duration_seconds_count', udp), 1);
      assert.ok(sum(S, 'portico_udp_session_duration_seconds_sum', udp) >= 0.2);
      // The backendRef's Service has no endpoints: refused, counted against that backend.
      assert.equal(sum(S, 'portico_udp_sessions_refused_total', { route_kind: 'UDPRoute', route_name: 'r', backend: 'default/empty:53' }), 2);
      assert.equal(sum(S, 'portico_udp_sessions_total', udp), 1, 'the refused datagrams opened no session');
      const p = promtool(expose(m.registry.snapshot()));
      if (p) assert.equal(p.output.trim() + `rc=${p.code}`, 'rc=0');
    } finally {
      u.close();
      for (const s of servers) await s.close(0);
      await udpB.close();
    }
  });

  test('TCP to a backend without endpoints: refused, counted and logged against that backend', async () => {
    const m = new DataplaneMetrics();
    const lines: string[] = [];
    const p = await l4.freePort('tcp');
    const srv = await createL4Server(l4.l4Port('TCP', p, [l4.to('default/empty:9000')]), { 'default/empty:9000': l4.cluster('default/empty:9000', []) }, { metrics: m, accessLog: (l) => lines.push(l) });
    try {
      const r = await l4.tcpRoundTrip(p, 'x');
      assert.equal(r.data, '');
      await until('the refusal logged', async () => lines.length === 1);
      const S = parse(expose(m.registry.snapshot()));
      assert.equal(sum(S, 'portico_l4_connections_refused_total', { route_kind: 'TCPRoute', backend: 'default/empty:9000' }), 1);
      assert.equal(sum(S, 'portico_l4_connections_total'), 0);
      const line = JSON.parse(lines[0]!) as { backend: string; refused: string };
      assert.equal(line.backend, 'default/empty:9000');
      assert.match(line.refused, /no ready endpoints/);
    } finally {
      await srv.close(0);
    }
  });
});
