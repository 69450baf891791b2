// HTTPRoute/GRPCRoute filters -> IR filters. An unsupported filter (ExtensionRef: Portico
// has no extensions; an unknown type) makes its rule invalid: the spec forbids skipping a
// filter, so requests for that rule get a 500 and the route reports UnsupportedValue.

import type { HTTPHeader, HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter } from '../api/types.js';
import { arr, strs } from './util.js';
import type { HTTPFilter, HeaderModifier, PathModifier } from '../ir/types.js';
import type { BackendUse, Clusters, Resolved } from './backends.js';
import { Reason } from './conditions.js';

export interface FilterProblem {
  reason: string;
  message: string;
}

export interface FilterResult {
  filters: HTTPFilter[];
  /** Makes the rule invalid (Accepted side). */
  invalid?: FilterProblem;
  /** Reference problems (ResolvedRefs side), e.g. a RequestMirror backend that does not resolve. */
  refProblems: FilterProblem[];
  /** Resolved mirror backends, so their BackendTLSPolicies learn their ancestors. */
  resolved: Resolved[];
}

function headerModifier(f: HTTPHeaderFilter | undefined): HeaderModifier {
  const m: HeaderModifier = {};
  const valid = (h: HTTPHeader): boolean => typeof h.name === 'string' && typeof h.value === 'string';
  const set = arr<HTTPHeader>(f?.set).filter(valid);
  const add = arr<HTTPHeader>(f?.add).filter(valid);
  const remove = strs(f?.remove);
  // Header names are case-insensitive: lower-cased once here, not per request in the data plane.
  if (set.length) m.set = set.map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
  if (add.length) m.add = add.map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
  if (remove.length) m.remove = remove.map((h) => h.toLowerCase());
  return m;
}

function pathModifier(p: HTTPPathModifier | undefined): PathModifier | undefined {
  if (!p) return undefined;
  if (p.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: p.replaceFullPath ?? '/' };
  if (p.type === 'ReplacePrefixMatch') return { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch ?? '/' };
  return undefined;
}

export interface FilterContext {
  routeKind: 'HTTPRoute' | 'GRPCRoute';
  namespace: string;
  clusters: Clusters;
  use: BackendUse;
  /** Kinds of path match in this rule: ReplacePrefixMatch needs every match to be a PathPrefix. */
  allPathPrefix: boolean;
}

const GRPC_FILTERS = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror']);

export function translateFilters(fc: FilterContext, filters: readonly HTTPRouteFilter[] | undefined, where: string): FilterResult {
  const out: FilterResult = { filters: [], refProblems: [], resolved: [] };
  const list = arr<HTTPRouteFilter>(filters);
  const types = list.map((f) => f.type);
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
    out.invalid = { reason: Reason.IncompatibleFilters, message: `${where}: RequestRedirect and URLRewrite cannot be used together` };
    return out;
  }
  for (const [i, f] of list.entries()) {
    const at = `${where}.filters[${i}]`;
    const type = f?.type;
    if (fc.routeKind === 'GRPCRoute' && !GRPC_FILTERS.has(type)) {
      out.invalid = { reason: Reason.UnsupportedValue, message: `${at}: filter type ${type} is not supported on GRPCRoute` };
      return out;
    }
    switch (type) {
      case 'RequestHeaderModifier':
        out.filters.push({ type, modifier: headerModifier(f.requestHeaderModifier) });
        break;
      case 'ResponseHeaderModifier':
        out.filters.push({ type, modifier: headerModifier(f.responseHeaderModifier) });
        break;
      case 'RequestRedirect': {
        const r = f.requestRedirect ?? {};
        const path = pathModifier(r.path);
        if (path?.type === 'ReplacePrefixMatch' && !fc.allPathPrefix) {
          out.invalid = { reason: Reason.UnsupportedValue, message: `${at}: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match` };
          return out;
        }
        out.filters.push({
          type,
          ...(r.scheme ? { scheme: r.scheme } : {}),
          ...(r.hostname ? { hostname: r.hostname } : {}),
          ...(r.port !== undefined ? { port: r.port } : {}),
          ...(path ? { path } : {}),
          statusCode: r.statusCode ?? 302,
        });
        break;
      }
      case 'URLRewrite': {
        const r = f.urlRewrite ?? {};
        const path = pathModifier(r.path);
        if (path?.type === 'ReplacePrefixMatch' && !fc.allPathPrefix) {
          out.invalid = { reason: Reason.UnsupportedValue, message: `${at}: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match` };
          return out;
        }
        out.filters.push({ type, ...(r.hostname ? { hostname: r.hostname } : {}), ...(path ? { path } : {}) });
        break;
      }
      case 'RequestMirror': {
        const m = f.requestMirror;
        if (!m?.backendRef) {
          out.invalid = { reason: Reason.UnsupportedValue, message: `${at}: requestMirror.backendRef is required` };
          return out;
        }
        const res = fc.clusters.resolve({ kind: fc.routeKind, namespace: fc.namespace }, m.backendRef, fc.use);
        out.resolved.push(res);
        let fraction = 1;
        if (typeof m.percent === 'number') fraction = m.percent / 100;
        else if (m.fraction && typeof m.fraction.numerator === 'number') fraction = m.fraction.numerator / (m.fraction.denominator ?? 100);
        fraction = Math.max(0, Math.min(1, fraction));
        // A mirror that cannot resolve is dropped: mirroring must never fail the main request.
        if (res.ok) out.filters.push({ type, backend: { cluster: res.cluster }, fraction });
        else if (!res.quiet) out.refProblems.push({ reason: res.reason, message: `${at}: ${res.message}` });
        break;
      }
      case 'CORS': {
        const c = f.cors ?? {};
        out.filters.push({
          type,
          allowOrigins: c.allowOrigins ?? [],
          allowCredentials: c.allowCredentials ?? false,
          allowMethods: c.allowMethods ?? [],
          allowHeaders: c.allowHeaders ?? [],
          exposeHeaders: c.exposeHeaders ?? [],
          maxAge: c.maxAge ?? 5,
        });
        break;
      }
      case 'ExtensionRef': {
        const e = f.extensionRef;
        out.invalid = {
          reason: Reason.UnsupportedValue,
          message: `${at}: ExtensionRef ${e ? `${e.group || 'core'}/${e.kind} ${e.name}` : ''} is not supported by Portico`,
        };
        return out;
      }
      default:
        out.invalid = { reason: Reason.UnsupportedValue, message: `${at}: filter type ${String(type)} is not supported` };
        return out;
    }
  }
  return out;
}
