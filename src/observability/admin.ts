// The one admin HTTP server both modes use (`portico run --admin`, `portico controller
// --admin`): GET/HEAD only, no caching, each path a function computing its reply. It runs
// beside the data plane, never on it, so it must stay small and answer even when the
// API server does not.
//
// Two listeners, two audiences:
//  - admin (--admin): every endpoint, including those that reveal the configuration (/ir,
//    /status). Loopback only: a non-loopback address is refused unless the operator passes
//    --admin-allow-remote (and then a warning is logged at every start).
//  - health (--health): only HEALTH_PATHS (/healthz, /readyz, /metrics), which reveal nothing
//    of the configuration; this is what kubelet probes and Prometheus reach.
// Every reply body goes through scrubSecrets() and every JSON reply through redact()
// (ir/redact.ts): certificates appear as fingerprints, key material never.

import net, { type AddressInfo } from 'node:net';
import { http } from '../dataplane/node-http.js';
import { redact, scrubSecrets } from '../ir/redact.js';

export interface AdminReply {
  code?: number; // default 200
  body: string;
  type?: string; // default text/plain
}

export type AdminEndpoints = Record<string, () => AdminReply | Promise<AdminReply>>;

export interface AdminServer {
  address: AddressInfo;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

/** host:port; an empty host means `defaultHost` (0.0.0.0 for the health listener, 127.0.0.1 for the admin one). */
export function parseHostPort(s: string, flag = '--admin', defaultHost = '0.0.0.0'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${flag} "${s}": expected host:port, e.g. 127.0.0.1:9090 or :9090`);
  return { host: m[1] ?? (m[2] || defaultHost), port };
}

/** Endpoints that reveal nothing of the configuration: the only ones the health listener serves. */
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/readyz', '/metrics'];

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/**
 * Checks an admin (configuration-revealing) listen address: throws unless it is loopback or
 * `allowRemote` is set; returns the warning to log when a remote address is allowed.
 */
export function checkAdminAddress(listen: string, allowRemote: boolean): string | undefined {
  const { host } = parseHostPort(listen, '--admin', '127.0.0.1');
  if (isLoopback(host)) return undefined;
  if (!allowRemote)
    throw new Error(
      `--admin ${listen}: ${host} is not a loopback address, and the admin listener serves /ir and /status, which reveal the whole configuration. ` +
        'Bind it to 127.0.0.1 (reach it with kubectl port-forward or ssh), serve probes and metrics with --health HOST:PORT, ' +
        'or pass --admin-allow-remote to expose it anyway',
    );
  return `WARNING: --admin ${listen} is not loopback (--admin-allow-remote): anyone who can reach it can read /ir and /status (the whole configuration; certificates are shown by fingerprint only)`;
}

/** A JSON reply, pretty-printed: the admin API is read by people as often as by scripts. Redacted (ir/redact.ts). */
export function json(value: unknown): AdminReply {
  return { body: JSON.stringify(redact(value ?? null), null, 2) + '\n', type: 'application/json' };
}

/** `role` health serves only HEALTH_PATHS; admin serves everything and must be loopback unless `allowRemote`. */
export async function startAdminServer(
  listen: string,
  all: AdminEndpoints,
  opts: { role?: 'admin' | 'health'; allowRemote?: boolean } = {},
): Promise<AdminServer> {
  const role = opts.role ?? 'admin';
  const { host, port } = parseHostPort(listen, role === 'admin' ? '--admin' : '--health', role === 'admin' ? '127.0.0.1' : '0.0.0.0');
  if (role === 'admin') checkAdminAddress(listen, opts.allowRemote ?? false);
  const endpoints = role === 'admin' ? all : Object.fromEntries(Object.entries(all).filter(([p]) => HEALTH_PATHS.includes(p)));
  const paths = Object.keys(endpoints).join(', ');
  const server = http.createServer((req, res) => {
    const send = (r: AdminReply) => {
      res.writeHead(r.code ?? 200, { 'content-type': r.type ?? TEXT, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : scrubSecrets(r.body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send({ code: 405, body: 'method not allowed\n' });
    const endpoint = endpoints[(req.url ?? '/').split('?')[0]];
    if (!endpoint) return send({ code: 404, body: `not found: try ${paths}\n` });
    // /metrics answers asynchronously (it asks the engine's workers); everything else synchronously.
    Promise.resolve()
      .then(endpoint)
      .then(send, (e: unknown) => send({ code: 500, body: `admin: ${(e as Error).message}\n` }));
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
