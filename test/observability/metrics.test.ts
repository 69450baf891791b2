// Every data-plane metric family, counted from real traffic on real sockets: HTTP/1.1 and h2c
// requests, gRPC statuses, local answers (no route, no backend, no endpoints, connect failure,
// timeout) and upstream 5xx, retries, mirrors, HTTPS and a failed TLS handshake, TCP, TLS
// passthrough and UDP; then `promtool check metrics` on the output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { IR, Listener } from '../../src/ir/types.js';
import { metricsText } from '../../src/observability/metrics/endpoint.js';
import { ControlPlaneMetrics } from '../../src/observability/metrics/controlplane.js';
import { pki } from '../fixtures/pki.js';
import { EchoClient, startEchoServer, type EchoServer } from '../fixtures/grpc.js';
import * as l4 from '../fixtures/l4.js';
import { cluster, echoBackend, freePort, httpPort, request, route, to, type Backend } from '../dataplane/helpers.js';
import { families, parse, promtool, sum, type Sample } from './metrics-helpers.js';

const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });
const src = (name: string, kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute') => ({ source: { kind, namespace: 'default', name, rule: 0 } });

describe('metrics: data plane', () => {
  let echo: Backend, slow: Backend, flaky: Backend, mirror: Backend, slammer: net.Server, grpcSrv: EchoServer;
  let tcpB: l4.Backend, udpB: l4.Backend, tlsB: l4.Backend;
  let engine: Engine;
  let pHttp: number, pHttps: number, pTcp: number, pUdp: number, pTls: number, pTerm: number;
  const mirrored: string[] = [];
  const tries = new Map<string, number>();
  let text = '';
  let S: Sample[] = [];

  before(async () => {
    echo = await echoBackend('echo');
    mirror = await echoBackend('mirror', (req, res) => {
      mirrored.push(req.url!);
      res.end('m');
      return true;
    });
    slow = await echoBackend('slow', (_req, res) => {
      setTimeout(() => res.end('late'), 400);
      return true;
    });
    flaky = await echoBackend('flaky', (req, res) => {
      const n = (tries.get(req.url!) ?? 0) + 1;
      tries.set(req.url!, n);
      res.writeHead(n === 1 ? 503 : req.url!.includes('fail') ? 500 : 200);
      res.end('x');
      return true;
    });
    slammer = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => slammer.listen(0, '127.0.0.1', r));
    grpcSrv = await startEchoServer('g1');
    tcpB = await l4.tcpEcho('t');
    udpB = await l4.udpEcho('u');
    tlsB = await l4.tlsBackend('tlsb', pki.backend);
    pHttp = await freePort();
    pHttps = await freePort();
    pTcp = await l4.freePort('tcp');
    pUdp = await l4.freePort('udp');
    pTls = await l4.freePort('tcp');
    pTerm = await l4.freePort('tcp');
    const httpListener: Listener = {
      name: 'default/gw/http',
      protocol: 'HTTP',
      virtualHosts: [
        {
          hostname: '*',
          routes: [
            { ...route(prefix('/portico.test.Echo/'), [to('default/grpc:50051')]), ...src('grpc', 'GRPCRoute'), grpc: true },
            { ...route(prefix('/ok'), [to('default/echo:80')]), ...src('ok') },
            { ...route(prefix('/slow'), [to('default/slow:80')], [], { timeouts: { requestMs: 100 } }), ...src('slow') },
            { ...route(prefix('/retry'), [to('default/flaky:80')], [], { retry: { codes: [503], attempts: 2, backoffMs: 0 } }), ...src('retry') },
            { ...route(prefix('/dead'), [to('default/dead:80')]), ...src('dead') },
            { ...route(prefix('/noep'), [to('default/noep:80')]), ...src('noep') },
            { ...route(prefix('/nobackend'), []), ...src('nobackend') },
            {
              ...route(prefix('/mirror'), [to('default/echo:80')], [
                { type: 'RequestMirror', backend: { cluster: 'default/mirror:80' }, fraction: 1 },
                { type: 'RequestMirror', backend: { cluster: 'default/noep:80' }, fraction: 1 },
              ]),
              ...src('mirror'),
            },
          ],
        },
      ],
    };
    const httpsListener: Listener = {
      name: 'default/gw/https',
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificates: [{ secret: 'default/gw', ...pki.gateway, dnsNames: ['gw.example.com', '*.gw.example.com'] }] },
      virtualHosts: [{ hostname: '*', routes: [{ ...route(prefix('/'), [to('default/echo:80')]), ...src('secure') }] }],
    };
    const ir: IR = {
      ports: [
        httpPort(pHttp, [httpListener]),
        httpPort(pHttps, [httpsListener], 'HTTPS'),
        l4.l4Port('TCP', pTcp, [l4.to('default/tcp:9000')]),
        l4.l4Port('UDP', pUdp, [l4.to('default/udp:53')]),
        l4.tlsPort(pTls, [l4.tlsListener('tls', undefined, [l4.tlsRoute('pass', ['backend.internal'], [l4.to('default/tlsb:443')])])]),
        l4.tlsPort(pTerm, [
          l4.tlsListener('term', undefined, [l4.tlsRoute('term', ['*'], [l4.to('default/tcp:9000')])], {
            mode: 'Terminate',
            certificates: [{ secret: 'default/gw', ...pki.gateway, dnsNames: ['gw.example.com', '*.gw.example.com'] }],
          }),
        ]),
      ],
      clusters: Object.fromEntries(
        [
          cluster('default/echo:80', [echo.port]),
          cluster('default/mirror:80', [mirror.port]),
          cluster('default/slow:80', [slow.port]),
          cluster('default/flaky:80', [flaky.port]),
          cluster('default/dead:80', [(slammer.address() as AddressInfo).port]),
          cluster('default/noep:80', []),
          cluster('default/grpc:50051', [grpcSrv.port], { protocol: 'h2c' }),
          l4.cluster('default/tcp:9000', [tcpB.port]),
          l4.cluster('default/udp:53', [udpB.port], 'udp'),
          l4.cluster('default/tlsb:443', [tlsB.port]),
        ].map((c) => [c.name, c]),
      ),
    };
    engine = createEngine({});
    await engine.apply(ir);

    // --- traffic ---
    for (let i = 0; i < 3; i++) assert.equal((await request(pHttp, '/ok')).status, 200);
    assert.equal((await request(pHttp, '/ok', { method: 'POST', body: 'x'.repeat(1000) })).status, 200);
    assert.equal((await request(pHttp, '/nowhere')).status, 404);
    assert.equal((await request(pHttp, '/slow')).status, 504);
    assert.equal((await request(pHttp, '/retry/a')).status, 200); // 503, retried, 200
    assert.equal((await request(pHttp, '/retry/fail')).status, 500); // 503, retried, upstream 500
    assert.equal((await request(pHttp, '/dead')).status, 502);
    assert.equal((await request(pHttp, '/noep')).status, 503);
    assert.equal((await request(pHttp, '/nobackend')).status, 500);
    assert.equal((await request(pHttp, '/mirror')).status, 200);
    // HTTP/2 (h2c prior knowledge): two streams on one session.
    const h2 = http2.connect(`http://127.0.0.1:${pHttp}`);
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = h2.request({ ':path': '/ok/h2' });
        s.on('response', (h) => assert.equal(h[':status'], 200));
        s.resume();
        s.on('end', resolve);
        s.on('error', reject);
      });
    }
    h2.close();
    // gRPC: OK, NOT_FOUND (5) from the backend.
    const client = new EchoClient(`127.0.0.1:${pHttp}`, grpc.credentials.createInsecure());
    const unary = (req: object) => new Promise<number>((r) => client.Unary(req, (err: grpc.ServiceError | null) => r(err ? err.code : 0)));
    assert.equal(await unary({ message: 'hi' }), 0);
    assert.equal(await unary({ message: 'hi', failCode: 5 }), 5);
    client.close();
    // HTTPS, then a client that speaks no TLS at all to the HTTPS port.
    const sres = await new Promise<number>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: pHttps, path: '/', servername: 'gw.example.com', ca: pki.caPem, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
    });
    assert.equal(sres, 200);
    await new Promise<void>((r) => {
      const c = net.connect(pHttps, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\n\r\n'));
      c.on('error', () => undefined);
      c.on('close', () => r());
      c.resume();
    });
    // ... and a client that rejects the certificate (unknown CA) and closes.
    await new Promise<void>((r) => {
      const c = tls.connect({ host: '127.0.0.1', port: pHttps, servername: 'gw.example.com', ca: pki.otherCaPem });
      c.on('error', () => r());
      c.on('close', () => r());
    });
    // L4
    assert.equal((await l4.tcpRoundTrip(pTcp, 'hello')).data, 'hello|t');
    const u = await l4.udpClient();
    assert.equal(await l4.udpAsk(u, pUdp, 'ping'), 'u:ping');
    u.close();
    const tlsAnswer = await new Promise<string>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port: pTls, servername: 'backend.internal', ca: pki.caPem });
      let d = '';
      c.on('data', (x) => (d += x));
      c.on('end', () => resolve(d));
      c.on('error', reject);
    });
    assert.equal(tlsAnswer, 'tlsb:backend.internal');
    // A TLS client whose SNI matches no route is refused.
    await new Promise<void>((r) => {
      const c = tls.connect({ host: '127.0.0.1', port: pTls, servername: 'nobody.example', rejectUnauthorized: false });
      c.on('error', () => r());
      c.on('close', () => r());
    });
    // TLS Terminate (L4): a client that rejects the certificate (unknown CA) fails the handshake.
    await new Promise<void>((r) => {
      const c = tls.connect({ host: '127.0.0.1', port: pTerm, servername: 'gw.example.com', ca: pki.otherCaPem });
      c.on('error', () => r());
      c.on('close', () => r());
    });
    // Let closes land (mirror answer, L4 closes, the stream close events).
    await new Promise((r) => setTimeout(r, 300));
    text = await metricsText([engine]);
    S = parse(text);
  });

  after(async () => {
    await engine.close(100);
    await Promise.all([echo.close(), slow.close(), flaky.close(), mirror.close(), grpcSrv.close(), tcpB.close(), udpB.close(), tlsB.close()]);
    await new Promise((r) => slammer.close(r));
  });

  const route_ = (name: string, extra: Record<string, string> = {}) => ({ gateway_namespace: 'default', gateway_name: 'gw', route_name: name, ...extra });

  test('HTTP requests by route rule, backend and code; HTTP/1.1 and h2 alike', () => {
    const ok = { ...route_('ok'), listener: 'http', route_kind: 'HTTPRoute', route_namespace: 'default', rule: '0', backend: 'default/echo:80', code: '200' };
    assert.equal(sum(S, 'portico_http_requests_total', ok), 6); // 4 HTTP/1.1 + 2 h2
    assert.equal(sum(S, 'portico_http_request_duration_seconds_count', route_('ok', { backend: 'default/echo:80' })), 6);
    assert.ok(sum(S, 'portico_http_request_duration_seconds_sum', route_('ok', { backend: 'default/echo:80' })) > 0);
    assert.ok(sum(S, 'portico_http_request_bytes_total', route_('ok')) >= 1000);
    assert.ok(sum(S, 'portico_http_response_bytes_total', route_('ok')) > 0);
    // The +Inf bucket equals the count; buckets are cumulative.
    const inf = S.find((s) => s.name === 'portico_http_request_duration_seconds_bucket' && s.labels.route_name === 'ok' && s.labels.le === '+Inf');
    assert.equal(inf?.value, 6);
    // The request no route matched: its listener, no route, a local 404.
    assert.equal(sum(S, 'portico_http_requests_total', { listener: 'http', route_name: '', code: '404' }), 1);
    assert.equal(sum(S, 'portico_http_local_responses_total', { listener: 'http', reason: 'no_route', code: '404' }), 1);
  });

  test('5xx by side: portico (timeout, connect failure, no endpoints, no backend) or upstream', () => {
    const local = (name: string, reason: string, code: string) => sum(S, 'portico_http_local_responses_total', route_(name, { reason, code }));
    assert.equal(local('slow', 'timeout', '504'), 1);
    assert.equal(local('dead', 'connect_failure', '502'), 1);
    assert.equal(local('noep', 'no_endpoints', '503'), 1);
    assert.equal(local('nobackend', 'no_backend', '500'), 1);
    for (const n of ['slow', 'dead', 'noep', 'nobackend']) assert.equal(sum(S, 'portico_http_5xx_responses_total', route_(n, { side: 'portico' })), 1, n);
    assert.equal(sum(S, 'portico_http_5xx_responses_total', route_('retry', { side: 'upstream' })), 1);
    assert.equal(sum(S, 'portico_http_5xx_responses_total', route_('retry', { side: 'portico' })), 0);
    assert.equal(sum(S, 'portico_http_timeouts_total', route_('slow')), 1);
    assert.equal(sum(S, 'portico_http_upstream_connect_failures_total', route_('dead', { backend: 'default/dead:80' })), 1);
  });

  test('request duration by status class (code_class): exact codes stay on the counter', () => {
    const dur = (name: string, code_class: string) => sum(S, 'portico_http_request_duration_seconds_count', route_(name, { code_class }));
    assert.equal(dur('ok', '2xx'), 6);
    assert.equal(sum(S, 'portico_http_request_duration_seconds_count', route_('ok')), 6, 'no other class for a route that only answered 200');
    // The retried route answered a 200 and a 500 (after a 503 each): one observation per request, in its class.
    assert.equal(dur('retry', '2xx'), 1);
    assert.equal(dur('retry', '5xx'), 1);
    // Local answers too: the route timeout (504, ~the timeout's length), and the request no route matched (404).
    assert.equal(dur('slow', '5xx'), 1);
    assert.equal(sum(S, 'portico_http_request_duration_seconds_count', { listener: 'http', route_name: '', code_class: '4xx' }), 1);
    const classes = new Set(S.filter((x) => x.name.startsWith('portico_http_request_duration_seconds')).map((x) => x.labels.code_class));
    for (const c of classes) assert.match(c!, /^([1-5]xx|other)$/);
    assert.ok(!S.some((x) => x.name.startsWith('portico_http_request_duration_seconds') && 'code' in x.labels), 'the histogram has no exact code label');
  });

  test('retries and mirror outcomes', () => {
    assert.equal(sum(S, 'portico_http_retries_total', route_('retry', { backend: 'default/flaky:80' })), 2);
    assert.equal(sum(S, 'portico_http_requests_total', route_('retry', { code: '200' })), 1);
    assert.equal(sum(S, 'portico_http_requests_total', route_('retry', { code: '500' })), 1);
    assert.equal(sum(S, 'portico_http_mirror_requests_total', route_('mirror', { backend: 'default/mirror:80', outcome: 'sent' })), 1);
    assert.equal(sum(S, 'portico_http_mirror_requests_total', route_('mirror', { backend: 'default/noep:80', outcome: 'not_sent' })), 1);
    assert.deepEqual(mirrored, ['/mirror']);
  });

  test('gRPC calls by grpc-status', () => {
    const g = route_('grpc', { route_kind: 'GRPCRoute', backend: 'default/grpc:50051' });
    assert.equal(sum(S, 'portico_grpc_requests_total', { ...g, grpc_status: 'OK' }), 1);
    assert.equal(sum(S, 'portico_grpc_requests_total', { ...g, grpc_status: 'NOT_FOUND' }), 1);
    assert.equal(sum(S, 'portico_http_requests_total', { ...g, code: '200' }), 2);
  });

  test('connections, streams and TLS handshake failures per port', () => {
    const http = `127.0.0.1:${pHttp}/HTTP`;
    const sec = `127.0.0.1:${pHttps}/HTTPS`;
    assert.ok(sum(S, 'portico_http_connections_total', { port: http }) >= 2);
    assert.equal(sum(S, 'portico_http_connections_total', { port: sec }), 3);
    // In-flight values of the active gauges: metrics-live.test.ts.
    assert.ok(families(text).has('portico_http_connections_active'));
    assert.ok(families(text).has('portico_http2_streams_active'));
    assert.equal(sum(S, 'portico_http2_streams_active', { port: http }), 0); // both streams closed
    assert.equal(sum(S, 'portico_tls_handshake_failures_total', { port: sec }), 2);
    assert.equal(sum(S, 'portico_tls_handshake_failures_total', { port: `127.0.0.1:${pTerm}/TLS` }), 1);
    assert.equal(S.filter((s) => s.name === 'portico_http_connections_active' && s.labels.port!.endsWith('/TLS')).length, 0);
  });

  test('L4: TCP and TLS connections, bytes each way, duration; UDP sessions', () => {
    const tcp = { listener: 'tcp', route_kind: 'TCPRoute', backend: 'default/tcp:9000' };
    assert.equal(sum(S, 'portico_l4_connections_total', tcp), 1);
    assert.equal(sum(S, 'portico_l4_connections_active', tcp), 0);
    assert.equal(sum(S, 'portico_l4_received_bytes_total', tcp), 5);
    assert.equal(sum(S, 'portico_l4_sent_bytes_total', tcp), 7);
    assert.equal(sum(S, 'portico_l4_connection_duration_seconds_count', tcp), 1);
    const pass = { listener: 'tls', route_kind: 'TLSRoute', route_name: 'pass', backend: 'default/tlsb:443' };
    assert.equal(sum(S, 'portico_l4_connections_total', pass), 1);
    assert.ok(sum(S, 'portico_l4_sent_bytes_total', pass) > 0);
    assert.equal(sum(S, 'portico_l4_connections_refused_total', { route_name: '' }), 1); // SNI nobody.example
    const udp = { listener: 'udp', route_kind: 'UDPRoute', backend: 'default/udp:53' };
    assert.equal(sum(S, 'portico_udp_sessions_total', udp), 1);
    assert.equal(sum(S, 'portico_udp_sessions_active', udp), 1); // idle timeout not reached
    assert.equal(sum(S, 'portico_l4_received_bytes_total', udp), 4);
    assert.equal(sum(S, 'portico_l4_sent_bytes_total', udp), 6);
    assert.ok(families(text).has('portico_udp_session_duration_seconds'));
    assert.ok(families(text).has('portico_udp_sessions_refused_total'));
  });

  test('backends: ready endpoints and pool use; applies', () => {
    assert.equal(sum(S, 'portico_backend_endpoints_ready', { backend: 'default/echo:80' }), 1);
    assert.equal(sum(S, 'portico_backend_endpoints_ready', { backend: 'default/noep:80' }), 0);
    assert.ok(sum(S, 'portico_upstream_pool_idle_connections', { backend: 'default/echo:80' }) >= 1);
    assert.equal(sum(S, 'portico_upstream_pool_active_connections', { backend: 'default/echo:80' }), 0);
    assert.equal(sum(S, 'portico_dataplane_applies_total', { result: 'ok' }), 1);
    assert.equal(sum(S, 'portico_dataplane_apply_duration_seconds_count'), 1);
    assert.ok(sum(S, 'portico_dataplane_last_apply_timestamp_seconds') > 1.7e9);
  });

  test('no label carries a path, host or client address', () => {
    for (const s of S) {
      for (const [k, v] of Object.entries(s.labels)) {
        assert.ok(!v.startsWith('/') && !v.includes('gw.example.com') && !v.includes('backend.internal') && !v.includes('nobody'), `${s.name} ${k}=${v}`);
        if (k !== 'port') assert.ok(!/^127\./.test(v), `${s.name} ${k}=${v}`);
      }
    }
    const codes = new Set(S.filter((s) => s.labels.code !== undefined).map((s) => s.labels.code));
    for (const c of codes) assert.match(c!, /^([1-5]\d\d|[1-5]xx|other)$/);
  });

  test('promtool check metrics accepts the output (data plane and control plane) with no warning', (t) => {
    const cp = new ControlPlaneMetrics();
    cp.translations.child(['ok']).v++;
    const all = text + '';
    const r = promtool(all);
    if (r === null) {
      if (process.env.CI) assert.fail('promtool is missing: install the Debian package prometheus');
      return t.skip('promtool not installed (Debian package prometheus)');
    }
    assert.equal(r.output.trim(), '', r.output);
    assert.equal(r.code, 0, r.output);
  });
});
