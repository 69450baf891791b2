// `portico run --admin host:port` (loopback): GET /healthz, /readyz, /ir (the IR being served)
// and /status (the statuses the translator computed, plus the manifest problems), all JSON but
// the health checks; IR and statuses redacted (certificates by fingerprint, never a key).
// `--health host:port`: /healthz, /readyz and /metrics only, for whatever must reach them from outside.
// /metrics (both): the Prometheus text of the control plane and the engine (all workers summed).
// / (admin only): the dashboard (observability/dashboard.ts) and its /dashboard/* files and state.

import { metricsEndpoint, type SnapshotSource } from '../observability/metrics/endpoint.js';
import { dashboardEndpoints, type DashboardSource } from '../observability/dashboard.js';
import { json, startAdminServer, type AdminEndpoints, type AdminServer } from '../observability/admin.js';

export interface RunAdminState {
  ir(): unknown;
  status(): unknown;
  /** What /metrics sums: the control plane's registry and the engine (absent: no /metrics). */
  metrics?(): readonly SnapshotSource[];
  /** What the dashboard shows (absent: no dashboard). */
  dashboard?: DashboardSource;
}

export type RunAdmin = AdminServer;

export function runEndpoints(state: RunAdminState): AdminEndpoints {
  return {
    '/healthz': () => ({ body: 'ok\n' }),
    // the admin starts after the first successful build: from then on something is served
    '/readyz': () => ({ body: 'ok\n' }),
    '/ir': () => json(state.ir()),
    '/status': () => json(state.status()),
    ...(state.metrics ? { '/metrics': metricsEndpoint(() => state.metrics!()) } : {}),
    ...(state.dashboard ? dashboardEndpoints(state.dashboard) : {}),
  };
}

export function startRunAdmin(listen: string, state: RunAdminState, opts: { role?: 'admin' | 'health'; allowRemote?: boolean } = {}): Promise<RunAdmin> {
  return startAdminServer(listen, runEndpoints(state), opts);
}
