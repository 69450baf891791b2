import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EXTENDED_FEATURES, PROVISIONED_FEATURES, PROVISIONED_SUPPORTED_FEATURES, SUPPORTED_FEATURES } from './features.js';

const claims = fileURLToPath(new URL('../../conformance/portico.yaml', import.meta.url));

test('GatewayClass supportedFeatures and the conformance claims list the same extended features', { skip: !fs.existsSync(claims) && 'conformance/portico.yaml absent' }, () => {
  const claimed = (parse(fs.readFileSync(claims, 'utf8')) as { supportedFeatures?: string[] }).supportedFeatures ?? [];
  assert.deepEqual([...EXTENDED_FEATURES].sort(), [...claimed].sort());
});

test('provisioned data planes publish the claims file\'s provisioned features too', { skip: !fs.existsSync(claims) && 'conformance/portico.yaml absent' }, () => {
  const claimed = (parse(fs.readFileSync(claims, 'utf8')) as { provisioned?: { supportedFeatures?: string[] } }).provisioned?.supportedFeatures ?? [];
  assert.deepEqual([...PROVISIONED_FEATURES].sort(), [...claimed].sort());
  const names = new Set(PROVISIONED_SUPPORTED_FEATURES.map((f) => f.name));
  for (const f of [...SUPPORTED_FEATURES.map((x) => x.name), ...PROVISIONED_FEATURES]) assert.ok(names.has(f), f);
});

test('supportedFeatures are sorted and unique', () => {
  for (const list of [SUPPORTED_FEATURES, PROVISIONED_SUPPORTED_FEATURES]) {
    const names = list.map((f) => f.name);
    assert.deepEqual(names, [...new Set(names)].sort());
  }
});
