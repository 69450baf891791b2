import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopbackAllocator, parseCidr } from './addresses.js';

test('the same Gateway gets the same address, in any allocator (deterministic across restarts)', () => {
  const a = new LoopbackAllocator('127.200.0.0/16');
  const b = new LoopbackAllocator('127.200.0.0/16');
  b.addressFor('x', 'y');
  assert.equal(a.addressFor('ns', 'gw'), new LoopbackAllocator('127.200.0.0/16').addressFor('ns', 'gw'));
  assert.match(a.addressFor('ns', 'gw'), /^127\.200\.\d+\.\d+$/);
  assert.equal(a.addressFor('ns', 'gw'), a.addressFor('ns', 'gw'));
});

test('collisions are resolved: a tiny range still gives every Gateway its own address', () => {
  const a = new LoopbackAllocator('127.9.9.0/29'); // 6 usable
  const got = new Set<string>();
  for (let i = 0; i < 6; i++) got.add(a.addressFor('ns', `gw-${i}`));
  assert.equal(got.size, 6);
  for (const ip of got) assert.ok(!ip.endsWith('.0') && !ip.endsWith('.7'), ip);
  assert.throws(() => a.addressFor('ns', 'one-too-many'), /exhausted/);
});

test('bad ranges are refused with a message naming the fix', () => {
  assert.throws(() => new LoopbackAllocator('10.0.0.0/8'), /not inside 127/);
  assert.throws(() => parseCidr('127.0.0.1'), /IPv4 CIDR/);
  assert.deepEqual(parseCidr('127.1.2.3/16'), { base: (127 << 24) + (1 << 16), size: 65536 });
});
