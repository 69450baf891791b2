// Echo backends for the HTTP examples, on the 127.0.0.1 ports examples/web-backends.yaml
// names. Each answers every request with a JSON echo of what it received (method, path,
// query, headers, body size) and its own name, so a curl shows where a request went and
// what Portico changed on the way.
// Run: node --import tsx examples/backends.ts

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const BACKENDS: Record<string, number> = { 'echo-v1': 18781, 'echo-v2': 18782, 'echo-api': 18783 };

export interface Echo {
  backend: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

export function echoServer(name: string): http.Server {
  return http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query: Record<string, string | string[]> = {};
      for (const k of new Set(url.searchParams.keys())) {
        const all = url.searchParams.getAll(k);
        query[k] = all.length === 1 ? all[0]! : all;
      }
      const echo: Echo = { backend: name, method: req.method ?? '', path: url.pathname, query, headers: req.headers, bodyBytes };
      const body = JSON.stringify(echo, null, 2) + '\n';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-backend': name });
      res.end(body);
    });
    req.on('error', () => res.destroy());
  });
}

export interface RunningBackends {
  ports: Record<string, number>;
  close(): Promise<void>;
}

/** Starts every echo backend; `ports` overrides the default port per name (0 = any free port). */
export async function startBackends(ports: Record<string, number> = BACKENDS, host = '127.0.0.1'): Promise<RunningBackends> {
  const servers: http.Server[] = [];
  const bound: Record<string, number> = {};
  try {
    for (const [name, port] of Object.entries(ports)) {
      const s = echoServer(name);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => resolve());
      });
      servers.push(s);
      bound[name] = (s.address() as AddressInfo).port;
    }
  } catch (e) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw e;
  }
  return {
    ports: bound,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const running = await startBackends();
  console.log(`echo backends on 127.0.0.1: ${Object.entries(running.ports).map(([n, p]) => `${n} ${p}`).join(', ')}`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
