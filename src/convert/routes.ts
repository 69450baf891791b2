// Servers as routes: one HTTPRoute per host (plus, for a host in spec.tls, the HTTP
// listener's route that redirects to https), a GRPCRoute for backend-protocol GRPC/GRPCS
// paths, a TLSRoute for ssl-passthrough, and the www/non-www twin's redirect route.

import type { BackendRef, GRPCRouteMatch, GRPCRouteRule, HTTPHeaderMatch, HTTPRouteFilter, HTTPRouteMatch, HTTPRouteRule, ParentReference, Resource } from '../api/types.js';
import { GATEWAY_GROUP } from '../api/names.js';
import type { IngressPlan } from './plan.js';
import type { Location, Server } from './servers.js';
import { byPathLength } from './servers.js';
import { hostSlug, nsOf, objectName } from './ingress.js';
import { pathMatch, pathRewrite } from './paths.js';

export interface EmitContext {
  gateway: { namespace: string; name: string };
  httpsPort: number;
  /** Listener sectionName serving a host over HTTPS (terminate), undefined when none. */
  httpsListener(host: string): string | undefined;
  passthroughListener(host: string): string | undefined;
  /** Whether spec.tls names the host (with or without a terminating listener). */
  hasTLS(host: string): boolean;
  /** Records a backendRef (ReferenceGrant when cross-namespace, BackendTLSPolicy for HTTPS/GRPCS backends). */
  useBackend(kind: string, routeNs: string, ref: BackendRef, plan: IngressPlan): void;
  uniqueName(kind: string, namespace: string, base: string): string;
}

interface OwnedRule {
  plan: IngressPlan;
  rule: HTTPRouteRule;
  /** app-root and permanent/temporal redirects: nginx answers them before its ssl redirect, on http too. */
  answersFirst?: boolean;
}

const escapeRegex = (s: string) => s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

/** The canary rules that precede a location's weighted rule, in ingress-nginx's order: header, then cookie. */
function canaryMatches(plan: IngressPlan): { headers: HTTPHeaderMatch[]; toCanary: boolean }[] {
  const c = plan.canary!;
  const out: { headers: HTTPHeaderMatch[]; toCanary: boolean }[] = [];
  if (c.header) {
    if (c.headerValue !== undefined) out.push({ headers: [{ type: 'Exact', name: c.header, value: c.headerValue }], toCanary: true });
    else if (c.headerPattern !== undefined) out.push({ headers: [{ type: 'RegularExpression', name: c.header, value: `.*(?:${c.headerPattern}).*` }], toCanary: true });
    else {
      out.push({ headers: [{ type: 'Exact', name: c.header, value: 'always' }], toCanary: true });
      out.push({ headers: [{ type: 'Exact', name: c.header, value: 'never' }], toCanary: false });
    }
  }
  if (c.cookie) {
    for (const [v, toCanary] of [['always', true], ['never', false]] as const)
      out.push({ headers: [{ type: 'RegularExpression', name: 'Cookie', value: `(?:.*;\\s*)?${escapeRegex(c.cookie)}=${v}(?:;.*)?` }], toCanary });
  }
  return out;
}

function ruleFilters(plan: IngressPlan, loc: Location | undefined, match: HTTPRouteMatch): HTTPRouteFilter[] {
  if (plan.redirect) return [{ type: 'RequestRedirect', requestRedirect: plan.redirect }];
  const filters: HTTPRouteFilter[] = [];
  if (plan.requestHeaders.length) filters.push({ type: 'RequestHeaderModifier', requestHeaderModifier: { set: plan.requestHeaders } });
  if (plan.responseHeaders.length) filters.push({ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: plan.responseHeaders } });
  let path;
  if (loc && plan.rewriteTarget !== undefined) {
    const r = pathRewrite(loc.path, match.path!, plan.rewriteTarget);
    plan.report('rewrite-target', r.status, r.note);
    path = r.modifier;
  }
  if (path || plan.upstreamHost) filters.push({ type: 'URLRewrite', urlRewrite: { ...(plan.upstreamHost ? { hostname: plan.upstreamHost } : {}), ...(path ? { path } : {}) } });
  if (plan.cors) filters.push({ type: 'CORS', cors: plan.cors });
  return filters;
}

