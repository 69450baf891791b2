// GET /metrics: the process's registries (control plane) plus the engine's snapshot (summed over
// its workers), in the Prometheus text format.

import type { AdminReply } from '../admin.js';
import { CONTENT_TYPE, expose, merge } from './exposition.js';
import type { Registry, Snapshot } from './registry.js';

export type SnapshotSource = Registry | { metrics?(): Promise<Snapshot | null> } | undefined | null;

export async function gather(sources: readonly SnapshotSource[]): Promise<Snapshot> {
  const snaps = await Promise.all(
    sources.map(async (s) => {
      if (!s) return [];
      if ('snapshot' in s && typeof s.snapshot === 'function') return s.snapshot();
      const m = (s as { metrics?(): Promise<Snapshot | null> }).metrics;
      return m ? ((await m.call(s)) ?? []) : [];
    }),
  );
  return merge(snaps);
}

export async function metricsText(sources: readonly SnapshotSource[]): Promise<string> {
  return expose(await gather(sources));
}

/** The /metrics endpoint over these sources. */
export function metricsEndpoint(sources: readonly SnapshotSource[] | (() => readonly SnapshotSource[])): () => Promise<AdminReply> {
  return async () => ({ body: await metricsText(typeof sources === 'function' ? sources() : sources), type: CONTENT_TYPE });
}
