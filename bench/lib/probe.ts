// Before measuring a proxy, check that it does what the scenario claims: the right status,
// the backend's body, the header modifier applied, both split backends reached, the
// 5,000-route host answering on its last route and 404 elsewhere. A proxy that is fast
// because it answers something else must not get a row.

import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { sleep } from './proc.js';
import { SMALL_BODY, type Scenario } from './scenarios.js';

export interface ProbeResponse {
  status: number;
  body: string;
  bytes: number;
}

export function request(
  s: Scenario,
  port: number,
  path = s.path,
  extraHeaders: Record<string, string> = {},
): Promise<ProbeResponse> {
  const headers: Record<string, string> = { ...(s.headers ?? {}), ...extraHeaders };
  if (s.host) headers.host = s.host;
  const body = s.bodyBytes ? Buffer.alloc(s.bodyBytes, 'x') : undefined;
  if (body) headers['content-length'] = String(body.length);
  if (s.h2) return h2Request(port, s.method, path, headers, body);
  return new Promise((resolve, reject) => {
    const opts = {
      host: '127.0.0.1',
      port,
      path,
      method: s.method,
      headers,
      agent: false as const,
      rejectUnauthorized: false,
      servername: s.host ?? 'bench.local',
      timeout: 5000,
    };
    const req = (s.tls ? https : http).request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body: buf.length <= 4096 ? buf.toString() : '', bytes: buf.length });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

function h2Request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const h: Record<string, string> = { ':method': method, ':path': path };
    for (const [k, v] of Object.entries(headers)) {
      if (k === 'host') h[':authority'] = v;
      else if (k !== 'content-length') h[k.toLowerCase()] = v;
    }
    const st = session.request(h);
    st.setTimeout(5000, () => st.close(http2.constants.NGHTTP2_CANCEL));
    let status = 0;
    const chunks: Buffer[] = [];
    st.on('response', (hd) => (status = Number(hd[':status'])));
    st.on('data', (c: Buffer) => chunks.push(c));
    st.on('end', () => {
      session.close();
      const buf = Buffer.concat(chunks);
      resolve({ status, body: buf.length <= 4096 ? buf.toString() : '', bytes: buf.length });
    });
    st.on('error', (e) => {
      session.destroy();
      reject(e);
    });
    st.end(body);
  });
}

/**
 * Returns null when the target behaves as the scenario requires, else what is wrong.
 * `routed` is false for the backend itself, which has no routes or header modifiers to check.
 */
export async function verify(s: Scenario, port: number, routed: boolean): Promise<string | null> {
  const r = await request(s, port);
  if (r.status !== 200) return `${s.method} ${s.path} answered ${r.status}, want 200 (${r.body.slice(0, 200)})`;
  if (s.name === 'stream-1m') {
    if (r.bytes !== 1024 * 1024) return `/1m body was ${r.bytes} bytes, want 1048576`;
  } else if (!routed) {
    return null;
  } else if (s.split) {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const x = i === 0 ? r : await request(s, port);
      const m = /^backend=(\w) set=(.*) add=(.*) remove=(.*)$/.exec(x.body.trim());
      if (x.status !== 200 || !m) return `split answered ${x.status} "${x.body.slice(0, 200)}"`;
      if (m[2] !== '1' || m[3] !== '2' || m[4] !== '')
        return `header modifier not applied: set=${m[2]} add=${m[3]} remove=${m[4]} (want 1, 2, empty)`;
      seen.add(m[1]!);
    }
    if (!(seen.has('a') && seen.has('b'))) return `30 requests reached only backend ${[...seen].join(',')}`;
  } else if (r.body !== SMALL_BODY && s.method === 'GET') {
    return `body was "${r.body.slice(0, 100)}", want the backend's small body`;
  }
  if (s.routes) {
    const miss = await request(s, port, '/not-a-route');
    if (miss.status !== 404) return `an unrouted path on ${s.host} answered ${miss.status}, want 404`;
  }
  return null;
}

/** Retries verify() until it passes or `timeoutMs` passes (a proxy may listen before its routes are loaded). */
export async function verifyWithin(s: Scenario, port: number, routed: boolean, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = 'not probed';
  while (Date.now() < deadline) {
    try {
      last = await verify(s, port, routed);
      if (last === null) return null;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(200);
  }
  return last;
}
