// A WebSocket echo server (RFC 6455, with permessage-deflate from RFC 7692) using only node: APIs,
// the backend the Autobahn cases run against, once directly and once through Portico.
//
//   node test/protocols/autobahn/echo.mjs <port> [host]
//
// Strict where the RFC says MUST: masked client frames, RSV bits only with a negotiated extension,
// known opcodes, control frames <= 125 bytes and unfragmented, fragmentation order, valid UTF-8 in
// text messages (checked as fragments arrive, so invalid text fails fast), valid close codes and
// reasons. A protocol error closes with 1002 (1007 for bad UTF-8, 1009 for a too-big message).
import http from 'node:http';
import crypto from 'node:crypto';
import zlib from 'node:zlib';

const port = Number(process.argv[2] ?? 18601);
const host = process.argv[3] ?? '127.0.0.1';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_MESSAGE = 64 * 1024 * 1024;

// ---- incremental UTF-8 validation (Hoehrmann's DFA, as Autobahn's own validator) ----
const UTF8D = new Uint8Array([
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,
  7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,
  8,8,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
  0xa,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x3,0x4,0x3,0x3,0xb,0x6,0x6,0x6,0x5,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8,0x8,
  0x0,0x1,0x2,0x3,0x5,0x8,0x7,0x1,0x1,0x1,0x4,0x6,0x1,0x1,0x1,0x1,
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,1,1,1,1,1,0,1,0,1,1,1,1,1,1,
  1,2,1,1,1,1,1,2,1,2,1,1,1,1,1,1,1,1,1,1,1,1,1,2,1,1,1,1,1,1,1,1,
  1,2,1,1,1,1,1,1,1,2,1,1,1,1,1,1,1,1,1,1,1,1,1,3,1,3,1,1,1,1,1,1,
  1,3,1,1,1,1,1,3,1,3,1,1,1,1,1,1,1,3,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
]);
const UTF8_OK = 0;
const UTF8_REJECT = 1;
/** Feeds bytes to the DFA; returns the new state (UTF8_REJECT once invalid). */
function utf8Step(state, buf) {
  for (let i = 0; i < buf.length; i++) {
    state = UTF8D[256 + state * 16 + UTF8D[buf[i]]];
    if (state === UTF8_REJECT) return UTF8_REJECT;
  }
  return state;
}

// ---- permessage-deflate negotiation (RFC 7692 §7) ----
function negotiateDeflate(header) {
  if (!header) return null;
  for (const offer of header.split(',')) {
    const [name, ...params] = offer.split(';').map((s) => s.trim());
    if (name !== 'permessage-deflate') continue;
    const p = {};
    let ok = true;
    for (const param of params) {
      const [k, rawV] = param.split('=').map((s) => s.trim());
      const v = rawV === undefined ? true : rawV.replace(/^"(.*)"$/, '$1');
      if (k in p) { ok = false; break; }
      p[k] = v;
    }
    if (!ok) continue;
    const known = ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits'];
    if (Object.keys(p).some((k) => !known.includes(k))) continue;
    const bits = (v) => v === true || (/^\d+$/.test(v) && +v >= 8 && +v <= 15);
    if (p.server_max_window_bits !== undefined && (p.server_max_window_bits === true || !bits(p.server_max_window_bits))) continue;
    if (p.client_max_window_bits !== undefined && !bits(p.client_max_window_bits)) continue;
    if (p.server_no_context_takeover !== undefined && p.server_no_context_takeover !== true) continue;
    if (p.client_no_context_takeover !== undefined && p.client_no_context_takeover !== true) continue;
    // zlib cannot deflate with a window of 8 bits (it silently uses 9), so never promise 8.
    let serverBits = p.server_max_window_bits === undefined ? 15 : Math.max(9, +p.server_max_window_bits);
    const response = ['permessage-deflate'];
    if (p.server_no_context_takeover) response.push('server_no_context_takeover');
    if (p.client_no_context_takeover) response.push('client_no_context_takeover');
    if (p.server_max_window_bits !== undefined) response.push(`server_max_window_bits=${serverBits}`);
    // We inflate with a 15-bit window, which accepts anything the client sends; no need to ask.
    return {
      header: response.join('; '),
      serverNoContext: !!p.server_no_context_takeover,
      clientNoContext: !!p.client_no_context_takeover,
      serverBits,
    };
  }
  return null;
}

/** Runs one zlib operation on a stateful stream and collects its output up to the sync flush. */
function zlibRun(stream, data) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let total = 0;
    const onData = (c) => {
      chunks.push(c);
      total += c.length;
      if (total > MAX_MESSAGE) { cleanup(); reject(Object.assign(new Error('too big'), { tooBig: true })); }
    };
    const onError = (e) => { cleanup(); reject(e); };
    const cleanup = () => { stream.off('data', onData); stream.off('error', onError); };
    stream.on('data', onData);
    stream.on('error', onError);
    stream.write(data);
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => { cleanup(); resolve(Buffer.concat(chunks, total)); });
  });
}

