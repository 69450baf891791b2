// The controller's admin endpoint: liveness, readiness, the IR being served, and a few
// Prometheus counters.

import { json, startAdminServer, type AdminServer } from '../observability/admin.js';

export { parseHostPort, type AdminServer } from '../observability/admin.js';

export interface AdminState {
  ready(): { ok: boolean; reason?: string };
  ir(): unknown;
  metrics(): Record<string, number>;
}

export function startAdmin(listen: string, state: AdminState): Promise<AdminServer> {
  return startAdminServer(listen, {
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
  });
}