function withRuleSettings(plan: IngressPlan, rule: HTTPRouteRule): HTTPRouteRule {
  if (plan.redirect) return rule;
  if (plan.timeouts) rule.timeouts = plan.timeouts;
  if (plan.sessionPersistence) rule.sessionPersistence = plan.sessionPersistence;
  return rule;
}

function locationRules(loc: Location, server: Server, ctx: EmitContext, routeNs: string): OwnedRule[] {
  const plan = loc.plan;
  const pm = pathMatch(loc.path, loc.pathType, server.regexMode);
  if (pm.status !== 'converted') plan.report(`${loc.where}.path`, pm.status, pm.note!);
  const match: HTTPRouteMatch = { path: pm.match };
  const filters = ruleFilters(plan, loc, match);
  const ref = (b: BackendRef, p: IngressPlan, weight?: number) => {
    ctx.useBackend('HTTPRoute', routeNs, b, p);
    return weight === undefined ? { ...b } : { ...b, weight };
  };
  const rule = (m: HTTPRouteMatch, backends: BackendRef[]): HTTPRouteRule => withRuleSettings(plan, { matches: [m], ...(filters.length ? { filters } : {}), ...(plan.redirect ? {} : { backendRefs: backends }) });
  const out: OwnedRule[] = [];
  const c = loc.canary;
  if (c && !plan.redirect) {
    for (const cm of canaryMatches(c.plan)) out.push({ plan, rule: rule({ ...match, headers: cm.headers }, [cm.toCanary ? ref(c.backend, c.plan) : ref(loc.backend, plan)]) });
    const w = c.plan.canary!.weight;
    const total = c.plan.canary!.weightTotal;
    out.push({ plan, rule: rule(match, w ? [ref(loc.backend, plan, total - w), ref(c.backend, c.plan, w)] : [ref(loc.backend, plan)]) });
  } else {
    out.push({ plan, rule: rule(match, [ref(loc.backend, plan)]), ...(plan.redirect ? { answersFirst: true } : {}) });
  }
  return out;
}

/** The HTTP rules of a server, for the listener that serves it. */
function serverRules(server: Server, locations: Location[], ctx: EmitContext, routeNs: string): OwnedRule[] {
  const rules: OwnedRule[] = [];
  const appRoots = new Set<IngressPlan>();
  for (const loc of [...locations].sort(byPathLength)) {
    if (loc.plan.appRoot && !appRoots.has(loc.plan)) {
      appRoots.add(loc.plan);
      rules.push({ plan: loc.plan, answersFirst: true, rule: { matches: [{ path: { type: 'Exact', value: '/' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: loc.plan.appRoot }, statusCode: 302 } }] } });
    }
    rules.push(...locationRules(loc, server, ctx, routeNs));
  }
  const hasRoot = locations.some((l) => l.path === '/' && l.pathType !== 'Exact');
  if (server.root && !hasRoot) {
    ctx.useBackend('HTTPRoute', routeNs, server.root.backend, server.root.plan);
    rules.push({ plan: server.root.plan, rule: { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ ...server.root.backend }] } });
  }
  return rules;
}

function toHttps(ctx: EmitContext, rule: HTTPRouteRule): HTTPRouteRule {
  return {
    ...(rule.matches ? { matches: rule.matches } : {}),
    filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', ...(ctx.httpsPort !== 443 ? { port: ctx.httpsPort } : {}), statusCode: 308 } }],
  };
}

const parentRef = (ctx: EmitContext, routeNs: string, sectionName: string): ParentReference => ({
  group: GATEWAY_GROUP,
  kind: 'Gateway',
  ...(ctx.gateway.namespace !== routeNs ? { namespace: ctx.gateway.namespace } : {}),
  name: ctx.gateway.name,
  sectionName,
});

