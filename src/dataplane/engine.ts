// createEngine: the data plane entry point (contract in ./engine-api.ts). One process serves
// the IR itself; with `workers: N > 1` the primary forks N workers (node:cluster) that share
// the listening sockets, and pushes every IR to all of them.

import type { Engine, EngineOptions } from './engine-api.js';
import { LocalEngine } from './local-engine.js';
import { ClusterEngine } from './cluster-engine.js';
import { resolvePathOptions } from './path.js';

export type { ApplyResult, Engine, EngineOptions, UnboundPort } from './engine-api.js';

export function createEngine(options: EngineOptions & { workers?: number } = {}): Engine {
  const workers = options.workers ?? 1;
  resolvePathOptions(options.pathEscapedSlashes, options.pathMergeSlashes); // a bad value fails here, not in a worker
  if (workers > 1) return new ClusterEngine(options, workers);
  return new LocalEngine(options);
}
