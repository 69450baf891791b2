// A change of BackendTLSPolicies, or of a ConfigMap only they read (a CA bundle rotated), applied
// to the last translation. The policies are evaluated again from the new snapshot. When every
// Service port a policy targets keeps the same policy, usability and whether it sets TLS (the
// signature: what backends.ts decides a backend's error and its cluster's name by), no route
// resolves differently: the routes are kept, the clusters made from targeted Services take the new
// TLS settings, and the policies get new statuses. Anything else (a target added or gone, a policy
// that became unusable or Conflicted, the first policy) is a full translate(). At 10,000 routes a
// CA rotation costs the clusters it reaches, not the routes.

import { Kind } from '../api/names.js';
import { BackendTLSPolicies } from './backendtlspolicy.js';
import { BackendTrafficPolicies } from './backendtrafficpolicy.js';
import { Context, nsOf } from './context.js';
import type { TranslateState } from './index.js';
import { buildIR } from './ir.js';
import { deepSame, shareIR } from './share.js';
import { adoptShared } from './splice.js';
import type { HTTPRouteEntry } from '../ir/types.js';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.js';

/** `prev` (the result `state` produced) for `snapshot`; `state` is updated in place. Undefined when a route may resolve differently. */
export function splicePolicies(state: TranslateState, prev: TranslateResult, snapshot: Snapshot, options: TranslateOptions): TranslateResult | undefined {
  if (!state.ancestors) return undefined;
  const ctx = new Context(snapshot, options);
  // What the policies look up, as translate() records it: the traffic policies' lookups too.
  const policyBase = new Set<string>();
  ctx.recording = policyBase;
  const policies = new BackendTLSPolicies(ctx);
  new BackendTrafficPolicies(ctx);
  if (policies.signature() !== state.policies.signature()) return undefined;

  state.clusters.retarget(policies);
  state.ancestors.rebind(policies);
  for (const k of state.policyBase) if (!policyBase.has(k) && !state.gatewayBase.has(k) && !state.l4Base.has(k)) state.base.delete(k);
  for (const k of policyBase) state.base.add(k);
  state.policies = policies;
  state.policyBase = policyBase;

  // ---- statuses: the policies' own, in the places theirs held (the same policies: the signature names them all)
  const fresh = new Map<string, ObjectStatus>();
  for (const p of policies.all)
    fresh.set(`${nsOf(p.resource)}/${p.resource.metadata.name}`, {
      kind: Kind.BackendTLSPolicy,
      namespace: nsOf(p.resource),
      name: p.resource.metadata.name,
      generation: p.generation,
      status: policies.status(p, ctx.controllerName),
    });
  let changedStatuses = false;
  const statuses = prev.statuses.map((s) => {
    if (s.kind !== Kind.BackendTLSPolicy) return s;
    const next = fresh.get(`${s.namespace}/${s.name}`);
    if (!next) throw new Error(`BackendTLSPolicy ${s.namespace}/${s.name} has no status after the splice`);
    if (deepSame(s, next)) return s;
    changedStatuses = true;
    return next;
  });

  // ---- IR: the listeners as they were, the clusters that took new TLS settings
  const shared = new Map<HTTPRouteEntry, HTTPRouteEntry>();
  const ir = shareIR(prev.ir, buildIR(state.gateways, state.content, state.clusters, state.listenerIR), shared);
  adoptShared(state, ir, shared);

  const refs = new Set(state.base);
  for (const k of state.referenceCounts.keys()) refs.add(k);
  const sorted = [...refs].sort();
  const references = prev.references && deepSame(prev.references, sorted) ? prev.references : sorted;
  return { ...prev, ir, statuses: changedStatuses ? statuses : prev.statuses, references };
}
