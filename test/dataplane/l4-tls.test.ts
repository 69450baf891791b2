// TLSRoute through the L4 TLS server: passthrough by SNI (the client verifies the
// backend's own certificate end to end) and Terminate mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createL4Server } from '../../src/dataplane/l4/index.js';
import type { Listener } from '../../src/ir/types.js';
import { cluster, clustersOf, freePort, LOOPBACK, tcpEcho, tlsBackend, tlsListener, tlsPort, tlsRoute, to } from '../fixtures/l4.js';
import { pki } from '../fixtures/pki.js';

type Outcome = { ok: true; body: string; authorized: boolean } | { ok: false; error: string };

/** A verifying TLS client: CA = test CA, checks the certificate against `servername`. */
function tlsGet(port: number, servername: string | undefined, socket?: Duplex): Promise<Outcome> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: LOOPBACK, port, servername, ca: pki.caPem, socket });
    let body = '';
    let authorized = false;
    let secured = false;
    c.setEncoding('utf8');
    c.on('secureConnect', () => {
      secured = true;
      authorized = c.authorized;
    });
    c.on('data', (d: string) => (body += d));
    c.on('end', () => resolve(secured ? { ok: true, body, authorized } : { ok: false, error: 'closed before the handshake' }));
    c.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

test('passthrough: SNI picks the route; the client verifies the backend certificate', async () => {
  const foo = await tlsBackend('foo', pki.backend);
  const wild = await tlsBackend('wild', pki.backend);
  const port = await freePort('tcp');
  const cs = clustersOf(cluster('foo', [foo.port]), cluster('wild', [wild.port]));
  const l = tlsListener('tls', undefined, [
    tlsRoute('foo', ['foo.example.com'], [to('foo')]),
    tlsRoute('wild', ['*.wild.example.com'], [to('wild')]),
  ]);
  const srv = await createL4Server(tlsPort(port, [l]), cs);
  try {
    assert.deepEqual(await tlsGet(port, 'foo.example.com'), { ok: true, body: 'foo:foo.example.com', authorized: true });
    assert.deepEqual(await tlsGet(port, 'a.wild.example.com'), { ok: true, body: 'wild:a.wild.example.com', authorized: true });
    // The wildcard covers deeper names too (Gateway API semantics); the cert does not, so the client refuses.
    const deep = await tlsGet(port, 'x.y.wild.example.com');
    assert.equal(deep.ok, false);
    assert.deepEqual(wild.seen, ['a.wild.example.com', 'x.y.wild.example.com']);
    // The bare parent does not match the wildcard: closed without reaching a backend.
    assert.equal((await tlsGet(port, 'wild.example.com')).ok, false);
    assert.equal(foo.seen.length + wild.seen.length, 3);
  } finally {
    await srv.close();
    await foo.close();
    await wild.close();
  }
});

test('access log: one JSON line per connection, the SNI as authority; a refused SNI says why', async () => {
  const foo = await tlsBackend('foo', pki.backend);
  const port = await freePort('tcp');
  const lines: string[] = [];
  const l = tlsListener('tls', undefined, [tlsRoute('foo', ['foo.example.com'], [to('foo')])]);
  const srv = await createL4Server(tlsPort(port, [l]), clustersOf(cluster('foo', [foo.port])), { accessLog: (line) => lines.push(line) });
  try {
    assert.equal((await tlsGet(port, 'foo.example.com')).ok, true);
    assert.equal((await tlsGet(port, 'bar.example.com')).ok, false);
    for (let i = 0; i < 100 && lines.length < 2; i++) await sleep(20);
    const parsed = lines.map((x) => JSON.parse(x) as Record<string, unknown>);
    const ok = parsed.find((x) => x.authority === 'foo.example.com');
    const refused = parsed.find((x) => x.authority === 'bar.example.com');
    assert.deepEqual(
      [ok!.protocol, ok!.authority, ok!.gateway, ok!.listener, ok!.route, ok!.rule, ok!.endpoint, ok!.refused, ok!.client],
      ['TLS', 'foo.example.com', 'default/gw', 'tls', 'TLSRoute/default/foo', 0, `${LOOPBACK}:${foo.port}`, null, LOOPBACK],
    );
    assert.ok((ok!.bytes_received as number) > 0 && (ok!.bytes_sent as number) > 0);
    assert.deepEqual([refused!.authority, refused!.route, refused!.backend, refused!.refused], ['bar.example.com', null, null, 'no TLSRoute on default/gw/tls for SNI bar.example.com']);
  } finally {
    await srv.close();
    await foo.close();
  }
});

