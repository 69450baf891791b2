// Limits and bad input: 431, 408 (slowloris), 400 for malformed requests without harming
// other connections, idle keep-alive timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { cluster, echoBackend, freePort, json, raw, request, route, simpleIR, to, type Backend } from './helpers.js';

describe('limits and bad input', () => {
  let a: Backend, engine: Engine, port: number;
  before(async () => {
    a = await echoBackend('a');
    port = await freePort();
    engine = createEngine({ maxHeaderBytes: 4096, maxHeaderCount: 20, requestHeadTimeoutMs: 300, idleTimeoutMs: 400 });
    await engine.apply(simpleIR(port, [route({}, [to('a')])], [cluster('a', [a.port])]));
  });
  after(async () => {
    await engine.close(100);
    await a.close();
  });

  test('header section too large -> 431', async () => {
    const out = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
  });

  test('head that never ends, larger than the limit -> 431 before the end arrives', async () => {
    const out = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}`);
    assert.match(out, /^HTTP\/1\.1 431 /);
  });

  test('too many headers -> 431', async () => {
    let h = '';
    for (let i = 0; i < 25; i++) h += `X-H${i}: v\r\n`;
    const out = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\n${h}\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
  });

  test('slowloris: a head trickling in past the head timeout -> 408 and close', async () => {
    const parts = ['GET / HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n', '\r\n'];
    const t0 = Date.now();
    const out = await raw(port, parts, 2000, 100);
    assert.match(out, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - t0 < 1000);
  });

  test('a connection that sends nothing is closed after the head timeout', async () => {
    const t0 = Date.now();
    const out = await raw(port, [], 2000);
    assert.equal(out, '');
    assert.ok(Date.now() - t0 < 1000);
  });

  test('malformed requests -> 400, other connections unaffected', async () => {
    const bad = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\n\r\n', // no Host
      'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n folded: y\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    // A healthy keep-alive connection open across all of it.
    const good = net.connect(port, '127.0.0.1');
    let goodOut = '';
    good.on('data', (d) => (goodOut += d));
    await new Promise((r) => good.once('connect', r));
    for (const b of bad) {
      const out = await raw(port, b);
      assert.match(out, /^HTTP\/1\.1 400 /, JSON.stringify(b));
      good.write('GET /still HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await new Promise((r) => setTimeout(r, 100));
    good.destroy();
    assert.equal((goodOut.match(/HTTP\/1\.1 200/g) ?? []).length, bad.length);
    assert.equal(json(await request(port, '/after')).backend, 'a');
  });

  test('random garbage on many connections never takes the engine down', async () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const prefixes = ['', 'GET / HTTP/1.1\r\n', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n'];
    const jobs: Promise<string>[] = [];
    for (let i = 0; i < 60; i++) {
      const junk = Buffer.alloc(1 + rnd(600));
      for (let j = 0; j < junk.length; j++) junk[j] = rnd(256);
      jobs.push(raw(port, Buffer.concat([Buffer.from(prefixes[rnd(prefixes.length)]!), junk]), 500).catch(() => ''));
    }
    await Promise.all(jobs);
    // A new connection: a pooled keep-alive socket may be mid-close by the 400 ms idle sweep.
    assert.equal(json(await request(port, '/after-garbage', { agent: false })).backend, 'a');
  });

  test('bad chunked body -> 400', async () => {
    const out = await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 /);
  });

  test('a client stalled in the middle of its body is cut off after the idle timeout', async () => {
    const t0 = Date.now();
    const out = await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-a-little', 3000);
    assert.equal(out, '');
    const waited = Date.now() - t0;
    assert.ok(waited >= 300 && waited < 2000, `closed after ${waited}ms`);
  });

  test('after Connection: close, a client that never closes its side is dropped at the idle timeout', { timeout: 5000 }, async () => {
    // allowHalfOpen: this client keeps its side open after the gateway's FIN.
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((r) => s.once('connect', r));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('error', () => undefined);
    const ended = new Promise<void>((r) => s.once('end', () => r()));
    s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await ended;
    assert.match(out, /^HTTP\/1\.1 200/);
    // Past the idle timeout the gateway has dropped the socket: our next write is refused.
    await new Promise((r) => setTimeout(r, 700));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.write('late');
    setTimeout(() => s.write('later'), 50);
    await closed;
  });

  test('idle keep-alive connection is closed after the idle timeout', async () => {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.resume();
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const t0 = Date.now();
    await new Promise<void>((r) => s.on('close', () => r()));
    const waited = Date.now() - t0;
    assert.ok(waited >= 300 && waited < 1500, `closed after ${waited}ms`);
  });
});

describe('half-close', () => {
  test('a client that shuts down its write side after the request still gets the response', async () => {
    const a = await echoBackend('a');
    const port = await freePort();
    const engine = createEngine({});
    await engine.apply(simpleIR(port, [route({}, [to('a')])], [cluster('a', [a.port])]));
    const out = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.end('GET /half HTTP/1.1\r\nHost: x\r\n\r\n'));
      let d = '';
      s.on('data', (c) => (d += c));
      s.on('close', () => resolve(d));
      s.on('error', reject);
    });
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.match(out, /"url":"\/half"/);
    await engine.close(100);
    await a.close();
  });
});
