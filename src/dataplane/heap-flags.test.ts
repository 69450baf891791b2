import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { lastResortGc, MALLOC_ENV, mallocEnv, releaseMemoryWhenQuiet, SEMI_SPACE_FLAG, workerExecArgv } from './heap-flags.js';

test('workers get the semi-space bound unless the command line or NODE_OPTIONS already sets one', () => {
  assert.deepEqual(workerExecArgv(['--import', 'tsx'], ''), ['--import', 'tsx', SEMI_SPACE_FLAG]);
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=64'], ''), ['--max-semi-space-size=64']);
  assert.deepEqual(workerExecArgv(['--max_semi_space_size', '32'], ''), ['--max_semi_space_size', '32']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512 --max-semi-space-size=8'), []);
});

test('the last-resort GC is reachable without --expose-gc, and gc stays hidden from everything else', () => {
  const gc = lastResortGc();
  assert.equal(typeof gc, 'function');
  gc!({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  assert.equal(lastResortGc(), gc);
  if (!process.execArgv.includes('--expose-gc')) assert.equal((globalThis as { gc?: unknown }).gc, undefined);
});

test('the malloc settings a process lacks: none the user set', () => {
  assert.deepEqual(mallocEnv({}), { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072' });
  assert.deepEqual(mallocEnv({}), MALLOC_ENV);
  assert.deepEqual(mallocEnv({ MALLOC_ARENA_MAX: '4' }), { MALLOC_MMAP_THRESHOLD_: '131072' });
  assert.deepEqual(mallocEnv({ MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '0' }), {});
});

test('the last-resort GC runs once changes are quiet, and again only after the process grew by the threshold', async () => {
  let rss = 100;
  let runs = 0;
  const gc = () => () => void runs++;
  const quiet = () => new Promise((r) => setTimeout(r, 40));
  const change = (grownBy: number) => {
    rss += grownBy;
    releaseMemoryWhenQuiet({ quietMs: 10, minGrowth: 8, rss: () => rss, gc });
  };
  // Several changes in a row: one GC after the last.
  change(1);
  change(1);
  change(1);
  await quiet();
  assert.equal(runs, 1, 'the first release always runs');
  change(3);
  await quiet();
  change(3);
  await quiet();
  assert.equal(runs, 1, 'grown by 6 since the last release: skipped, twice');
  change(3);
  await quiet();
  assert.equal(runs, 2, 'grown by 9 since the last release: runs');
  change(0);
  await quiet();
  assert.equal(runs, 2);
});

test('bin/portico.js execs a long-running command with the same malloc settings', () => {
  const bin = readFileSync(new URL('../../bin/portico.js', import.meta.url), 'utf8');
  const m = /const MALLOC_ENV = (\{[^}]*\});/.exec(bin);
  assert.ok(m, 'bin/portico.js declares MALLOC_ENV');
  assert.deepEqual(JSON.parse(m[1]!.replace(/'/g, '"').replace(/(\w+):/g, '"$1":')), MALLOC_ENV);
});
