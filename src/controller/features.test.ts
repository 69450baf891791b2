import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EXTENDED_FEATURES, SUPPORTED_FEATURES } from './features.js';

const claims = fileURLToPath(new URL('../../conformance/portico.yaml', import.meta.url));

test('GatewayClass supportedFeatures and the conformance claims list the same extended features', { skip: !fs.existsSync(claims) && 'conformance/portico.yaml absent' }, () => {
  const claimed = (parse(fs.readFileSync(claims, 'utf8')) as { supportedFeatures?: string[] }).supportedFeatures ?? [];
  assert.deepEqual([...EXTENDED_FEATURES].sort(), [...claimed].sort());
});

test('supportedFeatures are sorted and unique', () => {
  const names = SUPPORTED_FEATURES.map((f) => f.name);
  assert.deepEqual(names, [...new Set(names)].sort());
});
