import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayNameLabelValue, ingressResourceName, resourceName } from './names.js';

test('gateway-name label: GEP-1762 example (first 20 characters, -, sha1 of the rest)', () => {
  assert.equal(
    gatewayNameLabelValue('example-very-very-very-very-very-very-very-very-very-long-gateway-name'),
    'example-very-very-ve-65cb6f84bc9e50270d0a6c2f845fd98c6fe8d89f',
  );
  assert.equal(gatewayNameLabelValue('x'.repeat(63)), 'x'.repeat(63));
});

test('resourceName: <gateway>-<class> when valid, else a valid, distinct, hashed name of at most 63 characters', () => {
  assert.equal(resourceName('web', 'portico'), 'web-portico');
  const names = ['a.b', 'a-b', '1st', 'x'.repeat(60), 'x'.repeat(61), 'UPPER'].map((n) => resourceName(n, 'portico'));
  assert.equal(new Set(names).size, names.length);
  for (const n of names) {
    assert.ok(n.length <= 63, n);
    assert.match(n, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  }
  assert.equal(names[1], 'a-b-portico');
});

test('ingressResourceName: the generated Gateway name once; valid, at most 63 characters, distinct per IngressClass', () => {
  assert.equal(ingressResourceName('portico-ingress-nginx'), 'portico-ingress-nginx');
  const classes = ['a.b', 'a-b', 'A', 'x'.repeat(47), 'x'.repeat(48), 'x'.repeat(253)];
  const names = classes.map((c) => ingressResourceName(`portico-ingress-${c}`));
  assert.equal(new Set(names).size, names.length);
  for (const n of names) {
    assert.ok(n.length <= 63, n);
    assert.match(n, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  }
  assert.equal(names[1], 'portico-ingress-a-b');
  assert.equal(ingressResourceName('portico-ingress-a.b'), names[0], 'stable: the same class, the same name');
});
