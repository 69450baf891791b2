// conformance/v1.7/portico.yaml (suite v1.7.0) restates conformance/portico.yaml (suite v1.6.3,
// what GatewayClass status publishes) in v1.7.0's feature names. These checks keep the two from
// drifting: a feature claimed or explained in one is claimed or explained in the other, except
// for the renames and additions listed here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

interface Claims {
  profiles: string[];
  supportedFeatures: string[];
  unclaimedFeatures?: { feature: string; reason: string }[];
  skipTests?: { test: string; reason: string }[];
  usableAddresses?: string[];
  unusableAddresses?: string[];
  provisioned?: unknown;
}

const read = (rel: string): Claims => parse(fs.readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')) as Claims;
const v16 = read('../../conformance/portico.yaml');
const v17 = read('../../conformance/v1.7/portico.yaml');

/** v1.6.3 names that v1.7.0 renamed. */
const RENAMED: Record<string, string> = { HTTPRouteRetry: 'HTTPRouteRetryCodes' };
/** v1.6.3 features v1.7.0 no longer defines. */
const REMOVED = new Set(['HTTPRouteRetryBackendTimeout']);
/** Features new in v1.7.0 that Portico claims (each passes its tests in the committed v1.7.0 report). */
const CLAIMED_NEW = ['GatewayRouteHostnameIntersectionPrecedence', 'GRPCRouteRequestHeaderModifier', 'HTTPRouteBackendURLRewrite'];
/**
 * Claimed against v1.6.3 but not yet against v1.7.0, where the v1.7 claims file says why (no
 * v1.7.0 run with the claim yet). Claiming one there moves it out of this list.
 */
const PENDING_IN_V17 = new Set<string>([]);
/** Features new in v1.7.0 that Portico does not claim (v1.7 portico.yaml says why). */
const UNCLAIMED_NEW = ['ClusterTrustBundle', 'GatewayAddressRoutability', 'GatewayAddressRoutabilityCluster', 'GatewayListenerFilters'];

const inV17 = (names: string[]) => names.filter((f) => !REMOVED.has(f)).map((f) => RENAMED[f] ?? f);
const sorted = (xs: string[]) => [...xs].sort();

test('v1.7.0 claims the v1.6.3 features (renamed) plus the new ones it passes', () => {
  const expected = inV17(v16.supportedFeatures).filter((f) => !PENDING_IN_V17.has(f));
  assert.deepEqual(sorted(v17.supportedFeatures), sorted([...expected, ...CLAIMED_NEW]));
});

test('v1.7.0 explains the same unclaimed features, plus the new ones, each with a reason', () => {
  const names = (c: Claims) => (c.unclaimedFeatures ?? []).map((u) => u.feature);
  const pending = inV17(v16.supportedFeatures).filter((f) => PENDING_IN_V17.has(f));
  assert.deepEqual(sorted(names(v17)), sorted([...inV17(names(v16)), ...pending, ...UNCLAIMED_NEW]));
  for (const u of v17.unclaimedFeatures ?? []) assert.ok(u.reason.trim().length > 20, `${u.feature} needs a reason`);
});

test('profiles, skips, addresses and the provisioned settings are the same in both', () => {
  assert.deepEqual(v17.profiles, v16.profiles);
  assert.deepEqual(v17.skipTests, v16.skipTests);
  assert.deepEqual([v17.usableAddresses, v17.unusableAddresses], [v16.usableAddresses, v16.unusableAddresses]);
  assert.deepEqual(v17.provisioned, v16.provisioned);
});
