// Reads the SNI out of a TLS ClientHello without terminating TLS (RFC 8446 §4.1.2,
// RFC 6066 §3). Works on whatever bytes have arrived so far: the hello may be split
// across TCP segments and, legally, across several handshake records.

export type HelloResult =
  | { kind: 'more'; need: number } // not enough bytes yet: nothing can be decided before `need` bytes in total
  | { kind: 'hello'; sni?: string } // complete ClientHello; sni absent when the client sent none
  | { kind: 'invalid'; reason: string }; // not TLS, or a malformed hello

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;
const MAX_RECORD = 16384 + 2048; // TLSCiphertext limit; a plaintext hello record is smaller still

export function parseClientHello(buf: Buffer): HelloResult {
  // Reassemble the handshake message from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1; // handshake message length incl. its 4-byte header, once known
  let off = 0;
  while (need < 0 || have < need) {
    if (buf.length < off + 5) return { kind: 'more', need: off + 5 };
    if (buf[off] !== RECORD_HANDSHAKE) return { kind: 'invalid', reason: 'not a TLS handshake record' };
    if (buf[off + 1] !== 0x03) return { kind: 'invalid', reason: 'unsupported record version' };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > MAX_RECORD) return { kind: 'invalid', reason: 'bad record length' };
    if (buf.length < off + 5 + len) return { kind: 'more', need: off + 5 + len };
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0) {
      const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (head.length < 4) continue;
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { kind: 'invalid', reason: 'first handshake message is not a ClientHello' };
      need = 4 + head.readUIntBE(1, 3);
    }
  }
  const msg = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).subarray(4, need);
  return parseHelloBody(msg);
}

function parseHelloBody(b: Buffer): HelloResult {
  const bad = (reason: string): HelloResult => ({ kind: 'invalid', reason });
  let p = 2 + 32; // legacy_version, random
  if (b.length < p + 1) return bad('truncated ClientHello');
  p += 1 + b[p]!; // legacy_session_id
  if (b.length < p + 2) return bad('truncated ClientHello');
  p += 2 + b.readUInt16BE(p); // cipher_suites
  if (b.length < p + 1) return bad('truncated ClientHello');
  p += 1 + b[p]!; // legacy_compression_methods
  if (p === b.length) return { kind: 'hello' }; // no extensions at all (old clients)
  if (b.length < p + 2) return bad('truncated ClientHello');
  const extEnd = p + 2 + b.readUInt16BE(p);
  if (extEnd > b.length) return bad('extensions overrun the ClientHello');
  p += 2;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return bad('extension overruns the extensions block');
    if (type === EXT_SERVER_NAME) return parseServerName(b.subarray(p, p + len));
    p += len;
  }
  return { kind: 'hello' };
}

function parseServerName(e: Buffer): HelloResult {
  if (e.length < 2) return { kind: 'invalid', reason: 'empty server_name extension' };
  const end = Math.min(e.length, 2 + e.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= end) {
    const type = e[p]!;
    const len = e.readUInt16BE(p + 1);
    p += 3;
    if (p + len > end) return { kind: 'invalid', reason: 'server_name overruns its extension' };
    if (type === NAME_TYPE_HOST) {
      const name = normaliseHost(e.toString('latin1', p, p + len));
      if (name === undefined) return { kind: 'invalid', reason: 'server_name is not a valid DNS name' };
      return { kind: 'hello', sni: name };
    }
    p += len;
  }
  return { kind: 'hello' };
}

/** Lower-case, drop one trailing dot, and refuse anything that is not LDH labels (RFC 6066: no IPs, ASCII only). */
function normaliseHost(raw: string): string | undefined {
  let s = raw.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s.length === 0 || s.length > 253) return undefined;
  return /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(s) ? s : undefined;
}
