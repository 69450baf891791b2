// The fast path's own HTTP/1.1 parser: heads, hop-by-hop stripping, chunked framing split at
// every possible byte boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedReader, newRequestHead, newResponseHead, parseRequestHead, parseResponseHead } from '../../src/dataplane/http1/parser.js';

test('request head: method, target, headers lower-cased, framing and hop-by-hop split out', () => {
  const h = newRequestHead();
  const rc = parseRequestHead('POST /a?b=1 HTTP/1.1\r\nHost: x.test\r\nX-One: 1\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\nTE: trailers\r\nx-two:  two  ', h, 100);
  assert.equal(rc, 0);
  assert.equal(h.method, 'POST');
  assert.equal(h.target, '/a?b=1');
  assert.equal(h.host, 'x.test');
  assert.equal(h.contentLength, 5);
  assert.equal(h.close, false);
  assert.equal(h.te, 'trailers');
  assert.deepEqual(h.headers, ['x-one', '1', 'x-two', 'two']);
});

test('request head: HTTP/1.0 closes unless keep-alive; upgrade needs the Connection token', () => {
  const h = newRequestHead();
  assert.equal(parseRequestHead('GET / HTTP/1.0', h, 100), 0);
  assert.equal(h.close, true);
  assert.equal(parseRequestHead('GET / HTTP/1.0\r\nConnection: Keep-Alive', h, 100), 0);
  assert.equal(h.close, false);
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket', h, 100), 0);
  assert.equal(h.upgrade, '');
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade', h, 100), 0);
  assert.equal(h.upgrade, 'websocket');
});

test('request head: smuggling shapes are rejected', () => {
  const h = newRequestHead();
  for (const bad of [
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3',
    'POST / HTTP/1.1\r\nHost: a\r\nHost: b',
    'GET / HTTP/1.1\r\nHost: a\r\nX: a\nb',
    'GET  / HTTP/1.1\r\nHost: a',
    'G(T / HTTP/1.1\r\nHost: a',
    'G\u00e9T / HTTP/1.1\r\nHost: a',
    'GET / HTTP/1.1\r\nHost: a\r\nBad Name: 1',
    'GET / HTTP/1.1\r\nHost: a\r\nX\u00ff: 1',
    'GET / HTTP/1.1\r\nHost: a\r\nX@: 1',
  ]) assert.equal(parseRequestHead(bad, h, 100), 400, JSON.stringify(bad));
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2', h, 2), 431);
});

test('response head: hop-by-hop lines dropped wherever they sit, framing read', () => {
  const r = newResponseHead();
  assert.ok(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nA: 1\r\nKeep-Alive: timeout=5\r\nB: 2\r\nContent-Length: 3\r\nTransfer-Encoding: chunked', r));
  assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(r.lines, 'A: 1\r\nB: 2\r\nContent-Length: 3\r\n');
  assert.equal(r.chunked, true);
  assert.equal(r.contentLength, -1);
  assert.ok(parseResponseHead('HTTP/1.0 404 Not Found\r\nX: y\r\nConnection: close', r));
  assert.equal(r.statusLine, 'HTTP/1.1 404 Not Found');
  assert.equal(r.lines, 'X: y\r\n');
  assert.equal(r.close, true);
  assert.ok(parseResponseHead('HTTP/1.1 204 No Content', r));
  assert.equal(r.lines, '');
  assert.equal(parseResponseHead('HTTP/2 200', r), false);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2', r), false);
});

test('status code and Content-Length are digits only', () => {
  const r = newResponseHead();
  assert.ok(parseResponseHead('HTTP/1.1 200', r));
  assert.equal(r.status, 200);
  assert.ok(parseResponseHead('HTTP/1.1 599 Odd\r\nContent-Length:  12 ', r));
  assert.equal(r.status, 599);
  assert.equal(r.contentLength, 12);
  for (const bad of ['HTTP/1.1 2x0 OK', 'HTTP/1.1 099 Low', 'HTTP/1.1 2000 OK', 'HTTP/1.1 20', 'HTTP/1.1  200 OK']) assert.equal(parseResponseHead(bad, r), false, bad);
  for (const cl of ['+1', '1e3', '0x10', '', '1 2', '1234567890123456', '-1']) {
    assert.equal(parseResponseHead(`HTTP/1.1 200 OK\r\nContent-Length: ${cl}`, r), false, `response Content-Length ${JSON.stringify(cl)}`);
    assert.equal(parseRequestHead(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${cl}`, newRequestHead(), 100), 400, `request Content-Length ${JSON.stringify(cl)}`);
  }
  const h = newRequestHead();
  assert.equal(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007', h, 100), 0);
  assert.equal(h.contentLength, 7);
});

test('chunked reader finds the end at every split point, with extensions and trailers', () => {
  const body = Buffer.from('5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nNEXT');
  const end = body.length - 4;
  for (let cut = 0; cut <= body.length; cut++) {
    const r = new ChunkedReader();
    r.decoded = [];
    const a = r.feed(body.subarray(0, cut), 0);
    let got: number;
    if (a >= 0) got = a;
    else {
      const b = r.feed(body.subarray(cut), 0);
      got = b < 0 ? b : cut + b;
    }
    assert.equal(got, end, `cut ${cut}`);
    assert.equal(Buffer.concat(r.decoded).toString(), 'hello world');
  }
  const bad = new ChunkedReader();
  assert.equal(bad.feed(Buffer.from('zz\r\n'), 0), -2);
  assert.equal(new ChunkedReader().feed(Buffer.from('5\r\nhelloXX'), 0), -2);
});

test('header names: any case of framing and hop-by-hop names is recognised, look-alikes are kept', () => {
  const r = newResponseHead();
  assert.ok(parseResponseHead('HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 7\r\nPROXY-CONNECTION: x\r\nTe: a\r\nTRAILER: b\r\nUpGrade: c\r\nKEEP-ALIVE: d\r\nContent-Lengthy: 9\r\nConnectiom: e\r\nupgradE: f', r));
  assert.equal(r.contentLength, 7);
  assert.equal(r.lines, 'CONTENT-LENGTH: 7\r\nContent-Lengthy: 9\r\nConnectiom: e\r\n');
  const h = newRequestHead();
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: u\r\nACCEPT: x\r\nX-Custom-Thing: y\r\nX-Forwarded-For: 1.2.3.4', h, 100), 0);
  assert.equal(h.host, 'a');
  assert.deepEqual(h.headers, ['user-agent', 'u', 'accept', 'x', 'x-custom-thing', 'y', 'x-forwarded-for', '1.2.3.4']);
});