function httpRoute(name: string, namespace: string, host: string, parents: ParentReference[], rules: HTTPRouteRule[]): Resource {
  return {
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec: { parentRefs: parents, ...(host ? { hostnames: [host] } : {}), rules },
  };
}

export function emitServer(server: Server, ctx: EmitContext): Resource[] {
  const out: Resource[] = [];
  const routeNs = nsOf(server.owner.ingress);
  const host = server.host;
  const baseName = objectName(server.owner.ingress.metadata.name, hostSlug(host));
  const grpc = server.locations.filter((l) => l.plan.backendProtocol === 'GRPC' || l.plan.backendProtocol === 'GRPCS');
  const http = server.locations.filter((l) => !grpc.includes(l));
  const https = ctx.httpsListener(host);

  if (http.length > 0 || server.root) {
    const owned = serverRules(server, http, ctx, routeNs);
    const name = ctx.uniqueName('HTTPRoute', routeNs, baseName);
    if (https) {
      out.push(httpRoute(name, routeNs, host, [parentRef(ctx, routeNs, https)], owned.map((o) => o.rule)));
      const redirecting = owned.map((o) => !o.answersFirst && (o.plan.sslRedirect || o.plan.forceSslRedirect));
      // One catch-all redirect when every Ingress of the host redirects (what ingress-nginx does for
      // the whole server, unknown paths included); per rule otherwise.
      const plain = owned.every((o, i) => o.answersFirst || redirecting[i])
        ? [...owned.filter((o) => o.answersFirst).map((o) => o.rule), toHttps(ctx, {})]
        : owned.map((o, i) => (redirecting[i] ? toHttps(ctx, o.rule) : o.rule));
      out.push(httpRoute(ctx.uniqueName('HTTPRoute', routeNs, `${baseName}-http`), routeNs, host, [parentRef(ctx, routeNs, 'http')], plain));
    } else if (ctx.passthroughListener(host) && ctx.hasTLS(host)) {
      // ssl-passthrough host: HTTPS goes to the TLSRoute; plain HTTP redirects to it as ingress-nginx does (ssl-redirect).
      out.push(httpRoute(name, routeNs, host, [parentRef(ctx, routeNs, 'http')], owned.map((o) => (!o.answersFirst && (o.plan.sslRedirect || o.plan.forceSslRedirect) ? toHttps(ctx, o.rule) : o.rule))));
    } else {
      const forced = new Set(owned.filter((o) => o.plan.forceSslRedirect).map((o) => o.plan));
      for (const p of forced) p.report('force-ssl-redirect', 'approximated', `host ${host || '(any)'} has no certificate in spec.tls: the redirect points at https, which this output does not serve for it`);
      out.push(httpRoute(name, routeNs, host, [parentRef(ctx, routeNs, 'http')], owned.map((o) => (forced.has(o.plan) && !o.answersFirst ? toHttps(ctx, o.rule) : o.rule))));
    }
  }

  if (grpc.length > 0) {
    const rules: GRPCRouteRule[] = [];
    for (const loc of [...grpc].sort(byPathLength)) {
      const m = grpcMatch(loc.path);
      if (!m) {
        loc.plan.report(`${loc.where}.path`, 'not-converted', `gRPC path ${loc.path}: a GRPCRoute matches "/" or "/<package.Service>[/<Method>]" only`);
        continue;
      }
      const ref = (b: BackendRef, p: IngressPlan, weight?: number) => {
        ctx.useBackend('GRPCRoute', routeNs, b, p);
        return weight === undefined ? { ...b } : { ...b, weight };
      };
      const matchesWith = (headers?: HTTPHeaderMatch[]): GRPCRouteMatch[] | undefined => (m.method || headers ? [{ ...(m.method ? { method: m.method } : {}), ...(headers ? { headers } : {}) }] : undefined);
      const c = loc.canary;
      if (c) {
        for (const cm of canaryMatches(c.plan)) rules.push({ ...optional('matches', matchesWith(cm.headers)), backendRefs: [cm.toCanary ? ref(c.backend, c.plan) : ref(loc.backend, loc.plan)] });
        const w = c.plan.canary!.weight;
        rules.push({ ...optional('matches', matchesWith()), backendRefs: w ? [ref(loc.backend, loc.plan, c.plan.canary!.weightTotal - w), ref(c.backend, c.plan, w)] : [ref(loc.backend, loc.plan)] });
      } else rules.push({ ...optional('matches', matchesWith()), backendRefs: [ref(loc.backend, loc.plan)] });
      for (const a of ['rewrite-target', 'upstream-vhost', 'x-forwarded-prefix', 'enable-cors', 'affinity', 'app-root'])
        if (loc.plan.annotations.has(a)) loc.plan.report(a, 'not-converted', 'not applied to the GRPCRoute (GRPCRoute has no such filter)');
    }
    if (http.length > 0) server.owner.report('backend-protocol', 'approximated', `host ${host} has both gRPC and HTTP paths: a GRPCRoute and an HTTPRoute share the hostname (Gateway API lets the implementation reject one; Portico keeps both if paths do not collide)`);
    if (rules.length)
      out.push({
        apiVersion: `${GATEWAY_GROUP}/v1`,
        kind: 'GRPCRoute',
        metadata: { name: ctx.uniqueName('GRPCRoute', routeNs, baseName), namespace: routeNs },
        spec: { parentRefs: [parentRef(ctx, routeNs, https ?? 'http')], ...(host ? { hostnames: [host] } : {}), rules },
      });
  }

  if (server.locations.some((l) => l.plan.fromToWww) && host && !host.startsWith('*')) {
    const twin = host.startsWith('www.') ? host.slice(4) : `www.${host}`;
    out.push(
      httpRoute(ctx.uniqueName('HTTPRoute', routeNs, objectName(baseName, 'www-redirect')), routeNs, twin, [parentRef(ctx, routeNs, 'http'), ...(ctx.httpsListener(twin) ? [parentRef(ctx, routeNs, ctx.httpsListener(twin)!)] : [])], [
        { filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: host, statusCode: 308 } }] },
      ]),
    );
  }
  return out;
}

