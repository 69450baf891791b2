// The one admin HTTP server both modes use (`portico run --admin`, `portico controller
// --admin`): GET/HEAD only, no caching, each path a function computing its reply. It runs
// beside the data plane, never on it, so it must stay small and answer even when the
// API server does not.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AdminReply {
  code?: number; // default 200
  body: string;
  type?: string; // default text/plain
}

export type AdminEndpoints = Record<string, () => AdminReply>;

export interface AdminServer {
  address: AddressInfo;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--admin "${s}": expected host:port, e.g. 127.0.0.1:9090 or :9090`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** A JSON reply, pretty-printed: the admin API is read by people as often as by scripts. */
export function json(value: unknown): AdminReply {
  return { body: JSON.stringify(value ?? null, null, 2) + '\n', type: 'application/json' };
}

export async function startAdminServer(listen: string, endpoints: AdminEndpoints): Promise<AdminServer> {
  const { host, port } = parseHostPort(listen);
  const paths = Object.keys(endpoints).join(', ');
  const server = http.createServer((req, res) => {
    const send = (r: AdminReply) => {
      res.writeHead(r.code ?? 200, { 'content-type': r.type ?? TEXT, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : r.body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send({ code: 405, body: 'method not allowed\n' });
    const endpoint = endpoints[(req.url ?? '/').split('?')[0]];
    if (!endpoint) return send({ code: 404, body: `not found: try ${paths}\n` });
    try {
      send(endpoint());
    } catch (e) {
      send({ code: 500, body: `admin: ${(e as Error).message}\n` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
