// BackendTLSPolicy: which Service ports get upstream TLS, with what CA, and the policy's
// status per ancestor Gateway (the Gateways whose routes send traffic to a targeted Service).
//
// Conflicts: two policies targeting the same Service (and the same sectionName, or both
// none) — the oldest (creationTimestamp, then namespace/name) wins and the other gets
// Accepted False Conflicted. A policy naming a sectionName is more specific than one that
// does not, so both can apply: the sectionName one for its port, the other for the rest.

import type { BackendTLSPolicy, BackendTLSPolicySpec, ConfigMap, Condition, LocalObjectReference, PolicyTargetReferenceWithSectionName, Service } from '../api/types.js';
import { CORE_GROUP, GATEWAY_GROUP, Kind } from '../api/names.js';
import type { UpstreamTLS } from '../ir/types.js';
import { validCABundle } from './certificates.js';
import { Reason, Type, condition } from './conditions.js';
import { compareAge, generationOf, nsOf, type Context } from './context.js';
import type { GatewayNode } from './graph.js';
import { arr, obj, str } from './util.js';

interface Verdict {
  ok: boolean;
  reason: string;
  message: string;
}

export interface PolicyNode {
  resource: BackendTLSPolicy;
  id: string;
  generation: number;
  accepted: Verdict;
  resolved: Verdict;
  /** Present when the policy is in force; traffic to its targets then uses TLS. */
  tls?: UpstreamTLS;
  /** `${ns}/${name}` of the Services its targetRefs name. */
  services: string[];
  /** In force but unusable (no valid CA, invalid settings): traffic to its targets must fail (5xx), never go out in clear. */
  usable: boolean;
  ancestors: Map<string, GatewayNode>;
}

export class BackendTLSPolicies {
  private readonly byTarget = new Map<string, PolicyNode>(); // `${ns}/${svc}/${sectionName ?? ''}`
  readonly all: PolicyNode[] = [];

  constructor(ctx: Context) {
    const policies = [...ctx.snapshot.list<BackendTLSPolicy>(Kind.BackendTLSPolicy)].sort(compareAge);
    for (const p of policies) {
      let node: PolicyNode;
      try {
        node = evaluate(ctx, p);
      } catch (err) {
        node = broken(p, err);
      }
      this.all.push(node);
      if (!node.accepted.ok && node.accepted.reason === Reason.TargetNotFound) continue;
      const ns = nsOf(p);
      const keys = arr<PolicyTargetReferenceWithSectionName>(p.spec?.targetRefs)
        .filter((t) => (t.group ?? CORE_GROUP) === CORE_GROUP && t.kind === Kind.Service)
        .map((t) => `${ns}/${t.name}/${t.sectionName ?? ''}`);
      const holder = keys.map((k) => this.byTarget.get(k)).find((h) => h !== undefined);
      if (holder) {
        node.accepted = { ok: false, reason: Reason.Conflicted, message: `BackendTLSPolicy ${holder.id} already targets the same Service and sectionName and is older` };
        node.tls = undefined;
        node.usable = true; // the winner decides traffic; this one just does not apply
        continue;
      }
      for (const k of keys) this.byTarget.set(k, node);
    }
    this.all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * What routes read of these policies: per targeted Service port, which policy holds it, whether
   * it is usable and whether it sets TLS (a backend's error and its cluster's name follow from
   * those: backends.ts); per policy, its Services (its ancestors follow from them). Two sets of
   * policies with one signature resolve every route alike; they differ in TLS settings and statuses.
   */
  signature(): string {
    const targets = [...this.byTarget].map(([k, n]) => `${k}=${n.id}|${n.usable}|${n.tls !== undefined}`).sort();
    return JSON.stringify([targets, this.all.map((n) => `${n.id}:${n.services.join(',')}`)]);
  }

  forPort(namespace: string, service: string, portName: string | undefined): PolicyNode | undefined {
    return (portName ? this.byTarget.get(`${namespace}/${service}/${portName}`) : undefined) ?? this.byTarget.get(`${namespace}/${service}/`);
  }

  status(node: PolicyNode, controllerName: string): Record<string, unknown> {
    const gen = node.generation;
    const ancestors = [...node.ancestors.values()]
      .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1))
      .map((gw) => ({
        ancestorRef: { group: GATEWAY_GROUP, kind: Kind.Gateway, namespace: gw.namespace, name: gw.name },
        controllerName,
        conditions: conditionsOf(node, gen),
      }));
    return { ancestors };
  }
}

function conditionsOf(node: PolicyNode, gen: number): Condition[] {
  return [
    condition(Type.Accepted, node.accepted.ok, node.accepted.reason, node.accepted.message, gen),
    condition(Type.ResolvedRefs, node.resolved.ok, node.resolved.reason, node.resolved.message, gen),
  ];
}

