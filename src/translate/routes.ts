// What every route kind shares: resolving a rule's backendRefs into weighted IR targets
// (partial acceptance: an invalid backendRef keeps its weight as a 500 target), the route
// node, and the route's status rendering (one writer for every kind).

import type { BackendRef, Condition, Resource } from '../api/types.js';
import type { WeightedBackend } from '../ir/types.js';
import type { ParentResult } from './attachment.js';
import type { BackendUse, Clusters, Resolved } from './backends.js';
import { weightOf } from './backends.js';
import { arr, exact } from './util.js';
import { Reason, Type, condition } from './conditions.js';
import type { FilterProblem } from './filters.js';

export interface RouteNode {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  resource: Resource;
  namespace: string;
  generation: number;
  /** Position in age order across routes of the kinds that compete with it. */
  order: number;
  /** ResolvedRefs problems (backendRefs, mirror backends). */
  refProblems: FilterProblem[];
  /** Rules that cannot be served as written (Accepted side). */
  /** served500: its matches still answer (with a 500), as the spec requires for a filter it cannot apply; else the rule is not served at all. */
  invalidRules: { rule: number; problem: FilterProblem; served500: boolean }[];
  ruleCount: number;
  /** `${ns}/${name}` of every Service a backendRef or mirror resolved to: BackendTLSPolicy ancestors come from these. */
  services: readonly string[];
  parents: ParentResult[];
}

export function newRouteNode(kind: RouteNode['kind'], resource: Resource, namespace: string, generation: number, order: number): RouteNode {
  return { kind, resource, namespace, generation, order, refProblems: [], invalidRules: [], ruleCount: 0, services: [], parents: [] };
}

export const INVALID_BACKEND = (reason: string): WeightedBackend['invalid'] => ({ status: 500, reason });

export function noteResolved(node: RouteNode, res: Resolved): void {
  // A new array per Service added: routes name a few, and a Set kept per route cost ~150 bytes more.
  // concat, not a spread: a spread leaves room for 16 more (152 bytes for one name).
  if (res.service && !node.services.includes(res.service)) node.services = node.services.concat(res.service);
}

/** backendRefs -> weighted targets. Every ref keeps its weight; an unresolvable one answers 500. */
export function resolveBackends(
  node: RouteNode,
  clusters: Clusters,
  refs: readonly BackendRef[] | undefined,
  use: BackendUse,
  where: string,
): WeightedBackend[] {
  const out: WeightedBackend[] = [];
  for (const [i, ref] of arr<BackendRef>(refs).entries()) {
    const weight = weightOf(ref);
    if (typeof ref.name !== 'string') {
      node.refProblems.push({ reason: Reason.BackendNotFound, message: `${where}.backendRefs[${i}]: name is required` });
      out.push({ weight, invalid: INVALID_BACKEND(Reason.BackendNotFound) });
      continue;
    }
    const res = clusters.resolve({ kind: node.kind, namespace: node.namespace }, ref, use);
    noteResolved(node, res);
    if (res.ok) out.push({ weight, cluster: res.cluster });
    else {
      if (!res.quiet) node.refProblems.push({ reason: res.reason, message: `${where}.backendRefs[${i}]: ${res.message}` });
      out.push({ weight, invalid: INVALID_BACKEND(res.quiet ? 'BackendTLSPolicyInvalid' : res.reason) });
    }
  }
  return exact(out);
}

/** When every rule is invalid the route cannot be Accepted anywhere. */
export function routeInvalid(node: RouteNode): FilterProblem | undefined {
  if (node.ruleCount === 0 || node.invalidRules.length < node.ruleCount) return undefined;
  const first = node.invalidRules[0]!.problem;
  return { reason: first.reason, message: `all rules are invalid: ${node.invalidRules.map((r) => r.problem.message).join('; ')}` };
}

export function routeStatus(node: RouteNode, controllerName: string): Record<string, unknown> {
  const gen = node.generation;
  const resolved: Condition =
    node.refProblems.length === 0
      ? condition(Type.ResolvedRefs, true, Reason.ResolvedRefs, 'All references are resolved', gen)
      : condition(Type.ResolvedRefs, false, node.refProblems[0]!.reason, node.refProblems.map((p) => p.message).join('; '), gen);
  const partial =
    node.invalidRules.length > 0 && node.invalidRules.length < node.ruleCount
      ? condition(
          Type.PartiallyInvalid,
          true,
          Reason.UnsupportedValue,
          `Dropped Rule(s) ${node.invalidRules.map((r) => r.rule).join(', ')}: ${node.invalidRules.map((r) => `${r.problem.message} (${r.served500 ? 'its requests get a 500' : 'not served'})`).join('; ')}`,
          gen,
        )
      : undefined;
  return {
    parents: node.parents.map((p) => {
      const conditions = [p.accepted, resolved];
      if (partial && p.accepted.status === 'True') conditions.push(partial);
      return { parentRef: p.parentRef, controllerName, conditions };
    }),
  };
}
