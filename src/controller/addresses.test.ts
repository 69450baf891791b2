import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopbackAllocator, machineAddressUsable, parseCidr } from './addresses.js';

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

test('a static address is usable when this machine can bind it: loopback, wildcards, interface addresses', () => {
  const usable = machineAddressUsable({
    eth0: [
      { address: '10.1.2.3', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:01', internal: false, cidr: '10.1.2.3/24' },
      { address: '2001:db8::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:01', internal: false, cidr: '2001:db8::5/64', scopeid: 0 },
    ],
  });
  for (const ip of ['127.0.0.1', '127.63.0.10', '0.0.0.0', '::', '::1', '10.1.2.3', '2001:db8::5', '2001:DB8:0::5'])
    assert.ok(usable(ip), ip);
  for (const ip of ['10.1.2.4', '192.0.2.1', '2001:db8::6', 'not an ip', ''])
    assert.ok(!usable(ip), ip);
});

test('the real machine: loopback usable, a documentation address (TEST-NET-1) not', () => {
  const usable = machineAddressUsable();
  assert.ok(usable('127.0.0.1'));
  assert.ok(!usable('192.0.2.1'));
});
