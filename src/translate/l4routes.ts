// TLSRoute, TCPRoute and UDPRoute rules -> weighted backends. These kinds have no matches
// or filters; only backendRefs (TLSRoute also hostnames, handled by attachment).

import type { L4RouteRule, Resource } from '../api/types.js';
import type { WeightedBackend } from '../ir/types.js';
import type { BackendUse, Clusters } from './backends.js';
import { Reason } from './conditions.js';
import { resolveBackends, type RouteNode } from './routes.js';

/**
 * Backends per rule. These kinds have nothing to choose a rule by (no matches), so only the
 * first rule is served; later ones are reported through PartiallyInvalid.
 */
export function l4RuleBackends(node: RouteNode, route: Resource, clusters: Clusters, use: BackendUse): WeightedBackend[][] {
  const rules: L4RouteRule[] = Array.isArray((route.spec as { rules?: unknown })?.rules) ? (route.spec as { rules: L4RouteRule[] }).rules : [];
  node.ruleCount = rules.length;
  for (let i = 1; i < rules.length; i++)
    node.invalidRules.push({
      rule: i,
      problem: { reason: Reason.UnsupportedValue, message: `spec.rules[${i}]: a ${node.kind} is served by its first rule only; merge the backendRefs into rules[0]` },
      served500: false,
    });
  return rules.map((rule, i) => resolveBackends(node, clusters, rule?.backendRefs, use, `spec.rules[${i}]`));
}

/**
 * A TLSRoute's first rule as served behind a TLS listener in Terminate mode: the same refs
 * resolved for re-encryption, so a BackendTLSPolicy on a backend Service applies (an unusable
 * one refuses the connection rather than send the cleartext out). The refs' problems were
 * recorded by l4RuleBackends already and would only repeat, so they are not recorded again.
 */
export function terminateBackends(node: RouteNode, route: Resource, clusters: Clusters): WeightedBackend[] | undefined {
  const rules = (route.spec as { rules?: unknown })?.rules;
  if (!Array.isArray(rules) || rules.length === 0) return undefined;
  const scratch: RouteNode = { ...node, refProblems: [], invalidRules: [] };
  return resolveBackends(scratch, clusters, (rules as L4RouteRule[])[0]?.backendRefs, 'tls', 'spec.rules[0]');
}
