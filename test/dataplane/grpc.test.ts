// gRPC end to end: @grpc/grpc-js client -> Portico engine (IR from GRPCRoute manifests via
// the translator) -> grpc-js server. Every call shape, metadata both ways, status codes,
// deadlines, no-match UNIMPLEMENTED, h2c and TLS downstream, h2c and TLS (BackendTLSPolicy) upstream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { EchoClient, OtherClient, startEchoServer, type EchoReply, type EchoRequest, type EchoServer } from '../fixtures/grpc.js';
import { freePort, LOOPBACK } from '../fixtures/l4.js';
import { pki } from '../fixtures/pki.js';
import { irOf, service } from '../fixtures/translate.js';

type Unary = (req: EchoRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: EchoReply) => void) => grpc.ClientUnaryCall;
interface Echo extends grpc.Client {
  Unary: Unary;
  ServerStream(req: EchoRequest, md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientReadableStream<EchoReply>;
  ClientStream(md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: EchoReply) => void): grpc.ClientWritableStream<EchoRequest>;
  Bidi(md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}

interface UnaryResult {
  err: grpc.ServiceError | null;
  reply?: EchoReply;
  headers?: grpc.Metadata;
  status?: grpc.StatusObject;
}

function unary(c: grpc.Client, req: EchoRequest, md = new grpc.Metadata(), opts: grpc.CallOptions = {}): Promise<UnaryResult> {
  return new Promise((resolve) => {
    const out: UnaryResult = { err: null };
    let pending = 2;
    const done = (): void => void (--pending === 0 && resolve(out));
    const call = (c as Echo).Unary(req, md, opts, (err, reply) => {
      out.err = err;
      out.reply = reply;
      done();
    });
    call.on('metadata', (h) => (out.headers = h));
    call.on('status', (s) => {
      out.status = s;
      done();
    });
  });
}

const GATEWAY_AND_ROUTES = (httpPort: number, httpsPort: number) => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  listeners:
    - { name: h2c, protocol: HTTP, port: ${httpPort} }
    - name: tls
      protocol: HTTPS
      port: ${httpsPort}
      hostname: "*.gw.example.com"
      tls: { mode: Terminate, certificateRefs: [{ name: gw-cert }] }
---
apiVersion: v1
kind: Secret
metadata: { name: gw-cert, namespace: default }
type: kubernetes.io/tls
stringData:
  tls.crt: |
${pki.gateway.certPem.replace(/^/gm, '    ')}
  tls.key: |
${pki.gateway.keyPem.replace(/^/gm, '    ')}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - matches:
        - method: { service: portico.test.Echo }
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { add: [{ name: x-gateway, value: portico }] }
        - type: ResponseHeaderModifier
          responseHeaderModifier: { add: [{ name: x-served-by, value: portico }] }
      backendRefs: [{ name: echo-a, port: 50051 }]
    - matches:
        - method: { service: portico.test.Echo, method: Unary }
          headers: [{ name: x-route, value: secure }]
      backendRefs: [{ name: echo-tls, port: 50052 }]
    - matches:
        - method: { service: portico.test.Echo, method: Unary }
          headers: [{ name: x-route, value: down }]
      backendRefs: [{ name: echo-down, port: 50053 }]
    - matches:
        - method: { service: portico.test.Echo, method: Unary }
          headers: [{ name: x-route, value: split }]
      backendRefs: [{ name: echo-a, port: 50051, weight: 1 }, { name: echo-b, port: 50054, weight: 1 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: echo-tls, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: echo-tls }]
  validation:
    hostname: backend.internal
    caCertificateRefs: [{ group: "", kind: ConfigMap, name: test-ca }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: test-ca, namespace: default }
data:
  ca.crt: |
${pki.caPem.replace(/^/gm, '    ')}
`;

describe('gRPC through Portico', { timeout: 60_000 }, () => {
  let a: EchoServer;
  let b: EchoServer;
  let secure: EchoServer;
  let engine: Engine;
  let h2c: Echo;
  let viaTls: Echo;
  let other: grpc.Client;

  before(async () => {
    a = await startEchoServer('a');
    b = await startEchoServer('b');
    secure = await startEchoServer('secure', {
      creds: grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pki.backend.certPem), private_key: Buffer.from(pki.backend.keyPem) }]),
    });
    const downPort = await freePort('tcp');
    const [httpPort, httpsPort] = [await freePort('tcp'), await freePort('tcp')];
    const ir = irOf(
      GATEWAY_AND_ROUTES(httpPort, httpsPort),
      service('echo-a', 50051, a.port, { appProtocol: 'kubernetes.io/h2c' }),
      service('echo-tls', 50052, secure.port, { appProtocol: 'kubernetes.io/h2c' }),
      service('echo-down', 50053, downPort, { appProtocol: 'kubernetes.io/h2c' }),
      service('echo-b', 50054, b.port, { appProtocol: 'kubernetes.io/h2c' }),
    );
    engine = createEngine({});
    await engine.apply(ir);
    h2c = new EchoClient(`${LOOPBACK}:${httpPort}`, grpc.credentials.createInsecure()) as unknown as Echo;
    other = new OtherClient(`${LOOPBACK}:${httpPort}`, grpc.credentials.createInsecure());
    viaTls = new EchoClient(`${LOOPBACK}:${httpsPort}`, grpc.credentials.createSsl(Buffer.from(pki.caPem)), {
      'grpc.ssl_target_name_override': 'api.gw.example.com',
      'grpc.default_authority': 'api.gw.example.com',
    }) as unknown as Echo;
  });

  after(async () => {
    h2c?.close();
    viaTls?.close();
    other?.close();
    await engine?.close(100);
    await a?.close();
    await b?.close();
    await secure?.close();
  });

  test('unary over h2c with metadata both ways, filters applied, trailers passed through', { timeout: 5_000 }, async () => {
    const md = new grpc.Metadata();
    md.set('x-client', 'c1');
    md.set('x-bin-bin', Buffer.from([0, 1, 2, 255]));
    const r = await unary(h2c, { message: 'hello' }, md);
    assert.equal(r.err, null);
    assert.equal(r.reply?.message, 'hello');
    assert.equal(r.reply?.backend, 'a');
    assert.deepEqual(r.headers?.get('echo-x-client'), ['c1']);
    assert.deepEqual(r.headers?.get('echo-x-bin-bin'), [Buffer.from([0, 1, 2, 255])], 'binary metadata survives the proxy');
    assert.deepEqual(r.headers?.get('echo-x-gateway'), ['portico'], 'RequestHeaderModifier reached the backend');
    assert.deepEqual(r.headers?.get('x-served-by'), ['portico'], 'ResponseHeaderModifier reached the client');
    assert.equal(r.status?.code, grpc.status.OK);
    assert.deepEqual(r.status?.metadata.get('x-trailer'), ['from-a']);
    assert.deepEqual(a.calls.at(-1), '/portico.test.Echo/Unary');
  });

  test('unary over TLS (HTTPS listener, SNI + ALPN h2)', { timeout: 5_000 }, async () => {
    const r = await unary(viaTls, { message: 'over tls' });
    assert.equal(r.err, null);
    assert.equal(r.reply?.message, 'over tls');
    assert.equal(r.reply?.backend, 'a');
  });

  test('server streaming', { timeout: 5_000 }, async () => {
    const got: number[] = [];
    const stream = h2c.ServerStream({ message: 's', count: 20 });
    for await (const r of stream as AsyncIterable<EchoReply>) got.push(r.index);
    assert.deepEqual(got, [...Array(20).keys()]);
  });

  test('server streaming delivers each message as it is produced', { timeout: 5_000 }, async () => {
    const stream = h2c.ServerStream({ message: 's', count: 3, delayMs: 400 });
    const times: number[] = [];
    const t0 = Date.now();
    for await (const _ of stream as AsyncIterable<EchoReply>) times.push(Date.now() - t0);
    assert.equal(times.length, 3);
    // The backend spaces the messages 400 ms apart; a proxy that buffered would deliver them together.
    assert.ok(times[2]! - times[0]! >= 600, `arrival times ${times.join(', ')} ms: not buffered until the end`);
  });

  test('client streaming', { timeout: 5_000 }, async () => {
    const reply = await new Promise<EchoReply | undefined>((resolve, reject) => {
      const call = h2c.ClientStream(new grpc.Metadata(), {}, (e, r) => (e ? reject(e) : resolve(r)));
      for (const m of ['a', 'b', 'c', 'd']) call.write({ message: m });
      call.end();
    });
    assert.equal(reply?.message, 'a,b,c,d');
    assert.equal(reply?.index, 4);
  });

  test('bidirectional streaming, ping-pong (each reply before the next request)', { timeout: 5_000 }, async () => {
    const call = h2c.Bidi();
    const replies: string[] = [];
    for (const m of ['one', 'two', 'three']) {
      const next = new Promise<EchoReply>((r) => call.once('data', r));
      call.write({ message: m });
      replies.push((await next).message);
    }
    const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
    call.end();
    assert.deepEqual(replies, ['one', 'two', 'three']);
    assert.equal((await status).code, grpc.status.OK);
  });

  test('large messages both ways (flow control)', { timeout: 5_000 }, async () => {
    const r = await unary(h2c, { message: 'x'.repeat(1 << 20), payloadBytes: 2 << 20 });
    assert.equal(r.err, null);
    assert.equal(r.reply?.message.length, 1 << 20);
    assert.equal(r.reply?.payload.length, 2 << 20);
  });

  test('status codes and messages from the backend are passed through', { timeout: 5_000 }, async () => {
    for (const code of [grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT, grpc.status.PERMISSION_DENIED, grpc.status.INTERNAL]) {
      const r = await unary(h2c, { message: 'x', failCode: code });
      assert.equal(r.err?.code, code);
      assert.equal(r.err?.details, `failing on purpose with ${code} (a)`);
      assert.deepEqual(r.status?.metadata.get('x-trailer'), ['from-a']);
    }
    const stream = h2c.ServerStream({ message: 's', count: 2, failCode: grpc.status.ABORTED });
    const seen: number[] = [];
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('data', (r: EchoReply) => seen.push(r.index));
      stream.on('error', resolve);
    });
    assert.deepEqual(seen, [0, 1]);
    assert.equal(err.code, grpc.status.ABORTED);
  });

  test('deadline exceeded', { timeout: 8_000 }, async () => {
    const t0 = Date.now();
    const r = await unary(h2c, { message: 'slow', delayMs: 1500 }, new grpc.Metadata(), { deadline: Date.now() + 200 });
    assert.equal(r.err?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 1200, 'the client got its deadline, not the reply');
    // The cancellation (or the propagated grpc-timeout) reached the backend.
    await new Promise((r) => setTimeout(r, 1600));
    assert.ok(a.cancelled.includes('slow'), 'backend saw the call cancelled');
    // The engine keeps serving after the cancelled stream.
    assert.equal((await unary(h2c, { message: 'after' })).reply?.message, 'after');
  });

  test('no matching route answers UNIMPLEMENTED', { timeout: 5_000 }, async () => {
    const r = await unary(other, { message: 'nobody' });
    assert.equal(r.err?.code, grpc.status.UNIMPLEMENTED);
    assert.ok(!a.calls.includes('/portico.test.Other/Unary'));
  });

  test('backend over TLS with BackendTLSPolicy (h2)', { timeout: 5_000 }, async () => {
    const md = new grpc.Metadata();
    md.set('x-route', 'secure');
    const r = await unary(h2c, { message: 'to tls backend' }, md);
    assert.equal(r.err, null, String(r.err?.details));
    assert.equal(r.reply?.backend, 'secure');
  });

  test('backend down answers UNAVAILABLE', { timeout: 5_000 }, async () => {
    const md = new grpc.Metadata();
    md.set('x-route', 'down');
    const r = await unary(h2c, { message: 'x' }, md);
    assert.equal(r.err?.code, grpc.status.UNAVAILABLE);
  });

  test('weighted backends share the calls', { timeout: 5_000 }, async () => {
    const md = new grpc.Metadata();
    md.set('x-route', 'split');
    const rs = await Promise.all([...Array(40).keys()].map(() => unary(h2c, { message: 'w' }, md)));
    const by = new Set(rs.map((r) => r.reply?.backend));
    assert.deepEqual([...by].sort(), ['a', 'b']);
  });

  test('many concurrent calls on one connection', { timeout: 5_000 }, async () => {
    const rs = await Promise.all([...Array(100).keys()].map((i) => unary(h2c, { message: `m${i}` })));
    assert.deepEqual(
      rs.map((r) => r.reply?.message),
      [...Array(100).keys()].map((i) => `m${i}`),
    );
  });
});
