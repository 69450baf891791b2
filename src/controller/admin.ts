// The controller's admin endpoints: liveness, readiness, the IR being served (redacted:
// certificates by fingerprint, never a key), and a few Prometheus counters. The admin
// listener (loopback) serves them all; the health listener only /healthz, /readyz and
// /metrics (observability/admin.ts HEALTH_PATHS).

import { json, startAdminServer, type AdminEndpoints, type AdminServer } from '../observability/admin.js';

export { parseHostPort, type AdminServer } from '../observability/admin.js';

export interface AdminState {
  ready(): { ok: boolean; reason?: string };
  ir(): unknown;
  metrics(): Record<string, number>;
}

export function adminEndpoints(state: AdminState): AdminEndpoints {
  return {
    '/healthz': () => ({ body: 'ok\n' }),
    '/readyz': () => {
      const r = state.ready();
      return r.ok ? { body: 'ok\n' } : { code: 503, body: `not ready: ${r.reason ?? 'starting'}\n` };
    },
    '/ir': () => json(state.ir()),
    '/metrics': () => ({
      body: Object.entries(state.metrics()).map(([k, v]) => `${k} ${v}\n`).join(''),
      type: 'text/plain; version=0.0.4',
    }),
  };
}

export function startAdmin(listen: string, state: AdminState, opts: { role?: 'admin' | 'health'; allowRemote?: boolean } = {}): Promise<AdminServer> {
  return startAdminServer(listen, adminEndpoints(state), opts);
}