test('listener isolation: most specific listener hostname wins, its routes only', async () => {
  const a = await tlsBackend('a', pki.backend);
  const b = await tlsBackend('b', pki.backend);
  const port = await freePort('tcp');
  const cs = clustersOf(cluster('a', [a.port]), cluster('b', [b.port]));
  // Port lists the most specific listener first, as the IR promises.
  const exact = tlsListener('exact', 'foo.example.com', [tlsRoute('ra', ['foo.example.com'], [to('a')])]);
  const wild = tlsListener('wild', '*.example.com', [tlsRoute('rb', ['*.example.com'], [to('b')])]);
  const srv = await createL4Server(tlsPort(port, [exact, wild]), cs);
  try {
    assert.deepEqual(await tlsGet(port, 'foo.example.com'), { ok: true, body: 'a:foo.example.com', authorized: true });
    const r = await tlsGet(port, 'bar.example.com'); // no cert for it: the client refuses, but b was reached
    assert.equal(r.ok, false);
    assert.deepEqual(b.seen, ['bar.example.com']);
    assert.equal((await tlsGet(port, 'other.org')).ok, false);
    assert.equal(a.seen.length + b.seen.length, 2);
  } finally {
    await srv.close();
    await a.close();
    await b.close();
  }
});

test('no SNI, non-TLS bytes, stalled hello: closed cleanly, no backend dialed', async () => {
  const echo = await tcpEcho('e');
  const port = await freePort('tcp');
  const l = tlsListener('tls', undefined, [tlsRoute('any', ['*'], [to('e')])]);
  const srv = await createL4Server(tlsPort(port, [l]), clustersOf(cluster('e', [echo.port])), { helloTimeoutMs: 200 });
  try {
    const noSni = await tlsGet(port, undefined);
    assert.equal(noSni.ok, false);
    // Plain text is not a ClientHello.
    const plain = await rawExchange(port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    assert.deepEqual(plain, { data: '', ended: true });
    // Three bytes and then silence: cut after helloTimeoutMs.
    const t0 = Date.now();
    const stalled = await rawExchange(port, Buffer.from([0x16, 0x03, 0x01]), false);
    assert.equal(stalled.data, '');
    assert.ok(Date.now() - t0 >= 150, 'waited for the hello timeout');
    assert.equal(echo.seen.length, 0);
  } finally {
    await srv.close();
    await echo.close();
  }
});

test('route "*" takes any SNI; unknown SNI on a listener without one is closed', async () => {
  const a = await tlsBackend('a', pki.backend);
  const port = await freePort('tcp');
  const cs = clustersOf(cluster('a', [a.port]));
  const srv = await createL4Server(tlsPort(port, [tlsListener('l', undefined, [tlsRoute('r', ['foo.example.com'], [to('a')])])]), cs);
  try {
    assert.equal((await tlsGet(port, 'nope.example.com')).ok, false);
    assert.equal(a.seen.length, 0);
    srv.update(tlsPort(port, [tlsListener('l', undefined, [tlsRoute('r', ['*'], [to('a')])])]), cs);
    assert.deepEqual(await tlsGet(port, 'localhost'), { ok: true, body: 'a:localhost', authorized: true });
  } finally {
    await srv.close();
    await a.close();
  }
});

test('a ClientHello dribbled across many TCP segments still routes', async () => {
  const a = await tlsBackend('a', pki.backend);
  const port = await freePort('tcp');
  const srv = await createL4Server(tlsPort(port, [tlsListener('l', undefined, [tlsRoute('r', ['foo.example.com'], [to('a')])])]), clustersOf(cluster('a', [a.port])));
  try {
    const raw = net.connect({ host: LOOPBACK, port });
    raw.setNoDelay(true);
    await new Promise<void>((r) => raw.once('connect', () => r()));
    const r = await tlsGet(port, 'foo.example.com', dribble(raw, 40, 5));
    assert.deepEqual(r, { ok: true, body: 'a:foo.example.com', authorized: true });
  } finally {
    await srv.close();
    await a.close();
  }
});

test('hello larger than the buffer bound is refused', async () => {
  const echo = await tcpEcho('e');
  const port = await freePort('tcp');
  const l = tlsListener('tls', undefined, [tlsRoute('any', ['*'], [to('e')])]);
  const srv = await createL4Server(tlsPort(port, [l]), clustersOf(cluster('e', [echo.port])), { maxHelloBytes: 1024 });
  try {
    // A handshake record announcing a 16 KiB ClientHello that would need more than 1 KiB of buffer.
    const head = Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f, 0xfc]);
    const r = await rawExchange(port, Buffer.concat([head, Buffer.alloc(2000)]), false);
    assert.deepEqual(r, { data: '', ended: true });
    assert.equal(echo.seen.length, 0);
  } finally {
    await srv.close();
    await echo.close();
  }
});

