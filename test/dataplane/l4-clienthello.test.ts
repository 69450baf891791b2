// The ClientHello SNI parser against hellos produced by Node's real TLS client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { parseClientHello } from '../../src/dataplane/l4/clienthello.js';
import { LOOPBACK } from '../fixtures/l4.js';

/** The bytes a real TLS client sends first, captured by a plain TCP server. */
async function captureHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const srv = net.createServer((s) => {
    s.on('data', (d) => chunks.push(d));
    setTimeout(() => s.destroy(), 100);
  });
  await new Promise<void>((r) => srv.listen(0, LOOPBACK, r));
  const c = tls.connect({ host: LOOPBACK, port: (srv.address() as net.AddressInfo).port, ...opts });
  await new Promise<void>((r) => {
    c.on('error', () => r());
    c.on('close', () => r());
  });
  srv.close();
  return Buffer.concat(chunks);
}

/** Re-frames one handshake record's payload into several records of at most `size` bytes. */
function refragment(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size);
    const h = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    h.writeUInt16BE(part.length, 3);
    out.push(h, part);
  }
  return Buffer.concat(out);
}

test('reads the SNI from a real ClientHello, lower-cased', async () => {
  const hello = await captureHello({ servername: 'Foo.Example.COM' });
  assert.deepEqual(parseClientHello(hello), { kind: 'hello', sni: 'foo.example.com' });
});

test('every truncation of the hello asks for more bytes', async () => {
  const hello = await captureHello({ servername: 'a.wild.example.com' });
  for (let n = 0; n < hello.length; n++) {
    const r = parseClientHello(hello.subarray(0, n));
    assert.equal(r.kind, 'more', `prefix ${n}`);
    // `need` is a promise the caller relies on: nothing is decided with fewer bytes.
    if (r.kind === 'more') assert.ok(r.need > n && r.need <= hello.length, `prefix ${n}: need ${r.need}`);
  }
});

test('a hello split across several handshake records is reassembled', async () => {
  const hello = await captureHello({ servername: 'split.example.com' });
  for (const size of [1, 3, 50, 200]) {
    const frag = refragment(hello, size);
    assert.deepEqual(parseClientHello(frag), { kind: 'hello', sni: 'split.example.com' }, `records of ${size}`);
    assert.deepEqual(parseClientHello(frag.subarray(0, frag.length - 1)), { kind: 'more', need: frag.length });
  }
});

test('no SNI: connecting by IP address sends none', async () => {
  const hello = await captureHello({});
  assert.deepEqual(parseClientHello(hello), { kind: 'hello' });
});

test('non-TLS and malformed input are invalid, never a throw', async () => {
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).kind, 'invalid');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])).kind, 'invalid');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0])).kind, 'invalid');
  const hello = await captureHello({ servername: 'ok.example.com' });
  // Corrupt the extensions length so it overruns the message.
  const bad = Buffer.from(hello);
  const hs = bad.subarray(5);
  let p = 4 + 2 + 32;
  p += 1 + hs[p]!;
  p += 2 + hs.readUInt16BE(p);
  p += 1 + hs[p]!;
  hs.writeUInt16BE(0xffff, p);
  assert.equal(parseClientHello(bad).kind, 'invalid');
  // Random bytes behind a handshake header never throw.
  for (let i = 0; i < 2000; i++) {
    const len = 1 + Math.floor(Math.random() * 300);
    const rnd = Buffer.alloc(5 + len);
    for (let j = 5; j < rnd.length; j++) rnd[j] = Math.floor(Math.random() * 256);
    rnd[0] = 0x16;
    rnd[1] = 0x03;
    rnd.writeUInt16BE(len, 3);
    rnd[5] = 0x01;
    assert.doesNotThrow(() => parseClientHello(rnd));
  }
});
