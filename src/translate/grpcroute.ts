// GRPCRoute rules -> IR route entries. A gRPC method is the HTTP/2 path /service/method, so
// service/method matches become path matches and the entry is marked grpc (errors and
// no-match answer with gRPC status codes).

import type { GRPCHeaderMatch, GRPCMethodMatch, GRPCRoute, GRPCRouteMatch, GRPCRouteRule } from '../api/types.js';
import type { HTTPMatch, HTTPRouteEntry } from '../ir/types.js';
import type { Clusters } from './backends.js';
import { arr, obj, validRegex } from './util.js';
import { Reason } from './conditions.js';
import type { FilterProblem } from './filters.js';
import { resolveRuleTargets } from './rule-targets.js';
import type { RankedEntry } from './precedence.js';
import { INVALID_BACKEND, type RouteNode } from './routes.js';
import { ruleSession, sessionFor } from './session.js';

const SERVICE_RE = /^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const METHOD_RE = /^[A-Za-z_][A-Za-z_0-9]*$/;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Exact service+method -> Exact "/svc/Method"; Exact service only -> PathPrefix "/svc" (the
 * data plane's prefix match is segment-aware); anything else -> an anchored regular
 * expression over the whole path, so it means the same under full-match or search semantics.
 */
function pathFor(m: GRPCMethodMatch, at: string): { path?: HTTPMatch['path'] } | { problem: FilterProblem } {
  const type = m.type ?? 'Exact';
  const service = typeof m.service === 'string' ? m.service : '';
  const method = typeof m.method === 'string' ? m.method : '';
  if (!service && !method) return { problem: { reason: Reason.UnsupportedValue, message: `${at}: one of service or method is required` } };
  if (type === 'Exact') {
    if ((service && !SERVICE_RE.test(service)) || (method && !METHOD_RE.test(method)))
      return { problem: { reason: Reason.UnsupportedValue, message: `${at}: invalid service or method name` } };
    if (service && method) return { path: { type: 'Exact', value: `/${service}/${method}` } };
    if (service) return { path: { type: 'PathPrefix', value: `/${service}` } };
    return { path: { type: 'RegularExpression', value: `^/[^/]+/${escapeRegex(method)}$` } };
  }
  if (type === 'RegularExpression') {
    if ((service && !validRegex(service)) || (method && !validRegex(method)))
      return { problem: { reason: Reason.UnsupportedValue, message: `${at}: invalid regular expression` } };
    return { path: { type: 'RegularExpression', value: `^/(?:${service || '[^/]+'})/(?:${method || '[^/]+'})$` } };
  }
  return { problem: { reason: Reason.UnsupportedValue, message: `${at}.type ${String(type)} is not supported` } };
}

export function grpcRouteEntries(node: RouteNode, route: GRPCRoute, clusters: Clusters): RankedEntry[] {
  const rules = arr<GRPCRouteRule>(route.spec?.rules);
  node.ruleCount = rules.length;
  const out: RankedEntry[] = [];
  for (const [ri, rule] of rules.entries()) {
    const where = `spec.rules[${ri}]`;
    const matches: GRPCRouteMatch[] = arr<GRPCRouteMatch>(rule.matches).length > 0 ? arr<GRPCRouteMatch>(rule.matches) : [{}];
    let problem: FilterProblem | undefined;
    const irMatches: { match: HTTPMatch; service: number; method: number }[] = [];
    for (const [mi, m] of matches.entries()) {
      const at = `${where}.matches[${mi}]`;
      const match: HTTPMatch = {};
      if (m.method && typeof m.method === 'object') {
        const p = pathFor(m.method, `${at}.method`);
        if ('problem' in p) {
          problem ??= p.problem;
          continue;
        }
        if (p.path) match.path = p.path;
      }
      const headers = arr<GRPCHeaderMatch>(m.headers);
      if (headers.length > 0) {
        const hs = [];
        for (const [hi, h] of headers.entries()) {
          const t = h.type ?? 'Exact';
          if (typeof h.name !== 'string' || typeof h.value !== 'string' || (t !== 'Exact' && t !== 'RegularExpression') || (t === 'RegularExpression' && !validRegex(h.value))) {
            problem ??= { reason: Reason.UnsupportedValue, message: `${at}.headers[${hi}] is not supported` };
            break;
          }
          hs.push({ name: h.name.toLowerCase(), type: t, value: h.value });
        }
        match.headers = hs;
      }
      const mm = obj<GRPCMethodMatch>(m.method);
      irMatches.push({ match, service: typeof mm.service === 'string' ? mm.service.length : 0, method: typeof mm.method === 'string' ? mm.method.length : 0 });
    }
    const dropped = problem !== undefined;
    const fc = { routeKind: 'GRPCRoute' as const, namespace: node.namespace, clusters, use: 'grpc' as const, allPathPrefix: false };
    const f = resolveRuleTargets(node, fc, rule, where);
    problem ??= f.invalid;
    const backends = f.backends;
    const scope = `GRPCRoute ${node.namespace}/${route.metadata.name} rule ${ri}`;
    const session = ruleSession(rule.sessionPersistence, scope, clusters.ctx.sessionSeed, `${where}.sessionPersistence`, () =>
      clusters.policySession(backends.map((b) => b.cluster)),
    );
    if (typeof session === 'string') problem ??= { reason: Reason.UnsupportedValue, message: session };
    if (problem) node.invalidRules.push({ rule: ri, problem, served500: !dropped });
    if (dropped) continue;
    for (const [mi, m] of irMatches.entries()) {
      const source = { kind: 'GRPCRoute' as const, namespace: node.namespace, name: route.metadata.name, rule: ri, match: mi };
      const entry: HTTPRouteEntry = problem
        ? { source, match: m.match, filters: [], backends: [{ weight: 1, invalid: INVALID_BACKEND(problem.reason) }], grpc: true }
        : { source, match: m.match, filters: f.filters, backends, grpc: true, ...(session && typeof session !== 'string' ? { session: sessionFor(session, m.match) } : {}) };
      out.push({ entry, routeOrder: node.order, grpc: { service: m.service, method: m.method } });
    }
  }
  return out;
}
