// portico dataplane --bind-address: pods sharing one network namespace (hack/podrunner.mjs) each
// listen on their own pod IP where the config says 0.0.0.0; Port names stay (they key sockets and ACKs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindTo, parseDataplaneArgs } from '../../src/cli/dataplane.js';
import type { IR } from '../../src/ir/types.js';

const base = ['--controller=10.0.0.1:18000', '--gateway=ns/gw'];

test('--bind-address takes an IP, nothing else', () => {
  const ok = parseDataplaneArgs([...base, '--bind-address=10.244.0.7'], {});
  assert.ok(!('error' in ok) && !('help' in ok) && ok.bindAddress === '10.244.0.7');
  const bad = parseDataplaneArgs([...base, '--bind-address=pod.local'], {});
  assert.ok('error' in bad && /expected an IP address/.test(bad.error));
  const none = parseDataplaneArgs(base, {});
  assert.ok(!('error' in none) && !('help' in none) && none.bindAddress === undefined);
});

test('bindTo replaces wildcard addresses only and keeps Port names', () => {
  const ir = {
    ports: [
      { name: '0.0.0.0:80/HTTP', address: '0.0.0.0', port: 80, protocol: 'HTTP', listeners: [] },
      { name: ':::443/HTTPS', address: '::', port: 443, protocol: 'HTTPS', listeners: [] },
      { name: '127.0.0.9:81/HTTP', address: '127.0.0.9', port: 81, protocol: 'HTTP', listeners: [] },
    ],
    clusters: {},
  } as unknown as IR;
  const out = bindTo(ir, '10.244.0.7');
  assert.deepEqual(out.ports.map((p) => [p.name, p.address]), [['0.0.0.0:80/HTTP', '10.244.0.7'], [':::443/HTTPS', '10.244.0.7'], ['127.0.0.9:81/HTTP', '127.0.0.9']]);
  assert.equal(bindTo(ir, undefined), ir);
});
