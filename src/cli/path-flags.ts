// The path normalisation flags `portico run` and `portico controller` share (engine options
// pathEscapedSlashes / pathMergeSlashes, dataplane/path.ts).

import type { EngineOptions } from '../dataplane/engine-api.js';
import {
  DEFAULT_ESCAPED_SLASHES,
  DEFAULT_MERGE_SLASHES,
  ESCAPED_SLASHES_ACTIONS,
  MERGE_SLASHES_ACTIONS,
  type EscapedSlashesAction,
  type MergeSlashesAction,
} from '../dataplane/path.js';

export const PATH_FLAGS = {
  'path-escaped-slashes': { type: 'string' },
  'path-merge-slashes': { type: 'string' },
} as const;

/** Usage lines, flag names padded to `width` columns (each command aligns its own help). */
export function pathFlagsUsage(width: number): string {
  const line = (flag: string, text: string[]): string => `  ${flag.padEnd(width)} ${text[0]}\n` + text.slice(1).map((t) => `  ${''.padEnd(width)} ${t}\n`).join('');
  return (
    line('--path-escaped-slashes A', [
      `%2F, %5C and \\ in request paths: ${ESCAPED_SLASHES_ACTIONS.join(', ')}`,
      `(default ${DEFAULT_ESCAPED_SLASHES}: 307 to the path with real slashes)`,
    ]) +
    line('--path-merge-slashes A', [`repeated slashes in request paths: ${MERGE_SLASHES_ACTIONS.join(', ')}`, `(default ${DEFAULT_MERGE_SLASHES})`])
  );
}

export type PathEngineOptions = Pick<EngineOptions, 'pathEscapedSlashes' | 'pathMergeSlashes'>;

/** The engine options the flags ask for; throws a message naming the flag and its values. */
export function pathEngineOptions(values: Record<string, string | boolean | undefined>): PathEngineOptions {
  const out: PathEngineOptions = {};
  const e = values['path-escaped-slashes'];
  if (typeof e === 'string') {
    if (!(ESCAPED_SLASHES_ACTIONS as readonly string[]).includes(e)) throw new Error(`--path-escaped-slashes "${e}": expected one of ${ESCAPED_SLASHES_ACTIONS.join(', ')}`);
    out.pathEscapedSlashes = e as EscapedSlashesAction;
  }
  const m = values['path-merge-slashes'];
  if (typeof m === 'string') {
    if (!(MERGE_SLASHES_ACTIONS as readonly string[]).includes(m)) throw new Error(`--path-merge-slashes "${m}": expected one of ${MERGE_SLASHES_ACTIONS.join(', ')}`);
    out.pathMergeSlashes = m as MergeSlashesAction;
  }
  return out;
}