test('Terminate: the gateway serves its certificate by SNI and sends cleartext to the backend', async () => {
  const echo = await tcpEcho('plain');
  const port = await freePort('tcp');
  const term: Listener = tlsListener('term', '*.gw.example.com', [tlsRoute('t', ['*.gw.example.com'], [to('e')])], {
    mode: 'Terminate',
    certificates: [{ secret: 'default/gw-cert', ...pki.gateway, dnsNames: ['gw.example.com', '*.gw.example.com'] }],
  });
  const pass = tlsListener('pass', 'foo.example.com', [tlsRoute('p', ['foo.example.com'], [to('b')])]);
  const b = await tlsBackend('pass', pki.backend);
  const srv = await createL4Server(tlsPort(port, [pass, term]), clustersOf(cluster('e', [echo.port]), cluster('b', [b.port])));
  try {
    const got = await new Promise<string>((resolve, reject) => {
      const c = tls.connect({ host: LOOPBACK, port, servername: 'api.gw.example.com', ca: pki.caPem }, () => c.end('hi'));
      let body = '';
      c.setEncoding('utf8');
      c.on('data', (d: string) => (body += d));
      c.on('end', () => resolve(body));
      c.on('error', reject);
    });
    assert.equal(got, 'hi|plain');
    // Same port, a passthrough listener alongside.
    assert.deepEqual(await tlsGet(port, 'foo.example.com'), { ok: true, body: 'pass:foo.example.com', authorized: true });
  } finally {
    await srv.close();
    await echo.close();
    await b.close();
  }
});

test('open passthrough connections keep their backend across update(); close(grace) cuts them', async () => {
  const a = await tlsEchoBackend('a');
  const b = await tlsEchoBackend('b');
  const port = await freePort('tcp');
  const cs = clustersOf(cluster('a', [a.port]), cluster('b', [b.port]));
  const mk = (c: string) => tlsPort(port, [tlsListener('l', undefined, [tlsRoute('r', ['foo.example.com'], [to(c)])])]);
  const srv = await createL4Server(mk('a'), cs);
  const c = tls.connect({ host: LOOPBACK, port, servername: 'foo.example.com', ca: pki.caPem });
  c.setEncoding('utf8');
  c.on('error', () => {});
  const first = await new Promise<string>((r) => {
    c.once('data', r);
    c.write('1');
  });
  assert.equal(first, 'a:1');
  srv.update(mk('b'), cs);
  const second = await new Promise<string>((r) => {
    c.once('data', r);
    c.write('2');
  });
  assert.equal(second, 'a:2');
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  await srv.close(100);
  await closed;
  await a.close();
  await b.close();
});

/** TLS backend that echoes each chunk as `<tag>:<chunk>` and stays open. */
async function tlsEchoBackend(tag: string): Promise<{ port: number; close: () => Promise<void> }> {
  const socks = new Set<tls.TLSSocket>();
  const srv = tls.createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem }, (s) => {
    socks.add(s);
    s.on('error', () => {});
    s.on('data', (d) => s.write(`${tag}:${d}`));
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => srv.listen(0, LOOPBACK, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

function rawExchange(port: number, bytes: Buffer, end = true): Promise<{ data: string; ended: boolean }> {
  return new Promise((resolve) => {
    const c = net.connect({ host: LOOPBACK, port });
    let data = '';
    let ended = false;
    c.on('data', (d) => (data += d));
    c.on('end', () => (ended = true));
    c.on('error', () => {});
    c.on('close', () => resolve({ data, ended }));
    c.on('connect', () => (end ? c.end(bytes) : c.write(bytes)));
  });
}

/** A duplex over `sock` whose writes go out in `size`-byte pieces `delayMs` apart. */
function dribble(sock: net.Socket, size: number, delayMs: number): Duplex {
  const d = new Duplex({
    async write(chunk: Buffer, _enc, cb) {
      for (let i = 0; i < chunk.length; i += size) {
        sock.write(chunk.subarray(i, i + size));
        await sleep(delayMs);
      }
      cb();
    },
    final(cb) {
      sock.end();
      cb();
    },
    read() {
      sock.resume();
    },
  });
  sock.on('data', (x) => {
    if (!d.push(x)) sock.pause();
  });
  sock.on('end', () => d.push(null));
  sock.on('close', () => d.destroy());
  return d;
}

test('Terminate: a broken certificate Secret is skipped and logged, the listener keeps serving', async () => {
  const echo = await tcpEcho('plain');
  const port = await freePort('tcp');
  const logs: string[] = [];
  const l: Listener = tlsListener('term', '*.gw.example.com', [tlsRoute('t', ['*.gw.example.com'], [to('e')])], {
    mode: 'Terminate',
    certificates: [
      { secret: 'default/broken', certPem: 'not a certificate', keyPem: 'nor a key', dnsNames: ['x.gw.example.com'] },
      { secret: 'default/gw-cert', ...pki.gateway, dnsNames: ['gw.example.com', '*.gw.example.com'] },
    ],
  });
  const srv = await createL4Server(tlsPort(port, [l]), clustersOf(cluster('e', [echo.port])), { log: (m) => logs.push(m) });
  try {
    const got = await new Promise<string>((resolve, reject) => {
      const c = tls.connect({ host: LOOPBACK, port, servername: 'x.gw.example.com', ca: pki.caPem }, () => c.end('ok'));
      let body = '';
      c.setEncoding('utf8');
      c.on('data', (d: string) => (body += d));
      c.on('end', () => resolve(body));
      c.on('error', reject);
    });
    assert.equal(got, 'ok|plain');
    assert.ok(logs.some((m) => m.includes('default/broken') && m.includes('unusable')), logs.join('\n'));
  } finally {
    await srv.close();
    await echo.close();
  }
});