function broken(p: BackendTLSPolicy, err: unknown): PolicyNode {
  return {
    resource: p,
    id: `${nsOf(p)}/${p.metadata.name}`,
    generation: generationOf(p),
    accepted: { ok: false, reason: Reason.Invalid, message: `policy could not be evaluated: ${(err as Error).message}` },
    resolved: { ok: true, reason: Reason.ResolvedRefs, message: 'All references are resolved' },
    usable: false,
    ancestors: new Map(),
    services: [],
  };
}

function evaluate(ctx: Context, p: BackendTLSPolicy): PolicyNode {
  const ns = nsOf(p);
  const node: PolicyNode = {
    resource: p,
    id: `${ns}/${p.metadata.name}`,
    generation: generationOf(p),
    accepted: { ok: true, reason: Reason.Accepted, message: 'Policy is accepted' },
    resolved: { ok: true, reason: Reason.ResolvedRefs, message: 'All references are resolved' },
    usable: true,
    ancestors: new Map(),
    services: [],
  };
  const spec = p.spec;
  const targets = arr<PolicyTargetReferenceWithSectionName>(spec?.targetRefs);
  const services = targets.filter((t) => (t.group ?? CORE_GROUP) === CORE_GROUP && t.kind === Kind.Service);
  node.services = [...new Set(services.map((t) => `${ns}/${t.name}`))];
  if (services.length === 0 || !services.some((t) => ctx.lookup<Service>(Kind.Service, ns, t.name))) {
    node.accepted = { ok: false, reason: Reason.TargetNotFound, message: `no targetRef names an existing Service in namespace ${ns}` };
    node.usable = false;
    return node;
  }
  const v = obj<BackendTLSPolicySpec['validation']>(spec?.validation);
  const invalid = (message: string): PolicyNode => {
    node.accepted = { ok: false, reason: Reason.Invalid, message };
    node.usable = false;
    return node;
  };
  if (typeof v.hostname !== 'string' || v.hostname === '') return invalid('validation.hostname is required');
  const refs = arr<LocalObjectReference>(v.caCertificateRefs);
  const wellKnown = v.wellKnownCACertificates;
  if (refs.length > 0 && wellKnown) return invalid('set either validation.caCertificateRefs or validation.wellKnownCACertificates, not both');
  if (refs.length === 0 && !wellKnown) return invalid('validation needs caCertificateRefs or wellKnownCACertificates: System');
  if (wellKnown && wellKnown !== 'System') return invalid(`validation.wellKnownCACertificates ${wellKnown} is not supported; use System`);

  const subjectAltNames = arr<{ type: 'Hostname' | 'URI'; hostname?: string; uri?: string }>(v.subjectAltNames)
    .map((s) => ({ type: s.type, value: str(s.type === 'URI' ? s.uri : s.hostname) ?? '' }))
    .filter((s) => s.value !== '' && (s.type === 'Hostname' || s.type === 'URI'));
  if (wellKnown) {
    node.tls = { sni: v.hostname, useSystemCAs: true, subjectAltNames };
    return node;
  }
  const pems: string[] = [];
  const problems: { reason: string; message: string }[] = [];
  for (const [i, ref] of refs.entries()) {
    if ((ref.group ?? CORE_GROUP) !== CORE_GROUP || ref.kind !== Kind.ConfigMap) {
      problems.push({ reason: Reason.InvalidKind, message: `caCertificateRefs[${i}]: kind ${ref.group || 'core'}/${ref.kind} is not supported; use a ConfigMap` });
      continue;
    }
    const cm = ctx.lookup<ConfigMap>(Kind.ConfigMap, ns, ref.name);
    const pem = obj<Record<string, string>>(cm?.data)['ca.crt'];
    if (!cm) problems.push({ reason: Reason.InvalidCACertificateRef, message: `caCertificateRefs[${i}]: ConfigMap ${ns}/${ref.name} not found` });
    else if (typeof pem !== 'string' || !validCABundle(pem))
      problems.push({ reason: Reason.InvalidCACertificateRef, message: `caCertificateRefs[${i}]: ConfigMap ${ns}/${ref.name} has no valid PEM certificate under key ca.crt` });
    else pems.push(pem.endsWith('\n') ? pem : pem + '\n');
  }
  if (problems.length > 0) {
    const reason = problems.some((x) => x.reason === Reason.InvalidKind) ? Reason.InvalidKind : Reason.InvalidCACertificateRef;
    node.resolved = { ok: false, reason, message: problems.map((x) => x.message).join('; ') };
  }
  if (pems.length === 0) {
    node.accepted = { ok: false, reason: Reason.NoValidCACertificate, message: 'none of caCertificateRefs holds a valid CA certificate' };
    node.usable = false;
    return node;
  }
  node.tls = { sni: v.hostname, caPem: pems.join(''), useSystemCAs: false, subjectAltNames };
  return node;
}
