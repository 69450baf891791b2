// `portico run --admin host:port`: GET /healthz, /ir (the IR being served) and /status
// (the statuses the translator computed, plus the manifest problems), all JSON but healthz.

import { json, startAdminServer, type AdminServer } from '../observability/admin.js';

export interface RunAdminState {
  ir(): unknown;
  status(): unknown;
}

export type RunAdmin = AdminServer;

export function startRunAdmin(listen: string, state: RunAdminState): Promise<RunAdmin> {
  return startAdminServer(listen, {
    '/healthz': () => ({ body: 'ok\n' }),
    '/ir': () => json(state.ir()),
    '/status': () => json(state.status()),
  });
}
