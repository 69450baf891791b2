// How upstream bytes are cut into reads must not matter: a scripted raw backend sends each
// response in chosen pieces (whole, head split, head with part of the body, chunked, interim,
// over-long), covering both the one-string path for small reads and the Buffer path for large
// ones, and the client must see exactly one correct response each time, with the upstream
// socket reused only when its framing was clean.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { cluster, freePort, raw, route, simpleIR, to } from './helpers.js';

const big = 'x'.repeat(20_000);

/** Responses by request path: each is a list of pieces written with a short pause between them. */
const scripts: Record<string, string[]> = {
  '/whole': ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello'],
  '/split-head': ['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 5\r\n\r', '\nhello'],
  '/head-part-body': ['HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n' + big.slice(0, 3000), big.slice(3000, 12000), big.slice(12000)],
  '/big-first-read': ['HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n' + big],
  '/chunked': ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 'lo\r\n6\r\n world\r\n0\r\n\r\n'],
  '/no-reason': ['HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok'],
  '/interim': ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfin'],
  '/too-long': ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA'],
  '/bad-status': ['HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n'],
};

/** Listens with `backend` on loopback and starts an engine routing every path to it. */
async function proxyTo(backend: net.Server): Promise<{ port: number; engine: Engine }> {
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = await freePort();
  const engine = createEngine({});
  await engine.apply(simpleIR(port, [route({ path: { type: 'PathPrefix', value: '/' } }, [to('b')])], [cluster('b', [(backend.address() as net.AddressInfo).port])]));
  return { port, engine };
}