/** ssl-passthrough: a TLSRoute by SNI to the backend of "/" (or the first path), as ingress-nginx does. */
export function emitPassthrough(server: Server, ctx: EmitContext): Resource | undefined {
  const locs = server.locations.filter((l) => l.plan.passthrough);
  const listener = ctx.passthroughListener(server.host);
  if (locs.length === 0 || !listener) return undefined;
  const routeNs = nsOf(server.owner.ingress);
  const loc = locs.find((l) => l.path === '/') ?? locs[0]!;
  if (locs.length > 1) loc.plan.report('ssl-passthrough', 'approximated', `passthrough routes by SNI only: ${loc.path} -> ${loc.backend.name} serves the whole host; other paths are not used for TLS`);
  ctx.useBackend('TLSRoute', routeNs, loc.backend, loc.plan);
  return {
    apiVersion: `${GATEWAY_GROUP}/v1alpha2`,
    kind: 'TLSRoute',
    metadata: { name: ctx.uniqueName('TLSRoute', routeNs, objectName(server.owner.ingress.metadata.name, hostSlug(server.host))), namespace: routeNs },
    spec: { parentRefs: [parentRef(ctx, routeNs, listener)], hostnames: [server.host], rules: [{ backendRefs: [{ ...loc.backend }] }] },
  };
}

function grpcMatch(path: string): { method?: { type: 'Exact'; service: string; method?: string } } | undefined {
  if (path === '/') return {};
  const m = /^\/([A-Za-z_][\w.]*)(?:\/([A-Za-z_]\w*)?)?$/.exec(path);
  if (!m) return undefined;
  return { method: { type: 'Exact', service: m[1]!, ...(m[2] ? { method: m[2] } : {}) } };
}

function optional<K extends string, V>(key: K, v: V | undefined): { [k in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [k in K]?: V };
}
