// convertIngresses: Ingress (networking.k8s.io/v1) and ingress-nginx annotations to Gateway
// API objects, with a report of what converted, what was approximated (and how) and what
// could not be (and why). A pure function: no I/O, no clock, the same input gives the same
// output, so the CLI, the tests and a future "serve Ingress directly" path share it.

import type { BackendRef, Resource } from '../api/types.js';
import { DEFAULT_CONTROLLER_NAME } from '../api/names.js';
import type { ConvertInput, ConvertOptions, ConvertResult, Ingress, ReportEntry } from './types.js';
import { classOf, idOf, mergeOrder, nsOf } from './ingress.js';
import { planIngress, type IngressPlan } from './plan.js';
import { buildServers } from './servers.js';
import { emitPassthrough, emitServer, type EmitContext } from './routes.js';
import { backendTLSPolicyOf, gatewayClassOf, gatewayOf, GrantSet, httpsListenerName, passthroughListenerName, tlsFor } from './gateway.js';

export type * from './types.js';

const KIND_ORDER = ['GatewayClass', 'Gateway', 'ReferenceGrant', 'BackendTLSPolicy', 'HTTPRoute', 'GRPCRoute', 'TLSRoute'];

export function convertIngresses(input: ConvertInput, options: ConvertOptions = {}): ConvertResult {
  const report: ReportEntry[] = [];
  const classes = input.ingressClasses ?? [];
  const ingresses = input.ingresses.filter((i) => i.kind === 'Ingress').slice().sort(mergeOrder);
  for (const i of ingresses)
    if (i.apiVersion !== 'networking.k8s.io/v1') report.push({ ingress: idOf(i), item: 'apiVersion', status: 'approximated', message: `${i.apiVersion} read as networking.k8s.io/v1 (the fields must be the v1 ones)` });

  const byClass = new Map<string, IngressPlan[]>();
  for (const ing of ingresses) {
    const cls = classOf(ing, classes, options);
    const plan = planIngress(ing, input, report);
    let l = byClass.get(cls);
    if (!l) byClass.set(cls, (l = []));
    l.push(plan);
  }

  const resources: Resource[] = [];
  const grants = new GrantSet();
  const policies = new Map<string, Resource>();
  const used = new Set<string>();
  for (const [className, plans] of [...byClass.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const namespaces = new Set(plans.map((p) => nsOf(p.ingress)));
    const gwNs = namespaces.size === 1 ? [...namespaces][0]! : 'default';
    const { servers, tls } = buildServers(plans);
    const passthroughHosts = [...servers.values()].filter((s) => s.host !== '' && s.locations.some((l) => l.plan.passthrough)).map((s) => s.host);
    for (const s of servers.values())
      if (s.host === '' && s.locations.some((l) => l.plan.passthrough)) s.locations.find((l) => l.plan.passthrough)!.plan.report('ssl-passthrough', 'not-converted', 'a rule without host cannot be passed through: TLSRoutes route by SNI hostname');

    if (options.emitGatewayClass) resources.push(gatewayClassOf(className, options.controllerName ?? DEFAULT_CONTROLLER_NAME));
    resources.push(gatewayOf({ className, namespace: gwNs, httpPort: options.httpPort ?? 80, httpsPort: options.httpsPort ?? 443, tls, passthroughHosts }, (...a) => grants.add(...a)));

    const ctx: EmitContext = {
      gateway: { namespace: gwNs, name: className },
      httpsPort: options.httpsPort ?? 443,
      httpsListener: (host) => {
        if (passthroughHosts.includes(host)) return undefined;
        const t = tlsFor(tls, host);
        return t && !passthroughHosts.includes(t.host) ? httpsListenerName(t.host) : undefined;
      },
      hasTLS: (host) => tlsFor(tls, host) !== undefined,
      passthroughListener: (host) => (passthroughHosts.includes(host) ? passthroughListenerName(host) : undefined),
      useBackend: (kind, routeNs, ref: BackendRef, plan) => {
        const svcNs = ref.namespace ?? routeNs;
        if (ref.namespace) grants.add(kind, routeNs, 'Service', svcNs, ref.name);
        const tlsBackend = plan.backendTLS;
        if (tlsBackend && !policies.has(`${svcNs}/${ref.name}`)) policies.set(`${svcNs}/${ref.name}`, backendTLSPolicyOf(svcNs, ref, tlsBackend));
      },
      uniqueName: (kind, namespace, base) => {
        let name = base;
        for (let i = 2; used.has(`${kind}/${namespace}/${name}`); i++) name = `${base}-${i}`;
        used.add(`${kind}/${namespace}/${name}`);
        return name;
      },
    };
    for (const server of [...servers.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))) {
      resources.push(...emitServer(server, ctx));
      const tlsRoute = emitPassthrough(server, ctx);
      if (tlsRoute) resources.push(tlsRoute);
    }
  }
  resources.push(...grants.resources(), ...policies.values());

  const ordered = resources
    .map((r, i) => ({ r, i }))
    .sort((a, b) => KIND_ORDER.indexOf(a.r.kind) - KIND_ORDER.indexOf(b.r.kind) || key(a.r).localeCompare(key(b.r)) || a.i - b.i)
    .map((x) => x.r);
  return { resources: ordered, report: dedupe(report) };
}

const key = (r: Resource) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`;

/** Sorted by ingress then item, repeated lines (one per rule of a route) said once. */
function dedupe(report: ReportEntry[]): ReportEntry[] {
  const seen = new Set<string>();
  const out: ReportEntry[] = [];
  for (const e of report) {
    const k = `${e.ingress}\0${e.item}\0${e.status}\0${e.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out.sort((a, b) => (a.ingress < b.ingress ? -1 : a.ingress > b.ingress ? 1 : a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
}

/** Whether everything converted exactly (what --strict asks). */
export function fullyConverted(report: readonly ReportEntry[]): boolean {
  return report.every((e) => e.status === 'converted');
}

export type { Ingress };
