import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastResortGc, MALLOC_ARENA_MAX, SEMI_SPACE_FLAG, workerEnv, workerExecArgv } from './heap-flags.js';

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

test('workers get one malloc arena unless the user chose a number', () => {
  assert.deepEqual(workerEnv({}), { MALLOC_ARENA_MAX });
  assert.deepEqual(workerEnv({ MALLOC_ARENA_MAX: '4' }), {});
});
