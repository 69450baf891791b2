// `portico run --admin host:port`: GET /healthz, /ir (the IR being served) and /status
// (the statuses the translator computed, plus the manifest problems), all JSON but healthz.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../controller/admin.js';

export interface RunAdminState {
  ir(): unknown;
  status(): unknown;
}

export interface RunAdmin {
  address: AddressInfo;
  close(): Promise<void>;
}

export async function startRunAdmin(listen: string, state: RunAdminState): Promise<RunAdmin> {
  const { host, port } = parseHostPort(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', 'text/plain; charset=utf-8');
    try {
      switch (path) {
        case '/healthz':
          return send(200, 'ok\n', 'text/plain; charset=utf-8');
        case '/ir':
          return send(200, JSON.stringify(state.ir() ?? null, null, 2) + '\n');
        case '/status':
          return send(200, JSON.stringify(state.status() ?? null, null, 2) + '\n');
        default:
          return send(404, 'not found: try /healthz, /ir, /status\n', 'text/plain; charset=utf-8');
      }
    } catch (e) {
      return send(500, `admin: ${(e as Error).message}\n`, 'text/plain; charset=utf-8');
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
