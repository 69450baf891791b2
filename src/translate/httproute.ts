// HTTPRoute rules -> precedence-ranked IR route entries (listener-independent; attachment
// decides which virtual hosts receive them).

import type { HTTPHeaderMatch, HTTPRoute, HTTPRouteMatch, HTTPRouteRule } from '../api/types.js';
import type { HTTPMatch, HTTPRouteEntry } from '../ir/types.js';
import type { Clusters } from './backends.js';
import { arr, obj, validRegex } from './util.js';
import { Reason } from './conditions.js';
import { parseDuration } from './duration.js';
import type { FilterProblem } from './filters.js';
import { resolveRuleTargets } from './rule-targets.js';
import { ruleSession, sessionFor, type SessionSettings } from './session.js';
import type { RankedEntry } from './precedence.js';
import { INVALID_BACKEND, type RouteNode } from './routes.js';

function matchOf(m: HTTPRouteMatch, at: string): { match: HTTPMatch } | { problem: FilterProblem } {
  const path = obj<NonNullable<HTTPRouteMatch['path']>>(m.path);
  const type = path.type ?? 'PathPrefix';
  const value = path.value ?? '/';
  if (typeof value !== 'string') return { problem: { reason: Reason.UnsupportedValue, message: `${at}.path.value must be a string` } };
  if (type !== 'Exact' && type !== 'PathPrefix' && type !== 'RegularExpression')
    return { problem: { reason: Reason.UnsupportedValue, message: `${at}.path.type ${String(type)} is not supported` } };
  if (type === 'RegularExpression' ? !validRegex(value) : !value.startsWith('/'))
    return { problem: { reason: Reason.UnsupportedValue, message: `${at}.path.value ${JSON.stringify(value)} is not a valid ${type} path` } };
  const match: HTTPMatch = { path: { type, value } };
  for (const [kind, list] of [['headers', m.headers], ['queryParams', m.queryParams]] as const) {
    const items = arr<HTTPHeaderMatch>(list);
    if (items.length === 0) continue;
    const out = [];
    for (const [i, h] of items.entries()) {
      const t = h.type ?? 'Exact';
      if (typeof h.name !== 'string' || typeof h.value !== 'string')
        return { problem: { reason: Reason.UnsupportedValue, message: `${at}.${kind}[${i}] needs a name and a value` } };
      if ((t !== 'Exact' && t !== 'RegularExpression') || (t === 'RegularExpression' && !validRegex(h.value)))
        return { problem: { reason: Reason.UnsupportedValue, message: `${at}.${kind}[${i}] ${t} ${JSON.stringify(h.value)} is not supported` } };
      out.push({ name: kind === 'headers' ? h.name.toLowerCase() : h.name, type: t, value: h.value });
    }
    match[kind] = out;
  }
  if (typeof m.method === 'string' && m.method) match.method = m.method;
  return { match };
}

