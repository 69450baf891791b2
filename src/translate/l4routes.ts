// TLSRoute, TCPRoute and UDPRoute rules -> weighted backends. These kinds have no matches
// or filters; only backendRefs (TLSRoute also hostnames, handled by attachment).

import type { L4RouteRule, Resource } from '../api/types.js';
import type { WeightedBackend } from '../ir/types.js';
import type { BackendUse, Clusters } from './backends.js';
import { resolveBackends, type RouteNode } from './routes.js';

/** Backends per rule; L4 routes serve their first rule (the spec allows one rule for TCP/UDP, and TLS routes pick by SNI only). */
export function l4RuleBackends(node: RouteNode, route: Resource, clusters: Clusters, use: BackendUse): WeightedBackend[][] {
  const rules: L4RouteRule[] = Array.isArray((route.spec as { rules?: unknown })?.rules) ? (route.spec as { rules: L4RouteRule[] }).rules : [];
  node.ruleCount = rules.length;
  return rules.map((rule, i) => resolveBackends(node, clusters, rule?.backendRefs, use, `spec.rules[${i}]`));
}
