// Regressions found by the HTTP desync corpus (test/protocols/desync, crates.io
// http_desync_guardian 0.1.3), each pinned on real sockets with a backend that records the
// exact bytes it receives:
// - Transfer-Encoding trimmed with String.prototype.trim and matched with \s, both of which take
//   U+00A0 for whitespace: "\xa0chunked" and "chunked\xa0" were forwarded as chunked.
// - "chunked" applied twice ("chunked, chunked", or two fields) was accepted.
// - "gzip, chunked" was forwarded as "transfer-encoding: chunked": the gzip coding was lost.
// - Field names that spell a framing field ("Content_Length", "Transfer___Encoding") were
//   forwarded; servers that fold '_' into '-' frame the body by them.
// - A body on GET/HEAD went out on a pooled upstream connection that was then reused (CL.0).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { transferCodings } from '../../src/dataplane/http1/parser.js';
import { cluster, freePort, raw, route, simpleIR, to } from './helpers.js';

/** Backend connections, each with every byte received; answers each request once its body (CL or chunked) is in. */
interface Recorder {
  server: net.Server;
  conns: string[];
}

function recorder(): Recorder {
  const conns: string[] = [];
  const server = net.createServer((s) => {
    const i = conns.push('') - 1;
    let pending = '';
    s.on('data', (d) => {
      conns[i] += d.toString('latin1');
      pending += d.toString('latin1');
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.slice(0, end);
        let used = end + 4;
        const cl = /\r\ncontent-length: (\d+)/i.exec(head);
        if (/\r\ntransfer-encoding: [^\r]*chunked/i.test(head)) {
          const last = pending.indexOf('\r\n0\r\n\r\n', end);
          const empty = pending.startsWith('0\r\n\r\n', end + 4);
          if (!empty && last < 0) return;
          used = empty ? end + 9 : last + 7;
        } else if (cl) {
          if (pending.length < used + Number(cl[1])) return;
          used += Number(cl[1]);
        }
        pending = pending.slice(used);
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      }
    });
    s.on('error', () => undefined);
  });
  return { server, conns };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('desync corpus regressions (HTTP/1.1)', () => {
  let rec: Recorder, engine: Engine, port: number, h2Port: number;
  before(async () => {
    rec = recorder();
    await new Promise<void>((r) => rec.server.listen(0, '127.0.0.1', r));
    const bport = (rec.server.address() as net.AddressInfo).port;
    port = await freePort();
    engine = createEngine({});
    // /h2/ goes to an h2c cluster that is never reached (nothing listens there): only local answers are expected.
    h2Port = await freePort();
    await engine.apply(
      simpleIR(
        port,
        [route({ path: { type: 'PathPrefix', value: '/h2/' } }, [to('h2')]), route({ path: { type: 'PathPrefix', value: '/' } }, [to('b')])],
        [cluster('b', [bport]), cluster('h2', [h2Port], { protocol: 'h2c' })],
      ),
    );
  });
  after(async () => {
    await engine.close();
    rec.server.close();
  });

  /**
   * Sends on a fresh client connection; returns the client's bytes and, per upstream connection
   * (pooled ones included) that received anything meanwhile, the bytes it received.
   */
  async function send(req: string | Buffer | (string | Buffer)[], waitMs = 300, gapMs = 0): Promise<{ res: string; got: string[] }> {
    const before = rec.conns.map((c) => c.length);
    const res = await raw(port, req, waitMs, gapMs);
    await sleep(20);
    return { res, got: rec.conns.map((c, i) => c.slice(before[i] ?? 0)).filter((c) => c.length > 0) };
  }

  async function rejected(req: string | Buffer): Promise<void> {
    const { res, got } = await send(req);
    assert.match(res, /^HTTP\/1\.1 400 /, JSON.stringify(req.toString()));
    assert.match(res, /\r\nconnection: close\r\n/i);
    assert.deepEqual(got, [], 'nothing reaches the backend');
  }

  test('Transfer-Encoding with U+00A0 (NBSP) around chunked: 400, nothing forwarded', async () => {
    await rejected(bytes('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n'));
    await rejected(bytes('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n'));
    await rejected(bytes('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip,\xa0chunked\r\n\r\n0\r\n\r\n'));
  });

  test('chunked applied more than once, or not last: 400', async () => {
    await rejected('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked,chunked\r\n\r\n0\r\n\r\n');
    await rejected('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    await rejected('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n');
    await rejected('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n');
    await rejected('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n');
    await rejected('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked;a=\r\n\r\n0\r\n\r\n');
  });

  test('transfer codings before chunked are forwarded (names only), with the body intact', async () => {
    const body = '5\r\nhello\r\n0\r\n\r\n';
    const { res, got } = await send(`POST /tc HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Deflate ; q=1, chunked;ext="a b"\r\n\r\n${body}`);
    assert.match(res, /^HTTP\/1\.1 200 /);
    assert.equal(got.length, 1);
    assert.match(got[0]!, /\r\ntransfer-encoding: gzip, deflate, chunked\r\n/);
    assert.equal((got[0]!.match(/transfer-encoding/gi) ?? []).length, 1);
    assert.ok(got[0]!.endsWith('\r\n\r\n' + body), 'the chunked body follows the head unchanged');
    const plain = await send(`POST /tc HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked ;foo, \r\n\r\n${body}`);
    assert.match(plain.got[0]!, /\r\ntransfer-encoding: chunked\r\n/);
  });

  test('transfer codings other than chunked toward an HTTP/2 backend: 501', async () => {
    const { res, got } = await send('POST /h2/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
    assert.match(res, /^HTTP\/1\.1 501 /);
    assert.deepEqual(got, []);
  });

  test('field names that spell Content-Length or Transfer-Encoding: 400', async () => {
    for (const name of ['Content_Length', 'content__length', 'Transfer_Encoding', 'Transfer___Encoding', 'Transfer---Encoding', '-Content-Length', 'TransferEncoding', 'Content.Length']) {
      await rejected(`POST / HTTP/1.1\r\nHost: t\r\n${name}: 5\r\n\r\nhello`);
    }
  });

  test('other names are forwarded unchanged, underscores included', async () => {
    const names = ['My_Custom_Header', 'Content-Type', 'Content-Length-Hint', 'X-Content-Length', 'Cache-Control', 'Transfer-Id', 'content-lengths'];
    const { res, got } = await send(`GET / HTTP/1.1\r\nHost: t\r\n${names.map((n) => `${n}: v`).join('\r\n')}\r\n\r\n`);
    assert.match(res, /^HTTP\/1\.1 200 /);
    for (const n of names) assert.match(got[0]!, new RegExp(`\\r\\n${n.toLowerCase()}: v\\r\\n`));
  });

  test('a body on GET or HEAD: forwarded with its length, and that upstream connection is not reused', async () => {
    for (const method of ['GET', 'HEAD']) {
      const { res, got } = await send([`${method} /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello`, 'GET /b HTTP/1.1\r\nHost: t\r\n\r\n'], 500, 150);
      assert.equal((res.match(/HTTP\/1\.1 200 /g) ?? []).length, 2, res);
      assert.equal(got.length, 2, `${method} with a body and the next request use two upstream connections`);
      assert.match(got[0]!, new RegExp(`^${method} /a HTTP/1.1\\r\\n[^]*content-length: 5\\r\\n\\r\\nhello$`));
      assert.match(got[1]!, /^GET \/b HTTP\/1\.1\r\n/);
    }
    const chunkedGet = await send(['GET /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'GET /b HTTP/1.1\r\nHost: t\r\n\r\n'], 500, 150);
    assert.equal(chunkedGet.got.length, 2);
    // Control: a POST body is defined, and its upstream connection is reused.
    const post = await send(['POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello', 'GET /b HTTP/1.1\r\nHost: t\r\n\r\n'], 500, 150);
    assert.equal((post.res.match(/HTTP\/1\.1 200 /g) ?? []).length, 2);
    assert.ok(post.got.length <= 1, 'the POST and the next request share one (possibly pooled) upstream connection');
  });
});

describe('transferCodings()', () => {
  test('accepted lists, normalised to coding names', () => {
    assert.equal(transferCodings('chunked'), 'chunked');
    assert.equal(transferCodings('CHUNKED'), 'chunked');
    assert.equal(transferCodings(', chunked ,'), 'chunked');
    assert.equal(transferCodings('chunked;custom_param;'), 'chunked');
    assert.equal(transferCodings('gzip   ;,deflate\t\t;,chunked;custom_param;'), 'gzip, deflate, chunked');
    assert.equal(transferCodings('gzip , deflate , \tidentity\t, compress\t, chunked'), 'gzip, deflate, identity, compress, chunked');
    assert.equal(transferCodings('x;a=b;c = "d;e\\"f", chunked'), 'x, chunked');
  });
  test('rejected lists', () => {
    for (const v of ['', 'gzip', 'chunked,chunked', 'chunked, gzip', '\xa0chunked', 'chunked\xa0', 'chunk ed', 'chunked;=a', 'chunked;a="b', 'chunked;a=b c', '\x01chunked', 'x-\u0131, chunked']) {
      assert.equal(transferCodings(v), null, JSON.stringify(v));
    }
  });
});
