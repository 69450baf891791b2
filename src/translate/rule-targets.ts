// What HTTPRoute and GRPCRoute rules share: the rule's filters, its backendRefs, and each
// backendRef's own filters (applied after the rule's). Only the filter context differs.

import type { HTTPBackendRef, HTTPRouteFilter } from '../api/types.js';
import type { HTTPFilter, WeightedBackend } from '../ir/types.js';
import { arr } from './util.js';
import { translateFilters, type FilterContext, type FilterProblem } from './filters.js';
import { noteResolved, resolveBackends, type RouteNode } from './routes.js';

export interface RuleTargets {
  filters: HTTPFilter[];
  backends: WeightedBackend[];
  /** The first filter problem found (rule filters first, then backendRef filters in order). */
  invalid?: FilterProblem;
}

export function resolveRuleTargets(
  node: RouteNode,
  fc: FilterContext,
  rule: { filters?: readonly HTTPRouteFilter[]; backendRefs?: readonly HTTPBackendRef[] },
  where: string,
): RuleTargets {
  const f = translateFilters(fc, rule.filters, where);
  f.resolved.forEach((r) => noteResolved(node, r));
  node.refProblems.push(...f.refProblems);
  let invalid = f.invalid;
  const backends = resolveBackends(node, fc.clusters, rule.backendRefs, fc.use, where);
  for (const [bi, ref] of arr<HTTPBackendRef>(rule.backendRefs).entries()) {
    if (!Array.isArray(ref.filters) || ref.filters.length === 0 || !backends[bi]) continue;
    const bf = translateFilters(fc, ref.filters, `${where}.backendRefs[${bi}]`);
    bf.resolved.forEach((r) => noteResolved(node, r));
    node.refProblems.push(...bf.refProblems);
    invalid ??= bf.invalid;
    if (!bf.invalid) backends[bi]!.filters = bf.filters;
  }
  return { filters: f.filters, backends, invalid };
}
