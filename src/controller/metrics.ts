// The controller's /metrics: its ControlPlaneMetrics (translations timed by wrapping the
// translate function the loop calls), the loop's, status writer's and informers' own counters
// copied in at scrape time, and the in-process engine's metrics.

import type { Engine } from '../dataplane/engine-api.js';
import { ControlPlaneMetrics } from '../observability/metrics/controlplane.js';
import { metricsText } from '../observability/metrics/endpoint.js';

export interface ControllerMetricsSources {
  loop: { stats: { skippedStatusOnly: number; skippedUnreferenced: number }; lastIR?: unknown };
  writer: { stats: { writes: number; conflicts: number; errors: number }; isEnabled: boolean };
  source: { synced: boolean; watchErrors?: ReadonlyMap<string, number> };
  engine?: Engine;
}

export function controllerMetrics(cp: ControlPlaneMetrics, s: () => ControllerMetricsSources): () => Promise<string> {
  let lastIR: unknown;
  return () => {
    const { loop, writer, source, engine } = s();
    // A new IR object in the loop means a config was translated and applied without error.
    if (loop.lastIR !== undefined && loop.lastIR !== lastIR) {
      lastIR = loop.lastIR;
      if (cp.lastGood.v === 0) cp.good();
    }
    cp.statusWrites.child(['ok']).v = writer.stats.writes;
    cp.statusWrites.child(['conflict']).v = writer.stats.conflicts;
    cp.statusWrites.child(['error']).v = writer.stats.errors;
    cp.rebuildsSkipped.child(['status_only']).v = loop.stats.skippedStatusOnly;
    cp.rebuildsSkipped.child(['unreferenced']).v = loop.stats.skippedUnreferenced;
    for (const [kind, n] of source.watchErrors ?? []) cp.watchErrors.child([kind]).v = n;
    cp.leader.child().v = writer.isEnabled ? 1 : 0;
    cp.synced.child().v = source.synced ? 1 : 0;
    return metricsText([cp.registry, engine]);
  };
}

/** An engine whose successful applies stamp the last good config time. */
export function stampGoodApplies(engine: Engine, cp: ControlPlaneMetrics): Engine {
  return {
    apply: async (ir) => {
      const r = await engine.apply(ir);
      cp.good();
      return r;
    },
    close: (g) => engine.close(g),
    metrics: () => engine.metrics?.() ?? Promise.resolve(null),
  };
}
