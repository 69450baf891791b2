// XBackendTrafficPolicy (gateway.networking.x-k8s.io/v1alpha1) and its predecessor
// BackendLBPolicy (gateway.networking.k8s.io/v1alpha2, read while the CRDs serve it): Direct
// policies on Services (GEP-713) carrying sessionPersistence (GEP-1619) and, for
// XBackendTrafficPolicy, retryConstraint (a retry budget, GEP-3388).
//
// Status per GEP-713: Accepted True, or False with TargetNotFound (no targeted Service exists),
// Invalid (a setting Portico cannot use), Conflicted (an older policy of either kind already
// targets one of its Services: the oldest wins, by creationTimestamp then namespace/name). It is
// reported per ancestor: the Gateways that accepted a route naming a targeted Service in a
// backendRef (named, so a policy whose Service is missing still shows TargetNotFound there).

import type { BackendTrafficPolicySpec, Condition, LocalPolicyTargetReference, Service, XBackendTrafficPolicy } from '../api/types.js';
import { CORE_GROUP, GATEWAY_GROUP, Kind } from '../api/names.js';
import type { RetryBudget } from '../ir/types.js';
import { Reason, Type, condition } from './conditions.js';
import { compareAge, generationOf, nsOf, type Context } from './context.js';
import { parseDuration } from './duration.js';
import type { GatewayNode } from './graph.js';
import type { RouteNode } from './routes.js';
import { sessionSettings, type SessionSettings } from './session.js';
import { arr, obj } from './util.js';

type PolicyKind = typeof Kind.XBackendTrafficPolicy | typeof Kind.BackendLBPolicy;

export interface TrafficPolicyNode {
  kind: PolicyKind;
  resource: XBackendTrafficPolicy;
  /** "Kind namespace/name". */
  id: string;
  generation: number;
  accepted: { ok: boolean; reason: string; message: string };
  session?: SessionSettings;
  budget?: RetryBudget;
  /** `${ns}/${name}` of the Services its targetRefs name (existing or not). */
  services: string[];
  ancestors: Map<string, GatewayNode>;
}

/** The API's defaults (apisx/v1alpha1 RetryConstraint): 20% over 10s, and at least 10 per 1s. */
const BUDGET_DEFAULTS: RetryBudget = { percent: 20, intervalMs: 10_000, minRetries: 10, minIntervalMs: 1000 };

export class BackendTrafficPolicies {
  readonly all: TrafficPolicyNode[] = [];
  private readonly byService = new Map<string, TrafficPolicyNode>();

  constructor(ctx: Context) {
    const list: { kind: PolicyKind; r: XBackendTrafficPolicy }[] = [
      ...ctx.snapshot.list<XBackendTrafficPolicy>(Kind.XBackendTrafficPolicy).map((r) => ({ kind: Kind.XBackendTrafficPolicy, r })),
      ...ctx.snapshot.list<XBackendTrafficPolicy>(Kind.BackendLBPolicy).map((r) => ({ kind: Kind.BackendLBPolicy, r })),
    ];
    list.sort((a, b) => compareAge(a.r, b.r) || (a.kind < b.kind ? 1 : a.kind > b.kind ? -1 : 0));
    for (const { kind, r } of list) {
      let node: TrafficPolicyNode;
      try {
        node = evaluate(ctx, kind, r);
      } catch (err) {
        node = base(kind, r);
        node.accepted = { ok: false, reason: Reason.Invalid, message: `policy could not be evaluated: ${(err as Error).message}` };
      }
      this.all.push(node);
      if (!node.accepted.ok) continue;
      const existing = node.services.filter((s) => ctx.lookup<Service>(Kind.Service, s.slice(0, s.indexOf('/')), s.slice(s.indexOf('/') + 1)));
      const holder = existing.map((s) => this.byService.get(s)).find((h) => h !== undefined);
      if (holder) {
        node.accepted = { ok: false, reason: Reason.Conflicted, message: `${holder.id} already targets the same Service and is older` };
        continue;
      }
      for (const s of existing) this.byService.set(s, node);
    }
    this.all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** `${ns}/${name}` of every Service a policy is in force on. */
  targeted(): IterableIterator<string> {
    return this.byService.keys();
  }

  /** The policy in force on Service `namespace/name`, if any. */
  forService(namespace: string, name: string): TrafficPolicyNode | undefined {
    return this.byService.get(`${namespace}/${name}`);
  }

  status(node: TrafficPolicyNode, controllerName: string): Record<string, unknown> {
    const conditions: Condition[] = [condition(Type.Accepted, node.accepted.ok, node.accepted.reason, node.accepted.message, node.generation)];
    const ancestors = [...node.ancestors.values()]
      .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1))
      .map((gw) => ({ ancestorRef: { group: GATEWAY_GROUP, kind: Kind.Gateway, namespace: gw.namespace, name: gw.name }, controllerName, conditions }));
    return { ancestors };
  }
}

