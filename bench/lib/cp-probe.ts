// What the control-plane runs poll to see a change served: an HTTP status on a path, or the
// certificate a TLS listener presents. One request at a time, about every 2 ms.

import { createHash, X509Certificate } from 'node:crypto';
import http from 'node:http';
import tls from 'node:tls';
import { sleep } from './proc.js';

/** `host`: the Host header (default: the address). `address`: where the data plane listens (a provisioned data plane's pod IP). */
export function httpStatus(agent: http.Agent, port: number, path: string, host?: string, address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port, path, agent, timeout: 2000, ...(host ? { headers: { host } } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** sha256 of the leaf certificate the listener on `port` presents (empty when the handshake fails). */
export function presentedCert(port: number, address = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: address, port, servername: 'bench.local', rejectUnauthorized: false, timeout: 2000 }, () => {
      const raw = s.getPeerCertificate().raw;
      s.destroy();
      resolve(raw ? createHash('sha256').update(raw).digest('hex') : '');
    });
    s.on('timeout', () => s.destroy());
    s.on('error', () => resolve(''));
    s.on('close', () => resolve(''));
  });
}

export function certFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** Polls `check` until it returns true; elapsed ms since `t0`, or null at the deadline. */
export async function pollUntil(check: () => Promise<boolean>, t0: bigint, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return Number(process.hrtime.bigint() - t0) / 1e6;
    await sleep(2);
  }
  return null;
}

export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank: with few samples p99 is the largest, which is the honest reading.
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
