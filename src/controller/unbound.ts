// Ports the engine could not bind (taken by another process, address gone) go back to the
// translator as options.portUnavailable: the statuses then name them (Listener Accepted False
// PortUnavailable), the IR served is the one the statuses describe, and everything else keeps
// serving. Both modes try such ports again on every rebuild and after RETRY_UNBOUND_MS.

import type { Engine, UnboundPort } from '../dataplane/engine-api.js';
import type { Snapshot } from '../store/snapshot.js';
import type { TranslateOptions, TranslateResult } from '../translate/types.js';

export const RETRY_UNBOUND_MS = 10_000;

export interface Applied {
  result: TranslateResult;
  unbound: UnboundPort[];
}

/** Apply `first` (translated from `snapshot` with `options`); on unbound ports, translate again with them and apply that. */
export async function applyTranslation(
  engine: Engine,
  translate: (snapshot: Snapshot, options: TranslateOptions) => TranslateResult,
  snapshot: Snapshot,
  options: TranslateOptions,
  first: TranslateResult,
): Promise<Applied> {
  const { unbound } = await engine.apply(first.ir);
  if (unbound.length === 0) return { result: first, unbound };
  const result = translate(snapshot, { ...options, portUnavailable: new Map(unbound.map((u) => [u.port, u.error])) });
  await engine.apply(result.ir);
  return { result, unbound };
}

export function describeUnbound(unbound: readonly UnboundPort[]): string {
  return unbound.map((u) => `${u.port} (${u.error})`).join(', ');
}
