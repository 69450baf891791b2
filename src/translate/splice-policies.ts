// A change of policies on Services (BackendTLSPolicy, XBackendTrafficPolicy, BackendLBPolicy), or
// of a ConfigMap only they read (a CA bundle rotated), applied to the last translation. The
// policies are evaluated again from the new snapshot.
//
// - BackendTLSPolicies: when every Service port a policy targets keeps the same policy, usability
//   and whether it sets TLS (the signature: what backends.ts decides a backend's error and its
//   cluster's name by), no route resolves differently. The clusters made from targeted Services
//   take the new TLS settings, and the routes stay as they are.
// - Traffic policies: the Services whose policy in force, session persistence or retry budget
//   changed are resolved anew (their clusters carry the budget), and the routes that named them are
//   spliced as if they had changed (their entries carry the session settings).
//
// Every policy then gets its ancestors from the same counts (the routes give them) and a new
// status. Anything else (a BackendTLSPolicy's targets, usability or conflicts moved; a policy
// added or deleted; the first policy) is a full translate(). At 10,000 routes a CA rotation costs
// the clusters it reaches, and a session setting the routes of its Services.

import { Kind } from '../api/names.js';
import type { Resource } from '../api/types.js';
import { BackendTLSPolicies } from './backendtlspolicy.js';
import { BackendTrafficPolicies } from './backendtrafficpolicy.js';
import { Context, nsOf } from './context.js';
import type { TranslateState } from './index.js';
import { deepSame } from './share.js';
import { rebuildIR, spliceHTTPRoutes, stateReferences, type RouteChange } from './splice.js';
import { keyOf, type Snapshot } from '../store/snapshot.js';
import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.js';

const ids = (all: readonly { id: string }[]): string => all.map((p) => p.id).join('\n');

/** Store keys of the Services whose traffic policy in force, session or budget differs; undefined when the policies themselves differ (statuses would move). */
function trafficMoved(before: BackendTrafficPolicies, after: BackendTrafficPolicies): string[] | undefined {
  if (ids(before.all) !== ids(after.all)) return undefined;
  const out: string[] = [];
  for (const svc of new Set([...before.targeted(), ...after.targeted()])) {
    const [ns, name] = [svc.slice(0, svc.indexOf('/')), svc.slice(svc.indexOf('/') + 1)];
    const a = before.forService(ns, name);
    const b = after.forService(ns, name);
    if (a?.id !== b?.id || !deepSame(a?.session, b?.session) || !deepSame(a?.budget, b?.budget)) out.push(keyOf(Kind.Service, ns, name));
  }
  return out;
}

/** `prev` (the result `state` produced) for `snapshot`; `state` is updated in place. Undefined when only a full translate() can tell. */
export function splicePolicies(state: TranslateState, prev: TranslateResult, snapshot: Snapshot, options: TranslateOptions): TranslateResult | undefined {
  const ancestors = state.ancestors;
  if (!ancestors) return undefined;
  const ctx = new Context(snapshot, options);
  // What the policies look up, as translate() records it.
  const policyBase = new Set<string>();
  ctx.recording = policyBase;
  const policies = new BackendTLSPolicies(ctx);
  const traffic = new BackendTrafficPolicies(ctx);
  if (policies.signature() !== state.policies.signature()) return undefined;
  const keys = trafficMoved(state.clusters.traffic, traffic);
  if (!keys) return undefined;
  // The routes that named a moved Service; TLSRoutes, TCPRoutes and UDPRoutes all again when one did.
  for (const k of keys) if (state.gatewayBase.has(k)) return undefined;
  const l4 = keys.some((k) => state.l4Base.has(k));
  const changes: RouteChange[] = [];
  for (const [key, h] of state.http) if (keys.some((k) => h.references.includes(k))) changes.push({ key, before: h.node.resource, after: h.node.resource });

  state.clusters.traffic = traffic;
  state.clusters.retarget(policies);
  for (const k of keys) state.clusters.forget(k);
  ancestors.rebind(policies, traffic);
  for (const k of state.policyBase) if (!policyBase.has(k) && !state.gatewayBase.has(k) && !state.l4Base.has(k)) state.base.delete(k);
  for (const k of policyBase) state.base.add(k);
  state.policies = policies;
  state.policyBase = policyBase;

  let result: TranslateResult | undefined;
  if (changes.length > 0 || l4) {
    result = spliceHTTPRoutes(state, prev, changes, l4 ? snapshot : undefined);
    if (!result) return undefined;
  } else result = { ...prev, ir: rebuildIR(state, prev.ir) };
  // The policies may look up other ConfigMaps now: the list is built again from what the state holds.
  const references = stateReferences(state, result.references);
  if (references !== result.references) result = { ...result, references };

  // ---- statuses: every policy's, in the places theirs held (the same policies: their ids are compared above)
  const fresh = new Map<string, ObjectStatus>();
  const put = (kind: string, p: { resource: Resource; generation: number }, status: Record<string, unknown>): void => {
    const namespace = nsOf(p.resource);
    fresh.set(`${kind}/${namespace}/${p.resource.metadata.name}`, { kind, namespace, name: p.resource.metadata.name, generation: p.generation, status });
  };
  for (const p of policies.all) put(Kind.BackendTLSPolicy, p, policies.status(p, ctx.controllerName));
  for (const p of traffic.all) put(p.kind, p, traffic.status(p, ctx.controllerName));
  let changedStatuses = false;
  const statuses = result.statuses.map((s) => {
    const next = fresh.get(`${s.kind}/${s.namespace}/${s.name}`);
    if (!next || deepSame(s, next)) return s;
    changedStatuses = true;
    return next;
  });
  return changedStatuses ? { ...result, statuses } : result;
}
