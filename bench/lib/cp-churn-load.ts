// Churn under load: wrk on a route that never changes, first quiet, then while another file's
// routes change `rate` times a second. A config change must cost the traffic on other routes
// nothing: no error, and a p99 close to the quiet one (issue 15: within 2x).

import { cpChurnRoutes } from './cp-manifests.js';
import { runLoad, type LoadResult, type LoadSettings } from './load.js';
import { sleep } from './proc.js';
import { SCENARIOS } from './scenarios.js';

export interface ChurnLoadResult {
  seconds: number;
  /** Config changes written during the loaded run. */
  changes: number;
  quiet: Pick<LoadResult, 'rps' | 'p50Ms' | 'p99Ms' | 'errors' | 'requests'>;
  churn: Pick<LoadResult, 'rps' | 'p50Ms' | 'p99Ms' | 'errors' | 'requests'>;
}

export async function churnUnderLoad(
  put: (file: string, docs: Record<string, unknown>[]) => void,
  workDir: string,
  port: number,
  path: string,
  backendPort: number,
  seconds: number,
  rate: number,
  log: (line: string) => void,
): Promise<ChurnLoadResult> {
  const scenario = { ...SCENARIOS.find((s) => s.name === 'small-get')!, path };
  const settings: LoadSettings = { durationSec: seconds, connections: 50, threads: 1, h2Clients: 1, h2Streams: 1 };
  const keep = (r: LoadResult) => ({ rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, requests: r.requests });
  const quiet = keep(await runLoad(scenario, port, settings, seconds, workDir));
  let changes = 0;
  let stop = false;
  const writer = (async () => {
    // Ten routes in a file of their own, their paths new at every change: each write is a
    // real route change (added, removed, changed) for the translator and the data plane.
    while (!stop) {
      put('churn-load.yaml', cpChurnRoutes(100_000 + changes, 10, backendPort).map((d) => ({ ...d, metadata: { ...(d.metadata as object), name: `load-${String((d.metadata as { name: string }).name)}` } })));
      changes++;
      await sleep(1000 / rate);
    }
  })();
  let churn: LoadResult;
  try {
    churn = await runLoad(scenario, port, settings, seconds, workDir);
  } finally {
    stop = true;
    await writer;
  }
  const result = { seconds, changes, quiet, churn: keep(churn) };
  log(
    `churn under load: quiet p99 ${quiet.p99Ms.toFixed(2)} ms, ${quiet.errors} errors; with ${changes} changes in ${seconds} s: p99 ${churn.p99Ms.toFixed(2)} ms, ${churn.errors} errors`,
  );
  return result;
}
