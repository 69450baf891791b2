// The controller's admin endpoint: liveness, readiness, the IR being served, and a few
// Prometheus counters. Small on purpose; it must answer even when the API server does not.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AdminState {
  ready(): { ok: boolean; reason?: string };
  ir(): unknown;
  metrics(): Record<string, number>;
}

export interface AdminServer {
  address: AddressInfo;
  close(): Promise<void>;
}

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--admin "${s}": expected host:port, e.g. 127.0.0.1:9090 or :9090`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function startAdmin(listen: string, state: AdminState): Promise<AdminServer> {
  const { host, port } = parseHostPort(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return send(200, 'ok\n');
      case '/readyz': {
        const r = state.ready();
        return send(r.ok ? 200 : 503, r.ok ? 'ok\n' : `not ready: ${r.reason ?? 'starting'}\n`);
      }
      case '/ir':
        return send(200, JSON.stringify(state.ir() ?? null, null, 2) + '\n', 'application/json');
      case '/metrics': {
        const lines = Object.entries(state.metrics()).map(([k, v]) => `${k} ${v}`);
        return send(200, lines.join('\n') + '\n', 'text/plain; version=0.0.4');
      }
      default:
        return send(404, 'not found: try /healthz, /readyz, /ir, /metrics\n');
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
