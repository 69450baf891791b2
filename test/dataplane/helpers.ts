// Shared fixtures for data-plane tests: real backends on loopback, IR builders, raw clients.
import * as http from 'node:http';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Cluster, HTTPFilter, HTTPMatch, HTTPRouteEntry, IR, Listener, Port, WeightedBackend } from '../../src/ir/types.js';

export interface Backend {
  port: number;
  name: string;
  hits: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

/** An HTTP/1.1 echo backend: answers JSON {backend, method, url, headers, body}. */
export async function echoBackend(name: string, handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => boolean): Promise<Backend> {
  const hits: Backend['hits'] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (handler && handler(req, res, body)) return;
      const out = JSON.stringify({ backend: name, method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(out);
    });
  });
  srv.keepAliveTimeout = 5000;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    name,
    hits,
    close: () => new Promise((r) => {
      srv.closeAllConnections();
      srv.close(() => r());
    }),
  };
}

/** Ports handed out in this process, per protocol: the kernel may offer a closed one again, and two listeners of one test on the same port fail in ways that look like something else. */
const handedOut = { tcp: new Set<number>(), udp: new Set<number>() };

/** `bind()` (a free port the kernel offers) again until it is one this process has not handed out. */
export async function unseenPort(kind: 'tcp' | 'udp', bind: () => Promise<number>): Promise<number> {
  for (;;) {
    const p = await bind();
    if (handedOut[kind].has(p)) continue;
    handedOut[kind].add(p);
    return p;
  }
}

/**
 * Where freePort() looks: 9,000 ports below the kernel's ephemeral range and below Kubernetes'
 * NodePorts (30000-32767, which kube-proxy rewrites while the local cluster runs). A port the
 * kernel offered for listen(0) comes from the ephemeral range, and any process's next outgoing
 * connection could take it before the test's server listens on it: `portico run` then failed to
 * start with EADDRINUSE (a CI rehearsal of e8631ad, test/convert/run.test.ts). Here only another
 * test's freePort() could, and two picks of 9,000 rarely meet.
 */
const LISTEN_RANGE = ((): { from: number; to: number } | undefined => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const to = Math.min(low, 30_000);
    return to >= 10_024 ? { from: to - 9_000, to } : undefined;
  } catch {
    return undefined;
  }
})();

/** Whether a TCP server can listen on `port` on every address now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return unseenPort('tcp', async () => {
    if (LISTEN_RANGE) {
      // A bounded number of tries: a range this full means something else holds it, and the kernel's pick below still works.
      for (let tries = 0; tries < 200; tries++) {
        const p = LISTEN_RANGE.from + Math.floor(Math.random() * (LISTEN_RANGE.to - LISTEN_RANGE.from));
        if (await canListen(p)) return p;
      }
    }
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return p;
  });
}

export const cluster = (name: string, ports: number[], extra: Partial<Cluster> = {}): Cluster => ({
  name,
  protocol: 'http1',
  endpoints: ports.map((port) => ({ address: '127.0.0.1', port })),
  ...extra,
});

export const route = (match: HTTPMatch, backends: WeightedBackend[], filters: HTTPFilter[] = [], extra: Partial<HTTPRouteEntry> = {}): HTTPRouteEntry => ({
  source: { kind: 'HTTPRoute', namespace: 'default', name: 'r', rule: 0 },
  match,
  filters,
  backends,
  ...extra,
});

export const to = (c: string, weight = 1, filters?: HTTPFilter[]): WeightedBackend => ({ cluster: c, weight, ...(filters ? { filters } : {}) });

export function httpPort(port: number, listeners: Listener[], protocol: 'HTTP' | 'HTTPS' = 'HTTP'): Port {
  return { name: `127.0.0.1:${port}/${protocol}`, address: '127.0.0.1', port, protocol, listeners };
}

export function listener(name: string, routes: HTTPRouteEntry[], hostname?: string, vhost = hostname ?? '*'): Listener {
  return { name: `default/gw/${name}`, ...(hostname ? { hostname } : {}), protocol: 'HTTP', virtualHosts: [{ hostname: vhost, routes }] };
}

/** Simplest IR: one HTTP port, one catch-all listener with these routes. */
export function simpleIR(port: number, routes: HTTPRouteEntry[], clusters: Cluster[]): IR {
  return { ports: [httpPort(port, [listener('http', routes)])], clusters: Object.fromEntries(clusters.map((c) => [c.name, c])) };
}

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent | false } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Send raw bytes, collect everything until the server closes (or `waitMs` passes). */
export function raw(port: number, data: string | Buffer | (string | Buffer)[], waitMs = 1000, gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, waitMs);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      if (out) resolve(out);
      else reject(e);
    });
    const parts = Array.isArray(data) ? data : [data];
    let i = 0;
    const next = (): void => {
      if (i >= parts.length || s.destroyed) return;
      s.write(parts[i++]!);
      if (gapMs) setTimeout(next, gapMs);
      else next();
    };
    s.on('connect', next);
  });
}

export const json = (r: Res): { backend: string; method: string; url: string; headers: Record<string, string>; body: string } => JSON.parse(r.body);

/** Deterministic PRNG (mulberry32) in [0, 1), so a failing random test is reproducible from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
