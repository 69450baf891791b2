import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostnameClaims, compareHostnameSpecificity, hostWithin, hostnameSetsOverlap, intersectHostnames } from '../../src/translate/hostnames.js';

test('hostWithin: wildcard needs at least one extra label and matches any depth', () => {
  assert.equal(hostWithin('foo.example.com', '*.example.com'), true);
  assert.equal(hostWithin('a.b.example.com', '*.example.com'), true);
  assert.equal(hostWithin('example.com', '*.example.com'), false);
  assert.equal(hostWithin('fooexample.com', '*.example.com'), false);
  assert.equal(hostWithin('*.a.example.com', '*.example.com'), true);
  assert.equal(hostWithin('*.example.com', '*.a.example.com'), false);
  assert.equal(hostWithin('*.example.com', '*.example.com'), true);
  assert.equal(hostWithin('foo.example.com', 'foo.example.com'), true);
  assert.equal(hostWithin('foo.example.com', 'bar.example.com'), false);
  assert.equal(hostWithin('anything', '*'), true);
});

test('intersectHostnames: the spec examples', () => {
  // Listener test.example.com matches routes with no hostnames, or test.example.com / *.example.com.
  assert.deepEqual(intersectHostnames('test.example.com', []), ['test.example.com']);
  assert.deepEqual(intersectHostnames('test.example.com', ['test.example.com']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('test.example.com', ['*.example.com']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('test.example.com', ['other.example.com']), []);
  // Listener *.example.com: test.example.com and *.example.com match; example.com and test.example.net do not.
  assert.deepEqual(intersectHostnames('*.example.com', ['test.example.com', 'test.example.net']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('*.example.com', ['*.example.com']), ['*.example.com']);
  assert.deepEqual(intersectHostnames('*.example.com', ['example.com']), []);
  // A route wildcard wider than the listener narrows to the listener's.
  assert.deepEqual(intersectHostnames('*.example.com', ['*.com']), ['*.example.com']);
  // No listener hostname: route hostnames as they are, most specific first, deduplicated.
  assert.deepEqual(intersectHostnames(undefined, ['*.example.com', 'b.example.com', 'a.example.com', 'b.example.com']), [
    'a.example.com',
    'b.example.com',
    '*.example.com',
  ]);
  assert.deepEqual(intersectHostnames(undefined, []), ['*']);
  assert.deepEqual(intersectHostnames(undefined, undefined), ['*']);
});

test('compareHostnameSpecificity: exact < wildcard < any; longer first; then alphabetical', () => {
  const hosts = ['*', '*.example.com', 'x.example.com', '*.a.example.com', 'api.example.com', undefined, 'b.io'];
  const sorted = [...hosts].sort(compareHostnameSpecificity);
  assert.deepEqual(sorted, ['api.example.com', 'x.example.com', 'b.io', '*.a.example.com', '*.example.com', '*', undefined]);
});

test('hostnameSetsOverlap: the GRPCRoute/HTTPRoute conflict test', () => {
  assert.equal(hostnameSetsOverlap(['*'], ['a.example.com']), true);
  assert.equal(hostnameSetsOverlap(['*.example.com'], ['a.example.com']), true);
  assert.equal(hostnameSetsOverlap(['a.example.com'], ['b.example.com']), false);
  assert.equal(hostnameSetsOverlap(['*.example.org'], ['*.example.com']), false);
});

test('HostnameClaims answers exactly like hostnameSetsOverlap (random hostnames)', () => {
  let seed = 99;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const labels = ['a', 'b', 'example', 'com', 'org'];
  const host = (): string => {
    if (rnd(20) === 0) return '*';
    const n = 1 + rnd(3);
    const parts = Array.from({ length: n }, () => labels[rnd(labels.length)]!);
    return (rnd(3) === 0 ? '*.' : '') + parts.join('.');
  };
  for (let round = 0; round < 300; round++) {
    const claims = new HostnameClaims();
    const claimed: string[] = [];
    for (let i = 0; i < rnd(6); i++) {
      const h = host();
      claimed.push(h);
      claims.add(h, `r${i}`);
    }
    for (let q = 0; q < 10; q++) {
      const h = host();
      const expected = hostnameSetsOverlap(claimed, [h]);
      assert.equal(claims.overlap(h) !== undefined, expected, `claims ${JSON.stringify(claimed)} vs ${h}`);
    }
  }
});