/** What one route adds to the ancestors of policies on a Service: each Gateway that accepted it, for each Service its backendRefs name (translate/policy-ancestors.ts counts these). */
export function trafficPolicyAncestors(node: RouteNode, add: (service: string, gateway: GatewayNode) => void): void {
  if (node.kind !== 'HTTPRoute' && node.kind !== 'GRPCRoute') return;
  const accepted = node.parents.filter((p) => p.accepted.status === 'True');
  if (accepted.length === 0) return;
  for (const svc of namedServices(node)) for (const p of accepted) add(svc, p.gateway);
}

/** `${ns}/${name}` of the Services a route's rules name in backendRefs (resolved or not). */
function namedServices(node: RouteNode): Set<string> {
  const out = new Set<string>();
  const rules = arr<{ backendRefs?: unknown }>((node.resource.spec as { rules?: unknown } | undefined)?.rules);
  for (const rule of rules)
    for (const ref of arr<{ group?: string; kind?: string; name?: string; namespace?: string }>(rule.backendRefs))
      if ((ref.group ?? CORE_GROUP) === CORE_GROUP && (ref.kind ?? Kind.Service) === Kind.Service && typeof ref.name === 'string')
        out.add(`${ref.namespace ?? node.namespace}/${ref.name}`);
  return out;
}

function base(kind: PolicyKind, r: XBackendTrafficPolicy): TrafficPolicyNode {
  return {
    kind,
    resource: r,
    id: `${kind} ${nsOf(r)}/${r.metadata.name}`,
    generation: generationOf(r),
    accepted: { ok: true, reason: Reason.Accepted, message: 'Policy is accepted' },
    services: [],
    ancestors: new Map(),
  };
}

function evaluate(ctx: Context, kind: PolicyKind, r: XBackendTrafficPolicy): TrafficPolicyNode {
  const node = base(kind, r);
  const ns = nsOf(r);
  const spec = obj<BackendTrafficPolicySpec>(r.spec);
  const targets = arr<LocalPolicyTargetReference>(spec.targetRefs);
  const services = targets.filter((t) => (t.group ?? CORE_GROUP) === CORE_GROUP && t.kind === Kind.Service);
  node.services = [...new Set(services.map((t) => `${ns}/${t.name}`))].sort();
  const invalid = (message: string): TrafficPolicyNode => {
    node.accepted = { ok: false, reason: Reason.Invalid, message };
    return node;
  };
  if (services.length < targets.length) return invalid('targetRefs: only core Services can be targeted');
  if (!services.some((t) => ctx.lookup<Service>(Kind.Service, ns, t.name))) {
    node.accepted = { ok: false, reason: Reason.TargetNotFound, message: `no targetRef names an existing Service in namespace ${ns}` };
    return node;
  }
  if (spec.sessionPersistence !== undefined && spec.sessionPersistence !== null) {
    const s = sessionSettings(spec.sessionPersistence, node.id, node.id, ctx.sessionSeed, 'spec.sessionPersistence');
    if (typeof s === 'string') return invalid(s);
    node.session = s;
  }
  const rc = kind === Kind.XBackendTrafficPolicy ? spec.retryConstraint : undefined;
  if (rc) {
    const budget = obj<{ percent?: number; interval?: string }>(rc.budget);
    const min = obj<{ count?: number; interval?: string }>(rc.minRetryRate);
    const intervalMs = budget.interval !== undefined ? parseDuration(budget.interval) : BUDGET_DEFAULTS.intervalMs;
    const minIntervalMs = min.interval !== undefined ? parseDuration(min.interval) : BUDGET_DEFAULTS.minIntervalMs;
    if (intervalMs === undefined || intervalMs < 1000 || intervalMs > 3_600_000)
      return invalid('spec.retryConstraint.budget.interval must be a duration from 1s to 1h');
    if (minIntervalMs === undefined || minIntervalMs < 1) return invalid('spec.retryConstraint.minRetryRate.interval must be a Gateway API duration');
    node.budget = {
      percent: typeof budget.percent === 'number' ? budget.percent : BUDGET_DEFAULTS.percent,
      intervalMs,
      minRetries: typeof min.count === 'number' ? min.count : BUDGET_DEFAULTS.minRetries,
      minIntervalMs,
    };
  }
  return node;
}