export function httpRouteEntries(node: RouteNode, route: HTTPRoute, clusters: Clusters): RankedEntry[] {
  const rules: HTTPRouteRule[] = arr<HTTPRouteRule>(route.spec?.rules);
  node.ruleCount = rules.length;
  const out: RankedEntry[] = [];
  for (const [ri, rule] of rules.entries()) {
    const where = `spec.rules[${ri}]`;
    const matches: HTTPRouteMatch[] = arr<HTTPRouteMatch>(rule.matches).length > 0 ? arr<HTTPRouteMatch>(rule.matches) : [{}];
    let problem: FilterProblem | undefined;
    const irMatches: HTTPMatch[] = [];
    for (const [mi, m] of matches.entries()) {
      const r = matchOf(m ?? {}, `${where}.matches[${mi}]`);
      if ('problem' in r) problem ??= r.problem;
      else irMatches.push(r.match);
    }
    // A match Portico cannot evaluate drops the whole rule: serving a 500 there would need the match.
    const dropped = problem !== undefined;
    const allPathPrefix = irMatches.every((m) => m.path?.type === 'PathPrefix');
    const fc = { routeKind: 'HTTPRoute' as const, namespace: node.namespace, clusters, use: 'http' as const, allPathPrefix };
    const f = resolveRuleTargets(node, fc, rule, where);
    problem ??= f.invalid;
    const backends = f.backends;
    let timeouts: HTTPRouteEntry['timeouts'];
    const t = rule.timeouts;
    if (t) {
      const requestMs = t.request !== undefined ? parseDuration(t.request) : undefined;
      const backendRequestMs = t.backendRequest !== undefined ? parseDuration(t.backendRequest) : undefined;
      if ((t.request !== undefined && requestMs === undefined) || (t.backendRequest !== undefined && backendRequestMs === undefined))
        problem ??= { reason: Reason.UnsupportedValue, message: `${where}.timeouts: not a Gateway API duration (e.g. 10s, 500ms, 1m30s)` };
      else if (requestMs && backendRequestMs && backendRequestMs > requestMs)
        problem ??= { reason: Reason.UnsupportedValue, message: `${where}.timeouts.backendRequest must not exceed timeouts.request` };
      else {
        // "0s" disables a timeout (GEP-1742), so it is left out like an unset one.
        timeouts = {};
        if (requestMs) timeouts.requestMs = requestMs;
        if (backendRequestMs) timeouts.backendRequestMs = backendRequestMs;
        if (!timeouts.requestMs && !timeouts.backendRequestMs) timeouts = undefined;
      }
    }
    let retry: HTTPRouteEntry['retry'];
    const rt = rule.retry;
    if (rt) {
      const codes = (Array.isArray(rt.codes) ? rt.codes : []).filter((c) => Number.isInteger(c));
      const backoffMs = rt.backoff !== undefined ? parseDuration(rt.backoff) : 0;
      if (codes.some((c) => c < 400 || c > 599))
        problem ??= { reason: Reason.UnsupportedValue, message: `${where}.retry.codes: only 4xx and 5xx codes can be retried` };
      else if (backoffMs === undefined)
        problem ??= { reason: Reason.UnsupportedValue, message: `${where}.retry.backoff: not a Gateway API duration (e.g. 100ms, 1s)` };
      else {
        // Unset attempts: one retry (the API leaves the default to the implementation); 0 disables.
        const attempts = typeof rt.attempts === 'number' && rt.attempts >= 0 ? Math.floor(rt.attempts) : 1;
        if (attempts > 0) retry = { codes, attempts, backoffMs };
      }
    }
    const scope = `HTTPRoute ${node.namespace}/${route.metadata.name} rule ${ri}`;
    const sp = ruleSession(rule.sessionPersistence, scope, clusters.ctx.sessionSeed, `${where}.sessionPersistence`, () =>
      clusters.policySession(backends.map((b) => b.cluster)),
    );
    if (typeof sp === 'string') problem ??= { reason: Reason.UnsupportedValue, message: sp };
    const session: SessionSettings | undefined = typeof sp === 'string' ? undefined : sp;
    if (problem) node.invalidRules.push({ rule: ri, problem, served500: !dropped });
    if (dropped) continue;
    for (const [mi, match] of irMatches.entries()) {
      const entry: HTTPRouteEntry = problem
        ? {
            source: { kind: 'HTTPRoute', namespace: node.namespace, name: route.metadata.name, rule: ri, match: mi },
            match,
            filters: [],
            backends: [{ weight: 1, invalid: INVALID_BACKEND(problem.reason) }],
          }
        : {
            source: { kind: 'HTTPRoute', namespace: node.namespace, name: route.metadata.name, rule: ri, match: mi },
            match,
            filters: f.filters,
            backends,
            ...(timeouts ? { timeouts } : {}),
            ...(retry ? { retry } : {}),
            ...(session ? { session: sessionFor(session, match) } : {}),
          };
      out.push({ entry, routeOrder: node.order });
    }
  }
  return out;
}
