// Ingresses of one IngressClass merged into servers the way ingress-nginx merges them:
// one server per host ("" is the catch-all server), the oldest Ingress owning a host and
// winning a path both define; canary Ingresses attached to the location (host and path)
// they shadow; spec.tls hosts and their Secrets; the host's default backend.

import type { BackendRef } from '../api/types.js';
import type { Ingress } from './types.js';
import type { IngressPlan } from './plan.js';
import { backendRefOf, idOf, nsOf } from './ingress.js';

export interface Location {
  plan: IngressPlan;
  path: string;
  pathType: string;
  backend: BackendRef;
  /** Where in the Ingress, for the report. */
  where: string;
  canary?: { plan: IngressPlan; backend: BackendRef };
}

export interface Server {
  host: string;
  /** The oldest Ingress with a rule for the host: its namespace and name give the route's. */
  owner: IngressPlan;
  locations: Location[];
  /** spec.defaultBackend of the owner: serves paths no location matches (ingress-nginx's "/" of the server). */
  root?: { plan: IngressPlan; backend: BackendRef };
  /** Any Ingress of the host uses use-regex or rewrite-target: every path is a regex to ingress-nginx. */
  regexMode: boolean;
}

export interface TLSHost {
  host: string;
  secret: { namespace: string; name: string };
  ingress: string;
}

export interface ClassServers {
  servers: Map<string, Server>;
  tls: Map<string, TLSHost>;
}

export function buildServers(plans: readonly IngressPlan[]): ClassServers {
  const servers = new Map<string, Server>();
  const tls = new Map<string, TLSHost>();
  const routeNs = (host: string, plan: IngressPlan) => nsOf(servers.get(host)?.owner.ingress ?? plan.ingress);

  for (const plan of plans.filter((p) => !p.canary)) {
    const ing = plan.ingress;
    const spec = ing.spec ?? {};
    const rules = spec.rules ?? [];
    const def = spec.defaultBackend ? backendRefOf(plan.input, ing, spec.defaultBackend, nsOf(ing)) : undefined;
    if (def && !def.ok) plan.report('spec.defaultBackend', 'not-converted', def.why);
    const hosts = rules.length === 0 && def?.ok ? [''] : [...new Set(rules.map((r) => r.host ?? ''))];
    for (const host of hosts) {
      let server = servers.get(host);
      if (!server) {
        server = { host, owner: plan, locations: [], regexMode: false };
        servers.set(host, server);
        if (def?.ok) {
          const ns = nsOf(ing);
          server.root = { plan, backend: rebase(def.ref, ns, routeNs(host, plan)) };
          plan.report('spec.defaultBackend', 'converted', `a PathPrefix / rule (lowest precedence) on ${host ? `host ${host}` : 'the catch-all route (no hostnames)'}`);
        }
      } else if (def?.ok && !server.root) {
        plan.report('spec.defaultBackend', 'approximated', `host ${host || '(any)'} belongs to ${idOf(server.owner.ingress)}, whose default backend (none) ingress-nginx uses; this one is not used there`);
      }
    }
    rules.forEach((rule, ri) => {
      const host = rule.host ?? '';
      const server = servers.get(host)!;
      (rule.http?.paths ?? []).forEach((p, pi) => {
        const where = `spec.rules[${ri}].http.paths[${pi}]`;
        const path = p.path || '/';
        const b = backendRefOf(plan.input, ing, p.backend, routeNs(host, plan));
        if (!b.ok) {
          plan.report(where, 'not-converted', `${host || '*'}${path}: ${b.why}`);
          return;
        }
        const dup = server.locations.find((l) => l.path === path);
        if (dup) {
          plan.report(where, 'not-converted', `${host || '*'}${path} is already defined by ${dup.plan.id} (${dup.where}); ingress-nginx serves that one, so does the output`);
          return;
        }
        if (plan.useRegex || plan.rewriteTarget !== undefined) server.regexMode = true;
        server.locations.push({ plan, path, pathType: p.pathType ?? 'ImplementationSpecific', backend: b.ref, where });
      });
    });
    (spec.tls ?? []).forEach((t, ti) => {
      if (!t.secretName) {
        if (!plan.passthrough) plan.report(`spec.tls[${ti}]`, 'not-converted', 'no secretName: an HTTPS listener needs a certificate (ingress-nginx would serve its default certificate)');
        return;
      }
      for (const host of t.hosts?.length ? t.hosts : ['']) {
        if (tls.has(host)) {
          const first = tls.get(host)!;
          if (first.secret.name !== t.secretName || first.secret.namespace !== nsOf(ing))
            plan.report(`spec.tls[${ti}]`, 'not-converted', `host ${host || '(any)'} already has the certificate of ${first.ingress}; ingress-nginx keeps that one`);
          continue;
        }
        tls.set(host, { host, secret: { namespace: nsOf(ing), name: t.secretName }, ingress: plan.id });
      }
    });
  }

  for (const plan of plans.filter((p) => p.canary)) {
    const ing = plan.ingress;
    (ing.spec?.rules ?? []).forEach((rule, ri) => {
      const host = rule.host ?? '';
      (rule.http?.paths ?? []).forEach((p, pi) => {
        const where = `spec.rules[${ri}].http.paths[${pi}]`;
        const path = p.path || '/';
        const loc = servers.get(host)?.locations.find((l) => l.path === path);
        if (!loc) {
          plan.report(where, 'not-converted', `canary for ${host || '*'}${path}: no main Ingress serves that host and path (ingress-nginx ignores it too)`);
          return;
        }
        if (loc.canary) {
          plan.report(where, 'not-converted', `${host || '*'}${path} already has canary ${loc.canary.plan.id}; ingress-nginx supports one canary per path`);
          return;
        }
        const b = backendRefOf(plan.input, ing, p.backend, nsOf(servers.get(host)!.owner.ingress));
        if (!b.ok) {
          plan.report(where, 'not-converted', `${host || '*'}${path}: ${b.why}`);
          return;
        }
        loc.canary = { plan, backend: b.ref };
      });
    });
    if (ing.spec?.tls?.length) plan.report('spec.tls', 'converted', 'ignored on a canary Ingress (the main Ingress holds the host\'s certificate)');
  }
  return { servers, tls };
}

/** A backendRef resolved for `fromNs` moved to a route in `toNs` (namespace set when they differ). */
function rebase(ref: BackendRef, serviceNs: string, routeNs: string): BackendRef {
  const { namespace: _n, ...rest } = ref;
  return serviceNs === routeNs ? rest : { ...rest, namespace: serviceNs };
}

/** ingress-nginx sorts a server's locations longest path first; regex locations are tried in that order. */
export function byPathLength(a: Location, b: Location): number {
  return b.path.length - a.path.length;
}

export type { Ingress };
