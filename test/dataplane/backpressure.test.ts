// A client that stops reading: the proxy's writes to it stop completing at once (direct writes go
// async), the upstream is paused, and once the client reads again every byte arrives in order and
// the connection stays in sync for the next request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { cluster, freePort, route, simpleIR, to } from './helpers.js';

const SIZE = 8 * 1024 * 1024;
const body = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) body.writeUInt32BE(i, i);
const digest = createHash('sha256').update(body).digest('hex');

let backend: http.Server, engine: Engine, port: number;
before(async () => {
  backend = http.createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': String(SIZE) });
      // In many writes so the proxy forwards many upstream chunks while the client is stalled.
      for (let off = 0; off < SIZE; off += 64 * 1024) res.write(body.subarray(off, off + 64 * 1024));
      res.end();
    } else res.end('small');
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  port = await freePort();
  engine = createEngine({});
  await engine.apply(simpleIR(port, [route({ path: { type: 'PathPrefix', value: '/' } }, [to('b')])], [cluster('b', [(backend.address() as AddressInfo).port])]));
});
after(async () => {
  await engine.close();
  backend.closeAllConnections();
  await new Promise((r) => backend.close(r));
});

test('a stalled client gets the whole large body intact, then the next response on the same connection', async () => {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', r));
  sock.pause();
  sock.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  // Let the proxy fill the kernel buffers and hit backpressure.
  await new Promise((r) => setTimeout(r, 400));
  const chunks: Buffer[] = [];
  let total = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd >= 0 && all.length >= headEnd + 4 + SIZE) resolve(all);
    });
  });
  sock.resume();
  const all = await done;
  const headEnd = all.indexOf('\r\n\r\n');
  assert.match(all.subarray(0, headEnd).toString('latin1'), /^HTTP\/1\.1 200 /);
  assert.equal(all.length - headEnd - 4, SIZE, `received ${total} bytes`);
  assert.equal(createHash('sha256').update(all.subarray(headEnd + 4)).digest('hex'), digest);
  chunks.length = 0;
  const next = new Promise<string>((resolve) => {
    let s = '';
    sock.removeAllListeners('data');
    sock.on('data', (c: Buffer) => {
      s += c.toString('latin1');
      if (s.endsWith('small')) resolve(s);
    });
  });
  sock.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(await next, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nsmall$/);
  sock.destroy();
});
