// The translator and the engine, loaded only by the commands that need them, so `portico
// version` and `--help` stay instant and `check` never pulls in the data plane.

import type { Snapshot } from '../store/snapshot.js';
import type { TranslateOptions, TranslateResult } from '../translate/types.js';
import type { Engine, EngineOptions } from '../dataplane/engine-api.js';
import type { IncrementalTranslate } from '../translate/incremental.js';

export type TranslateFn = (snapshot: Snapshot, options: TranslateOptions) => TranslateResult;
export type CreateEngineFn = (options: EngineOptions & { workers?: number }) => Engine;

export async function loadTranslate(): Promise<TranslateFn> {
  const m = await import('../translate/index.js');
  return m.translate as TranslateFn;
}

export async function loadIncrementalTranslate(): Promise<(full: TranslateFn) => IncrementalTranslate> {
  const m = await import('../translate/incremental.js');
  return m.incrementalTranslate;
}

export async function loadEngine(): Promise<CreateEngineFn> {
  const m = await import('../dataplane/engine.js');
  return m.createEngine as CreateEngineFn;
}
