// The HTTP/2 front end's limits (config.ts DEFAULT_LIMITS), seen on the wire with a raw frame
// client over real sockets, on prior-knowledge h2c and on TLS with ALPN h2: the SETTINGS the
// engine advertises, the stream past the concurrency limit refused, oversized header lists,
// idle sessions, and the inbound RST_STREAM rate limit (Rapid Reset).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { DEFAULT_LIMITS } from '../../src/dataplane/config.js';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine, EngineOptions } from '../../src/dataplane/engine-api.js';
import type { IR } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';
import { cluster, freePort, httpPort, listener, route, to } from './helpers.js';

const T = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;
const S = { MAX_CONCURRENT_STREAMS: 3, MAX_HEADER_LIST_SIZE: 6, ENABLE_CONNECT_PROTOCOL: 8 } as const;
const E = { NO_ERROR: 0, PROTOCOL_ERROR: 1, REFUSED_STREAM: 7, ENHANCE_YOUR_CALM: 11 } as const;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

interface Frame { type: number; flags: number; stream: number; payload: Buffer }

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInt(first: number, n: number, v: number): number[] {
  const max = (1 << n) - 1;
  if (v < max) return [first | v];
  const out = [first | max];
  v -= max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** GET / as an HPACK block: static-table :method GET, :path /, :scheme; literal :authority and extra headers. */
function requestBlock(scheme: 'http' | 'https', extra: [string, string][] = []): Buffer {
  const lit = (name: string, value: string): Buffer =>
    Buffer.concat([Buffer.from([0x00, ...hpackInt(0, 7, name.length)]), Buffer.from(name, 'latin1'), Buffer.from(hpackInt(0, 7, value.length)), Buffer.from(value, 'latin1')]);
  const authority = Buffer.concat([Buffer.from([0x01, ...hpackInt(0, 7, 9)]), Buffer.from('localhost')]);
  return Buffer.concat([Buffer.from([0x82, 0x84, scheme === 'https' ? 0x87 : 0x86]), authority, ...extra.map(([n, v]) => lit(n, v))]);
}

/** A raw HTTP/2 client: sends frames, collects every frame the server sends. */
class RawH2 {
  frames: Frame[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 9) {
        const len = this.buf.readUIntBE(0, 3);
        if (this.buf.length < 9 + len) break;
        this.frames.push({ type: this.buf[3]!, flags: this.buf[4]!, stream: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) });
        this.buf = this.buf.subarray(9 + len);
      }
      this.wake();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(port: number, secure: boolean, ackSettings = true): Promise<RawH2> {
    const sock = secure
      ? tls.connect({ host: '127.0.0.1', port, servername: 'gw.example.com', ca: pki.caPem, ALPNProtocols: ['h2'] })
      : net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      sock.once(secure ? 'secureConnect' : 'connect', () => resolve());
      sock.once('error', reject);
    });
    if (secure) assert.equal((sock as tls.TLSSocket).alpnProtocol, 'h2');
    const c = new RawH2(sock);
    sock.write(Buffer.concat([PREFACE, frame(T.SETTINGS, 0, 0)]));
    await c.until((f) => f.type === T.SETTINGS && (f.flags & 1) === 0);
    if (ackSettings) sock.write(frame(T.SETTINGS, 1, 0));
    return c;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The first frame (from the start of the connection) matching `pred`; null when the connection closed without one. */
  async until(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.closed) return null;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no such frame in ${timeoutMs} ms; got ${this.frames.map((x) => `${x.type}/${x.stream}`).join(' ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  settings(): Map<number, number> {
    const f = this.frames.find((x) => x.type === T.SETTINGS && (x.flags & 1) === 0)!;
    const m = new Map<number, number>();
    for (let i = 0; i + 6 <= f.payload.length; i += 6) m.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
    return m;
  }

  /** GET / on `stream`, END_STREAM; a header block past 16 KiB goes out as HEADERS + CONTINUATION. */
  get(stream: number, scheme: 'http' | 'https', extra: [string, string][] = []): void {
    const block = requestBlock(scheme, extra);
    if (block.length <= 16384) return void this.sock.write(frame(T.HEADERS, 0x1 | 0x4, stream, block));
    const parts: Buffer[] = [frame(T.HEADERS, 0x1, stream, block.subarray(0, 16384))];
    for (let o = 16384; o < block.length; o += 16384) {
      const last = o + 16384 >= block.length;
      parts.push(frame(T.CONTINUATION, last ? 0x4 : 0, stream, block.subarray(o, o + 16384)));
    }
    this.sock.write(Buffer.concat(parts));
  }

  rst(stream: number, code = 8): Buffer {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(code);
    return frame(T.RST_STREAM, 0, stream, p);
  }

  errorCode(f: Frame): number {
    return f.type === T.GOAWAY ? f.payload.readUInt32BE(4) : f.payload.readUInt32BE(0);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** An HTTP/1.1 backend that holds every request until release(). */
async function holdingBackend(): Promise<{ port: number; held: () => number; release: () => void; close: () => Promise<void> }> {
  const waiting: http.ServerResponse[] = [];
  let open = false;
  const srv = http.createServer((req, res) => {
    req.resume();
    if (open) return void res.end('ok');
    waiting.push(res);
  });
  srv.keepAliveTimeout = 100;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    held: () => waiting.length,
    release: () => {
      open = true;
      for (const r of waiting.splice(0)) r.end('ok');
    },
    close: () => {
      srv.closeAllConnections();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

async function startEngine(backendPort: number, options: EngineOptions = {}): Promise<{ engine: Engine; plain: number; secure: number }> {
  const plain = await freePort();
  const secure = await freePort();
  const routes = [route({}, [to('b')])];
  const ir: IR = {
    ports: [
      httpPort(plain, [listener('plain', routes)]),
      httpPort(secure, [{ ...listener('tls', routes), protocol: 'HTTPS', tls: { mode: 'Terminate', certificates: [{ secret: 'default/gw', ...pki.gateway, dnsNames: ['gw.example.com'] }] } }], 'HTTPS'),
    ],
    clusters: { b: cluster('b', [backendPort]) },
  };
  const engine = createEngine(options);
  await engine.apply(ir);
  return { engine, plain, secure };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const secure of [false, true]) {
  const scheme = secure ? 'https' : 'http';
  describe(`HTTP/2 limits (${secure ? 'TLS, ALPN h2' : 'h2c'})`, () => {
    let backend: Awaited<ReturnType<typeof holdingBackend>>;
    let e: Awaited<ReturnType<typeof startEngine>>;
    const port = () => (secure ? e.secure : e.plain);

    before(async () => {
      backend = await holdingBackend();
      e = await startEngine(backend.port);
    });
    after(async () => {
      backend.release();
      await e.engine.close(100);
      await backend.close();
    });

    test('SETTINGS advertise 100 concurrent streams, the header list size and extended CONNECT', async () => {
      const c = await RawH2.open(port(), secure);
      const s = c.settings();
      assert.equal(DEFAULT_LIMITS.h2MaxConcurrentStreams, 100);
      assert.equal(s.get(S.MAX_CONCURRENT_STREAMS), 100);
      assert.equal(s.get(S.MAX_HEADER_LIST_SIZE), DEFAULT_LIMITS.maxHeaderBytes);
      assert.equal(s.get(S.ENABLE_CONNECT_PROTOCOL), 1);
      c.close();
    });

    test('the 101st concurrent stream is refused; the 100 open ones complete', { timeout: 20_000 }, async () => {
      // SETTINGS not acknowledged yet: nghttp2 answers a stream past the limit with REFUSED_STREAM
      // (once acknowledged, a client that ignores the limit gets a connection error instead).
      const c = await RawH2.open(port(), secure, false);
      for (let i = 0; i < 100; i++) c.get(1 + 2 * i, scheme);
      const until = Date.now() + 10_000;
      while (backend.held() < 100 && Date.now() < until) await sleep(20);
      assert.equal(backend.held(), 100, 'all 100 streams reached the backend');
      c.get(201, scheme);
      const refused = await c.until((f) => (f.type === T.RST_STREAM && f.stream === 201) || f.type === T.GOAWAY);
      assert.ok(refused, 'the connection closed without refusing stream 201');
      assert.equal(refused.type, T.RST_STREAM);
      assert.equal(c.errorCode(refused), E.REFUSED_STREAM);
      assert.equal(backend.held(), 100, 'the refused stream never reached the backend');
      backend.release();
      for (let i = 0; i < 100; i++) {
        const h = await c.until((f) => f.type === T.HEADERS && f.stream === 1 + 2 * i);
        assert.ok(h, `stream ${1 + 2 * i} got no response`);
      }
      assert.equal(c.frames.some((f) => f.type === T.GOAWAY), false);
      c.close();
    });

    test('a header list past the advertised size is refused without reaching the backend', async () => {
      backend.release();
      const c = await RawH2.open(port(), secure);
      c.get(1, scheme, [['x-big', 'a'.repeat(DEFAULT_LIMITS.maxHeaderBytes + 100)]]);
      const f = await c.until((x) => (x.stream === 1 && (x.type === T.RST_STREAM || x.type === T.HEADERS)) || x.type === T.GOAWAY);
      assert.ok(f, 'the connection closed without an answer');
      if (f.type === T.HEADERS) {
        // 431 is acceptable too; a 200 is not.
        const status = f.payload[0]!;
        assert.notEqual(status, 0x88, 'a 200 came back for an oversized header list');
      } else assert.notEqual(c.errorCode(f), E.NO_ERROR);
      // The session survives a refused stream: the next request on it is served.
      if (f.type !== T.GOAWAY) {
        c.get(3, scheme);
        assert.ok(await c.until((x) => x.type === T.HEADERS && x.stream === 3));
      }
      c.close();
    });

    test('open+reset streams within the default RST_STREAM burst leave the session serving', async () => {
      backend.release();
      const c = await RawH2.open(port(), secure);
      // Three rounds of 90 (node:http2 counts a reset stream against the 100 until its close
      // has run in JavaScript, so each round stays under the concurrency limit).
      let id = 1;
      for (let round = 0; round < 3; round++) {
        const out: Buffer[] = [];
        for (let i = 0; i < 90; i++, id += 2) out.push(frame(T.HEADERS, 0x4, id, requestBlock(scheme)), c.rst(id));
        c.sock.write(Buffer.concat(out));
        await sleep(100);
      }
      c.get(id, scheme);
      assert.ok(await c.until((f) => f.type === T.HEADERS && f.stream === id));
      assert.equal(c.frames.some((f) => f.type === T.GOAWAY), false);
      c.close();
    });
  });
}

describe('HTTP/2 limits are engine options', () => {
  let backend: Awaited<ReturnType<typeof holdingBackend>>;
  let e: Awaited<ReturnType<typeof startEngine>>;

  before(async () => {
    backend = await holdingBackend();
    e = await startEngine(backend.port, { h2MaxConcurrentStreams: 5, h2MaxHeaderListSize: 4096, h2IdleTimeoutMs: 300, h2StreamResetBurst: 20, h2StreamResetRate: 1 });
  });
  after(async () => {
    backend.release();
    await e.engine.close(100);
    await backend.close();
  });

  test('configured values are advertised, and the 6th stream of 5 is refused', async () => {
    const c = await RawH2.open(e.plain, false, false);
    assert.equal(c.settings().get(S.MAX_CONCURRENT_STREAMS), 5);
    assert.equal(c.settings().get(S.MAX_HEADER_LIST_SIZE), 4096);
    for (let i = 0; i < 5; i++) c.get(1 + 2 * i, 'http');
    c.get(11, 'http');
    const refused = await c.until((f) => (f.type === T.RST_STREAM && f.stream === 11) || f.type === T.GOAWAY);
    assert.ok(refused);
    assert.equal(refused.type, T.RST_STREAM);
    assert.equal(c.errorCode(refused), E.REFUSED_STREAM);
    c.close();
  });

  test('a client that ignores the limit after acknowledging it gets GOAWAY PROTOCOL_ERROR', async () => {
    const c = await RawH2.open(e.plain, false, true);
    await c.until((f) => f.type === T.SETTINGS && (f.flags & 1) === 1); // our SETTINGS were acknowledged
    for (let i = 0; i < 6; i++) c.get(1 + 2 * i, 'http');
    const g = await c.until((f) => f.type === T.GOAWAY);
    assert.ok(g, 'closed without GOAWAY');
    assert.equal(c.errorCode(g), E.PROTOCOL_ERROR);
    assert.equal(g.payload.readUInt32BE(0), 9, 'the 5 streams within the limit are still processed');
    c.close();
  });

  test('an idle session gets GOAWAY after the idle timeout', async () => {
    const c = await RawH2.open(e.secure, true);
    const started = Date.now();
    const g = await c.until((f) => f.type === T.GOAWAY, 5000);
    assert.ok(g, 'closed without GOAWAY');
    assert.equal(c.errorCode(g), E.NO_ERROR);
    assert.ok(Date.now() - started >= 250, 'GOAWAY came before the idle timeout');
    c.close();
  });

  test('Rapid Reset: past the RST_STREAM burst the session ends; the engine keeps serving', async () => {
    backend.release();
    const c = await RawH2.open(e.plain, false);
    const burst: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const id = 1 + 2 * i;
      burst.push(frame(T.HEADERS, 0x4, id, requestBlock('http')), c.rst(id));
    }
    c.sock.write(Buffer.concat(burst));
    const g = await c.until((f) => f.type === T.GOAWAY, 5000);
    assert.ok(g, 'the session survived 200 open+reset streams with a burst of 20');
    // nghttp2 ends the session (INTERNAL_ERROR) once the bucket is empty: about 20 streams in, long
    // before node:http2's own backstop (h2MaxSessionRejectedStreams) would.
    assert.equal(c.errorCode(g), 2);
    assert.ok(g.payload.readUInt32BE(0) <= 2 * 30 + 1, `GOAWAY last-stream-id ${g.payload.readUInt32BE(0)}`);
    c.close();
    // Another client on the same port is unaffected.
    const d = await RawH2.open(e.plain, false);
    d.get(1, 'http');
    assert.ok(await d.until((f) => f.type === T.HEADERS && f.stream === 1));
    d.close();
  });
});
