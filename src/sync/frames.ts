// Framing on the config stream's TLS socket: each message is a 4-byte big-endian length and
// that many bytes of UTF-8 JSON. The JSON is written by ir/keys.ts encodeForEngine (the only
// writer allowed to include key material) and read back by decodeForEngine (keys sealed again).

import { decodeForEngine, encodeForEngine } from '../ir/keys.js';
import { SyncError } from './errors.js';

/** What a data plane accepts from the controller (a whole Gateway's config in one frame). */
export const MAX_SERVER_FRAME = 256 * 1024 * 1024;
/** What the controller accepts from a data plane (hello, ack, nack: small). */
export const MAX_CLIENT_FRAME = 64 * 1024;

export function encodeFrame(message: object): Buffer {
  const body = Buffer.from(encodeForEngine(message), 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** A frame whose JSON is already written (a message around an IR delta's text: src/sync/server.ts). */
export function rawFrame(json: string): Buffer {
  const len = Buffer.byteLength(json, 'utf8');
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32BE(len, 0);
  out.write(json, 4, 'utf8');
  return out;
}

/** Splits a byte stream into decoded messages; calls `onMessage` per frame, throws SyncError on a bad one. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly maxFrame: number,
    private readonly onMessage: (message: unknown) => void,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const len = head.readUInt32BE(0);
      if (len > this.maxFrame) throw new SyncError('SYNC_FRAME_TOO_LARGE', `frame of ${len} bytes (limit ${this.maxFrame})`);
      if (this.buffered < 4 + len) return;
      const frame = this.take(4 + len).subarray(4);
      let message: unknown;
      try {
        message = decodeForEngine<unknown>(frame.toString('utf8'));
      } catch (e) {
        throw new SyncError('SYNC_BAD_MESSAGE', `frame is not JSON: ${(e as Error).message}`);
      }
      this.onMessage(message);
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