describe('upstream response framing across read boundaries', () => {
  let backend: net.Server, engine: Engine, port: number;
  let connections = 0;
  before(async () => {
    backend = net.createServer((s) => {
      connections++;
      let buf = '';
      s.on('data', async (d) => {
        buf += d.toString('latin1');
        let end: number;
        while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
          const head = buf.slice(0, end);
          buf = buf.slice(end + 4);
          const path = head.split(' ')[1]!;
          const len = /content-length: (\d+)/i.exec(head);
          if (len) buf = buf.slice(Number(len[1]));
          for (const piece of scripts[path] ?? ['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n']) {
            s.write(piece, 'latin1');
            await sleep(15);
          }
        }
      });
      s.on('error', () => undefined);
    });
    ({ port, engine } = await proxyTo(backend));
  });
  after(async () => {
    await engine.close();
    backend.close();
  });

  /** One keep-alive request on a fresh client connection; returns the raw bytes the client got. */
  const get = (path: string, extra = ''): Promise<string> => raw(port, `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`, 400);

  const body = (res: string): string => res.slice(res.indexOf('\r\n\r\n') + 4);

  test('a whole small response in one read', async () => {
    const r = await get('/whole');
    assert.match(r, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r, /\r\nContent-Length: 5\r\n/);
    assert.doesNotMatch(r, /Connection: keep-alive/i, 'hop-by-hop header from the upstream is dropped');
    assert.equal(body(r), 'hello');
  });

  test('a head split across reads, including inside the final CRLFCRLF', async () => {
    const r = await get('/split-head');
    assert.equal(body(r), 'hello');
  });

  test('a head with the start of a large body, then the rest', async () => {
    const r = await get('/head-part-body');
    assert.equal(body(r), big);
  });

  test('a first read larger than the small-read limit', async () => {
    const r = await get('/big-first-read');
    assert.equal(body(r), big);
  });

  test('a chunked body whose first chunk is cut in the first read', async () => {
    const r = await get('/chunked');
    assert.match(r, /transfer-encoding: chunked/i);
    assert.equal(body(r), '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
  });

  test('a status line without a reason phrase', async () => {
    const r = await get('/no-reason');
    assert.match(r, /^HTTP\/1\.1 200\r\n/);
    assert.equal(body(r), 'ok');
  });

  test('an interim response and the final one in one read', async () => {
    const r = await get('/interim', 'Expect: 100-continue\r\nContent-Length: 0\r\n');
    assert.match(r, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.equal(r.slice(r.lastIndexOf('\r\n\r\n') + 4), 'fin');
  });

  test('bytes past Content-Length are not relayed and the upstream socket is not reused', async () => {
    const r = await get('/too-long');
    assert.equal(body(r), 'abc');
    const before = connections;
    assert.equal(body(await get('/whole')), 'hello');
    assert.equal(connections, before + 1, 'a fresh upstream connection after the out-of-sync one');
  });

  test('clean responses leave the upstream socket reusable', async () => {
    await get('/whole');
    const before = connections;
    for (let i = 0; i < 3; i++) assert.equal(body(await get('/whole')), 'hello');
    assert.equal(connections, before);
  });

  test('a malformed status code is a 502', async () => {
    assert.match(await get('/bad-status'), /^HTTP\/1\.1 502 /);
  });

  test('request side: head and body in one read, two pipelined requests in one read, a leading empty line', async () => {
    const post = 'POST /whole HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody';
    const r = await raw(port, `${post}GET /no-reason HTTP/1.1\r\nHost: t\r\n\r\n`, 600);
    assert.equal(r.match(/HTTP\/1\.1 200/g)?.length, 2);
    assert.ok(r.indexOf('hello') < r.lastIndexOf('ok'), 'answered in order');
    const lead = await raw(port, '\r\nGET /whole HTTP/1.1\r\nHost: t\r\n\r\n', 400);
    assert.equal(body(lead), 'hello');
  });

  test('first bytes that start like the HTTP/2 preface: h2c when it completes, HTTP/1.1 when it does not', async () => {
    // A SETTINGS frame (type 4) with no settings follows the preface, as every HTTP/2 client sends.
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const h2 = Buffer.from(await raw(port, ['PRI * HTTP/2.0\r\n', '\r\nSM\r\n\r\n', settings], 400, 30), 'latin1');
    assert.ok(h2.length >= 9 && h2[3] === 4, `server SETTINGS frame expected, got ${JSON.stringify(h2.toString('latin1').slice(0, 40))}`);
    const h1 = await raw(port, ['P', 'OST /whole HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n'], 400, 30);
    assert.equal(body(h1), 'hello');
  });
});

describe('upstream responses cut at random byte boundaries', () => {
  // Each path names a canned response; the backend writes it in random pieces with a short
  // pause between them, so reads land on every kind of boundary: inside the head, right after
  // it, inside a chunk-size line, across the 8 KiB small-read limit.
  const big = Array.from({ length: 9000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  const chunked = (parts: string[]): string => parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n';
  const canned: Record<string, { raw: string; body: string }> = {
    '/small': { raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\nhello world', body: 'hello world' },
    '/big': { raw: `HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`, body: big },
    '/chunked': { raw: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(['abc', 'defgh', big.slice(0, 5000), 'z'])}`, body: `abcdefgh${big.slice(0, 5000)}z` },
    '/empty': { raw: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', body: '' },
    '/binary': { raw: 'HTTP/1.1 200 OK\r\nContent-Length: 256\r\n\r\n' + Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join(''), body: Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('') },
  };
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let backend: net.Server, engine: Engine, port: number;
  before(async () => {
    backend = net.createServer((s) => {
      let buf = '';
      let busy = Promise.resolve();
      s.on('data', (d) => {
        buf += d.toString('latin1');
        let end: number;
        while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
          const path = buf.slice(0, end).split(' ')[1]!;
          buf = buf.slice(end + 4);
          const raw = canned[path]!.raw;
          busy = busy.then(async () => {
            let at = 0;
            while (at < raw.length) {
              const n = 1 + rand(Math.min(raw.length - at, rand(4) === 0 ? 12000 : 40));
              s.write(raw.slice(at, at + n), 'latin1');
              at += n;
              await sleep(rand(3) === 0 ? 2 : 0);
            }
          });
        }
      });
      s.on('error', () => undefined);
    });
    ({ port, engine } = await proxyTo(backend));
  });
  after(async () => {
    await engine.close();
    backend.close();
  });

  test('60 keep-alive requests on one client connection each get exactly their body', async () => {
    const paths = Object.keys(canned);
    const client = net.connect(port, '127.0.0.1');
    client.setEncoding('latin1');
    let got = '';
    client.on('data', (d: string) => (got += d));
    await new Promise((r) => client.once('connect', r));
    try {
      for (let i = 0; i < 60; i++) {
        const path = paths[rand(paths.length)]!;
        got = '';
        client.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
        const want = canned[path]!.body;
        // Read one whole response: its head, then its body by the framing it announces.
        for (let t = 0; t < 500; t++) {
          const h = got.indexOf('\r\n\r\n');
          if (h >= 0) {
            const head = got.slice(0, h);
            const rest = got.slice(h + 4);
            const cl = /content-length: (\d+)/i.exec(head);
            if (cl && rest.length >= Number(cl[1])) break;
            if (/transfer-encoding: chunked/i.test(head) && rest.endsWith('0\r\n\r\n')) break;
          }
          await sleep(5);
        }
        const h = got.indexOf('\r\n\r\n');
        assert.ok(h >= 0, `${path}: no response head (${JSON.stringify(got.slice(0, 80))})`);
        const head = got.slice(0, h);
        let body = got.slice(h + 4);
        if (/transfer-encoding: chunked/i.test(head)) {
          let out = '';
          for (;;) {
            const eol = body.indexOf('\r\n');
            const size = parseInt(body.slice(0, eol), 16);
            if (size === 0) break;
            out += body.slice(eol + 2, eol + 2 + size);
            body = body.slice(eol + 2 + size + 2);
          }
          body = out;
        }
        assert.match(head, /^HTTP\/1\.1 200 OK\r\n/, path);
        assert.doesNotMatch(head, /connection: keep-alive/i, `${path}: hop-by-hop header dropped`);
        assert.equal(body.length, want.length, `${path}: body length`);
        assert.ok(body === want, `${path}: body bytes`);
      }
    } finally {
      client.destroy();
    }
  });
});
