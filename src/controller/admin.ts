// The controller's admin endpoints: liveness, readiness, the IR being served (redacted:
// certificates by fingerprint, never a key), and the Prometheus metrics (observability/metrics). The admin
// listener (loopback) serves them all; the health listener only /healthz, /readyz and
// /metrics (observability/admin.ts HEALTH_PATHS). The admin listener also serves the dashboard
// (observability/dashboard.ts) at /.

import { CONTENT_TYPE } from '../observability/metrics/exposition.js';
import { dashboardEndpoints, type DashboardSource } from '../observability/dashboard.js';
import { json, startAdminServer, type AdminEndpoints, type AdminServer } from '../observability/admin.js';

export { parseHostPort, type AdminServer } from '../observability/admin.js';

export interface AdminState {
  ready(): { ok: boolean; reason?: string };
  ir(): unknown;
  /** The Prometheus text of /metrics (controller registry plus the in-process engine's). */
  metrics(): Promise<string>;
  /** What the dashboard shows (absent: no dashboard). */
  dashboard?: DashboardSource;
}

export function adminEndpoints(state: AdminState): AdminEndpoints {
  return {
    '/healthz': () => ({ body: 'ok\n' }),
    '/readyz': () => {
      const r = state.ready();
      return r.ok ? { body: 'ok\n' } : { code: 503, body: `not ready: ${r.reason ?? 'starting'}\n` };
    },
    '/ir': () => json(state.ir()),
    '/metrics': async () => ({ body: await state.metrics(), type: CONTENT_TYPE }),
    ...(state.dashboard ? dashboardEndpoints(state.dashboard) : {}),
  };
}

export function startAdmin(listen: string, state: AdminState, opts: { role?: 'admin' | 'health'; allowRemote?: boolean } = {}): Promise<AdminServer> {
  return startAdminServer(listen, adminEndpoints(state), opts);
}