class Conn {
  constructor(socket, deflate) {
    this.socket = socket;
    this.deflate = deflate;
    this.buf = Buffer.alloc(0);
    this.pending = []; // chunks not yet joined into buf (a big frame arrives in many reads)
    this.pendingLen = 0;
    this.need = 0; // bytes the frame at the front of buf needs, once its head is known
    this.partial = null; // a text frame arriving in pieces: its UTF-8 is checked as they come
    this.closeSent = false;
    this.closed = false; // we sent a close frame or failed the connection
    this.msgOpcode = 0; // opcode of the message being assembled, 0 = none
    this.msgCompressed = false;
    this.msgParts = [];
    this.msgLen = 0;
    this.utf8 = UTF8_OK;
    this.queue = Promise.resolve(); // keeps outgoing frames in the order their messages arrived
    this.inflater = null;
    this.deflater = null;
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {});
    socket.on('close', () => { this.closed = true; this.inflater?.close(); this.deflater?.close(); });
  }

  inflateStream() {
    if (!this.inflater) this.inflater = zlib.createInflateRaw({ windowBits: 15 });
    return this.inflater;
  }

  deflateStream() {
    if (!this.deflater) this.deflater = zlib.createDeflateRaw({ windowBits: this.deflate.serverBits, memLevel: 8 });
    return this.deflater;
  }

  fail(code, reason = '') {
    if (this.closed) return;
    this.closed = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.enqueue(() => {
      this.writeFrame(0x8, payload, false);
      this.socket.end();
    });
  }

  enqueue(fn) {
    this.queue = this.queue.then(fn).catch(() => this.socket.destroy());
  }

  writeFrame(opcode, payload, rsv1) {
    if (this.socket.destroyed || this.closeSent) return;
    if (opcode === 0x8) this.closeSent = true;
    const len = payload.length;
    let head;
    if (len < 126) {
      head = Buffer.from([0x80 | (rsv1 ? 0x40 : 0) | opcode, len]);
    } else if (len < 65536) {
      head = Buffer.from([0x80 | (rsv1 ? 0x40 : 0) | opcode, 126, len >> 8, len & 0xff]);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    this.socket.cork();
    this.socket.write(head);
    if (len) this.socket.write(payload);
    this.socket.uncork();
  }

  onData(d) {
    if (this.closed) return;
    this.pending.push(d);
    this.pendingLen += d.length;
    if (this.partial && !this.checkPartial(d)) return this.fail(1007, 'invalid UTF-8');
    if (this.buf.length + this.pendingLen < this.need) return;
    this.partial = null;
    this.buf = Buffer.concat([this.buf, ...this.pending]);
    this.pending = [];
    this.pendingLen = 0;
    this.need = 0;
    while (!this.closed) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const rsv = (b[0] & 0x70) >> 4;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(MAX_MESSAGE)) return this.fail(1009);
        len = Number(big);
        off = 10;
      }
      // Checks that need only the frame head: fail fast, before the payload arrives.
      const control = opcode >= 0x8;
      if (!masked) return this.fail(1002, 'unmasked frame');
      if (![0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(opcode)) return this.fail(1002, 'reserved opcode');
      const rsv1Allowed = this.deflate && !control && opcode !== 0x0;
      if (rsv & 0x3 || (rsv & 0x4 && !rsv1Allowed)) return this.fail(1002, 'reserved bits');
      if (control && (!fin || len > 125)) return this.fail(1002, 'bad control frame');
      if (!control) {
        if (opcode === 0x0 && this.msgOpcode === 0) return this.fail(1002, 'continuation without a message');
        if (opcode !== 0x0 && this.msgOpcode !== 0) return this.fail(1002, 'new message inside a fragmented one');
      }
      if (b.length < off + 4) return; // the mask is still to come
      if (b.length < off + 4 + len) {
        this.need = off + 4 + len;
        const text = opcode === 0x1 || (opcode === 0x0 && this.msgOpcode === 0x1 && !this.msgCompressed);
        if (text && !(rsv & 0x4)) {
          this.partial = { mask: Buffer.from(b.subarray(off, off + 4)), pos: 0, len, state: opcode === 0x1 ? UTF8_OK : this.utf8 };
          if (!this.checkPartial(b.subarray(off + 4))) return this.fail(1007, 'invalid UTF-8');
        }
        return;
      }
      const mask = b.subarray(off, off + 4);
      const payload = Buffer.from(b.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      this.buf = b.subarray(off + 4 + len);
      if (control) this.onControl(opcode, payload);
      else this.onDataFrame(opcode, fin, (rsv & 0x4) !== 0, payload);
    }
  }

  /** Validates the next piece of a text frame's payload (masked bytes, frame order). */
  checkPartial(bytes) {
    const p = this.partial;
    const n = Math.min(bytes.length, p.len - p.pos);
    const plain = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) plain[i] = bytes[i] ^ p.mask[(p.pos + i) & 3];
    p.pos += n;
    p.state = utf8Step(p.state, plain);
    return p.state !== UTF8_REJECT;
  }

  onControl(opcode, payload) {
    if (opcode === 0x9) {
      this.enqueue(() => this.writeFrame(0xa, payload, false));
    } else if (opcode === 0x8) {
      if (payload.length === 1) return this.fail(1002, 'bad close payload');
      let code = 1000;
      if (payload.length >= 2) {
        code = payload.readUInt16BE(0);
        const valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
        if (!valid) return this.fail(1002, 'bad close code');
        if (utf8Step(UTF8_OK, payload.subarray(2)) !== UTF8_OK) return this.fail(1007, 'bad close reason');
      }
      this.closed = true;
      const reply = Buffer.alloc(2);
      reply.writeUInt16BE(payload.length >= 2 ? code : 1000, 0);
      this.enqueue(() => {
        this.writeFrame(0x8, payload.length >= 2 ? reply : Buffer.alloc(0), false);
        this.socket.end();
      });
    }
    // pong: ignored
  }

  onDataFrame(opcode, fin, rsv1, payload) {
    if (opcode !== 0x0) {
      this.msgOpcode = opcode;
      this.msgCompressed = rsv1;
      this.msgParts = [];
      this.msgLen = 0;
      this.utf8 = UTF8_OK;
    }
    this.msgLen += payload.length;
    if (this.msgLen > MAX_MESSAGE) return this.fail(1009);
    this.msgParts.push(payload);
    const text = this.msgOpcode === 0x1;
    if (text && !this.msgCompressed) {
      this.utf8 = utf8Step(this.utf8, payload);
      if (this.utf8 === UTF8_REJECT) return this.fail(1007, 'invalid UTF-8');
    }
    if (!fin) return;
    const parts = this.msgParts;
    const outOpcode = this.msgOpcode;
    const compressed = this.msgCompressed;
    const utf8 = this.utf8;
    this.msgOpcode = 0;
    this.msgParts = [];
    if (!compressed) {
      if (text && utf8 !== UTF8_OK) return this.fail(1007, 'truncated UTF-8');
      const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (this.deflate) return this.sendMessage(outOpcode, data);
      this.enqueue(() => this.writeFrame(outOpcode, data, false));
      return;
    }
    // Compressed message: inflate in order (the queue), validate, then echo it.
    parts.push(Buffer.from([0x00, 0x00, 0xff, 0xff]));
    const input = Buffer.concat(parts);
    const inflated = (async () => {
      const inflater = this.inflateStream();
      const data = await zlibRun(inflater, input);
      if (this.deflate.clientNoContext) { this.inflater.close(); this.inflater = null; }
      return data;
    })();
    this.queue = this.queue.then(async () => {
      let data;
      try {
        data = await inflated;
      } catch (e) {
        return this.failNow(e.tooBig ? 1009 : 1007, e.tooBig ? '' : 'bad deflate data');
      }
      if (text && utf8Step(UTF8_OK, data) !== UTF8_OK) return this.failNow(1007, 'invalid UTF-8');
      if (!this.closeSent) await this.compressAndWrite(outOpcode, data);
    }).catch(() => this.socket.destroy());
  }

  // Fail from inside the queue (a queued fail would wait behind ourselves).
  failNow(code, reason) {
    if (this.closeSent) return;
    this.closed = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.writeFrame(0x8, payload, false);
    this.socket.end();
  }

  sendMessage(opcode, data) {
    this.queue = this.queue.then(() => (this.closeSent ? undefined : this.compressAndWrite(opcode, data))).catch(() => this.socket.destroy());
  }

  async compressAndWrite(opcode, data) {
    const deflater = this.deflateStream();
    let out = await zlibRun(deflater, data);
    if (out.length >= 4 && out.subarray(out.length - 4).equals(Buffer.from([0x00, 0x00, 0xff, 0xff]))) out = out.subarray(0, out.length - 4);
    if (this.deflate.serverNoContext) { this.deflater.close(); this.deflater = null; }
    this.writeFrame(opcode, out.length ? out : Buffer.from([0x00]), true);
  }
}

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
  res.end('WebSocket echo: upgrade required\n');
});
server.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (req.method !== 'GET' || upgrade !== 'websocket' || !key || req.headers['sec-websocket-version'] !== '13') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
  const deflate = negotiateDeflate(req.headers['sec-websocket-extensions']);
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`,
    'Server: portico-autobahn-echo',
  ];
  if (deflate) lines.push(`Sec-WebSocket-Extensions: ${deflate.header}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  const conn = new Conn(socket, deflate);
  if (head && head.length) conn.onData(head);
});
server.listen(port, host, () => console.log(`echo listening on ${host}:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
