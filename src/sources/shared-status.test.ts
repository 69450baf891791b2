import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastResortGc } from '../dataplane/heap-flags.js';
import { SharedStatuses } from './shared-status.js';

test('equal statuses come back as the first one; a status nobody holds leaves the table', async () => {
  const t = new SharedStatuses();
  const first = { parents: [{ controllerName: 'x' }] };
  assert.equal(t.shared(first), first);
  assert.equal(t.shared({ parents: [{ controllerName: 'x' }] }), first);
  assert.notEqual(t.shared({ parents: [{ controllerName: 'y' }] }), first);
  assert.equal(t.shared(undefined), undefined);
  // 500 statuses held by nobody: once collected, the table sweeps them as it grows.
  for (let i = 0; i < 500; i++) t.shared({ n: i });
  await new Promise((r) => setImmediate(r)); // WeakRefs made in this turn stay alive until it ends
  lastResortGc()!({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  for (let i = 0; i < 200; i++) t.shared({ m: i });
  assert.ok(t.size < 400, `swept: ${t.size} entries`);
  assert.equal(t.shared({ parents: [{ controllerName: 'x' }] }), first, 'what is still held stays');
});
