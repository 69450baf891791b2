// Every Portico process (primary, workers, data-plane pods) loads the CLI's module graph. An ESM
// import of node:http anywhere in it loads undici through the facade's getters (see
// src/dataplane/node-http.ts): ~4 MiB of RSS and ~100 ms of start-up CPU per process.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/** The builtin modules named undici that a fresh process has loaded after `imports`. */
function undiciAfter(imports: string[]): string[] {
  const script = `${imports.map((m) => `await import('${m}');`).join(' ')} console.log(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

test("the CLI's and the workers' module graphs do not load undici", () => {
  assert.deepEqual(undiciAfter(['./src/cli/main.ts', './src/dataplane/local-engine.ts', './src/dataplane/ir-delta.ts']), []);
  // the probe can see it: an ESM import of node:http does load it
  assert.notDeepEqual(undiciAfter(['node:http']), []);
});
