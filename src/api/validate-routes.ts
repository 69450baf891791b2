// HTTPRoute, GRPCRoute, TLSRoute, TCPRoute and UDPRoute schemas with the meaning of their
// CEL rules (apis/v1/httproute_types.go, grpcroute_types.go, apis/v1alpha2/*).

import {
  backendObjectReference,
  backendRefFields,
  checkServicePort,
  duration,
  durationMs,
  headerName,
  hostname,
  localObjectReference,
  parentRefs,
  portNumber,
  preciseHostname,
  sectionName,
  uniqueRuleNames,
} from './validate-common.js';
import { any, arr, bool, int, isObject, obj, str, withDefault, type Report, type Schema } from './validate-schema.js';

const byName = (x: unknown) => (isObject(x) && typeof x.name === 'string' ? x.name.toLowerCase() : undefined);

const header = obj({ name: headerName, value: str({ min: 1, max: 4096 }) }, { required: ['name', 'value'] });
const headerFilter = obj({
  set: arr(header, { max: 16, uniqueBy: byName, uniqueWhat: 'header name' }),
  add: arr(header, { max: 16, uniqueBy: byName, uniqueWhat: 'header name' }),
  remove: arr(headerName, { max: 16, uniqueBy: (x) => (typeof x === 'string' ? x.toLowerCase() : undefined), uniqueWhat: 'header name' }),
});

const pathModifier = obj(
  {
    type: str({ enum: ['ReplaceFullPath', 'ReplacePrefixMatch'] }),
    replaceFullPath: str({ max: 1024 }),
    replacePrefixMatch: str({ max: 1024 }),
  },
  {
    required: ['type'],
    check: (v, report) => {
      if (v.type === 'ReplaceFullPath' && v.replaceFullPath === undefined)
        report('replaceFullPath', "replaceFullPath must be specified when type is set to 'ReplaceFullPath'");
      if (v.replaceFullPath !== undefined && v.type !== 'ReplaceFullPath')
        report('type', "type must be 'ReplaceFullPath' when replaceFullPath is set");
      if (v.type === 'ReplacePrefixMatch' && v.replacePrefixMatch === undefined)
        report('replacePrefixMatch', "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'");
      if (v.replacePrefixMatch !== undefined && v.type !== 'ReplacePrefixMatch')
        report('type', "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set");
    },
  },
);

const requestMirror = obj(
  {
    backendRef: backendObjectReference,
    percent: int({ min: 0, max: 100 }),
    fraction: obj(
      { numerator: int({ min: 0 }), denominator: withDefault(int({ min: 1 }), 100) },
      {
        required: ['numerator'],
        check: (v, report) => {
          const d = typeof v.denominator === 'number' ? v.denominator : 100;
          if (typeof v.numerator === 'number' && v.numerator > d)
            report('numerator', `numerator must be less than or equal to denominator (${v.numerator} > ${d})`);
        },
      },
    ),
  },
  {
    required: ['backendRef'],
    check: (v, report) => {
      if (v.percent !== undefined && v.fraction !== undefined)
        report('', 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter');
    },
  },
);

const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', '*'];
const ORIGIN = /^(\*|[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(\*\.)?[a-zA-Z0-9.-]+(:[0-9]{1,5})?)$/;
const starAlone = (what: string) => (v: unknown[], report: Report) => {
  if (v.includes('*') && v.length > 1) report('', `${what} cannot contain '*' alongside other values`);
};
const corsFilter = obj({
  allowOrigins: arr(str({ min: 1, max: 253, pattern: ORIGIN, describe: "an origin 'scheme://host[:port]' (host may start with '*.') or '*'" }), {
    max: 64,
    uniqueBy: (x) => (typeof x === 'string' ? x : undefined),
    uniqueWhat: 'origin',
    check: starAlone('AllowOrigins'),
  }),
  allowCredentials: bool(),
  allowMethods: arr(str({ enum: CORS_METHODS }), { max: 9, uniqueBy: (x) => (typeof x === 'string' ? x : undefined), uniqueWhat: 'method', check: starAlone('AllowMethods') }),
  allowHeaders: arr(headerName, { max: 64, uniqueBy: (x) => (typeof x === 'string' ? x.toLowerCase() : undefined), uniqueWhat: 'header', check: starAlone('AllowHeaders') }),
  exposeHeaders: arr(headerName, { max: 64, uniqueBy: (x) => (typeof x === 'string' ? x.toLowerCase() : undefined), uniqueWhat: 'header', check: starAlone('ExposeHeaders') }),
  maxAge: withDefault(int({ min: 1 }), 5),
});

/** Filter field per type: CEL says a filter's type needs its own field and no other. */
const HTTP_FILTER_FIELD: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
  ExtensionRef: 'extensionRef',
};
const GRPC_FILTER_FIELD: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
};

function filterFieldCheck(table: Record<string, string>) {
  return (v: Record<string, unknown>, report: Report) => {
    const own = typeof v.type === 'string' ? table[v.type] : undefined;
    for (const [t, field] of Object.entries(table)) {
      const present = v[field] !== undefined && v[field] !== null;
      if (field === own && !present) report(field, `filter.${field} must be specified for ${t} filter.type`);
      if (field !== own && present) report(field, `filter.${field} must be nil if the filter.type is not ${t}`);
    }
  };
}

const httpFilter = obj(
  {
    type: str({ enum: Object.keys(HTTP_FILTER_FIELD) }),
    requestHeaderModifier: headerFilter,
    responseHeaderModifier: headerFilter,
    requestMirror: requestMirror,
    requestRedirect: obj({
      scheme: str({ enum: ['http', 'https'] }),
      hostname: preciseHostname,
      path: pathModifier,
      port: portNumber,
      statusCode: withDefault(int({ enum: [301, 302, 303, 307, 308] }), 302),
    }),
    urlRewrite: obj({ hostname: preciseHostname, path: pathModifier }),
    cors: corsFilter,
    // Experimental (v1.4) external authorization; its shape is checked loosely.
    externalAuth: any(),
    extensionRef: localObjectReference,
  },
  { required: ['type'], check: filterFieldCheck(HTTP_FILTER_FIELD) },
);

const grpcFilter = obj(
  {
    type: str({ enum: Object.keys(GRPC_FILTER_FIELD) }),
    requestHeaderModifier: headerFilter,
    responseHeaderModifier: headerFilter,
    requestMirror: requestMirror,
    extensionRef: localObjectReference,
  },
  { required: ['type'], check: filterFieldCheck(GRPC_FILTER_FIELD) },
);

function noRepeats(types: string[]) {
  return (fs: unknown[], report: Report) => {
    for (const t of types) {
      const idx = fs.map((f, i) => (isObject(f) && f.type === t ? i : -1)).filter((i) => i >= 0);
      if (idx.length > 1) report(`[${idx[1]}]`, `${t} filter cannot be repeated`);
    }
  };
}

const httpFilters = arr(httpFilter, {
  max: 16,
  check: (fs, report) => {
    const has = (t: string) => fs.some((f) => isObject(f) && f.type === t);
    if (has('RequestRedirect') && has('URLRewrite'))
      report('', 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both');
    noRepeats(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'CORS'])(fs, report);
  },
});
const grpcFilters = arr(grpcFilter, { max: 16, check: noRepeats(['RequestHeaderModifier', 'ResponseHeaderModifier']) });

const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

const pathMatch = obj(
  {
    type: withDefault(str({ enum: ['Exact', 'PathPrefix', 'RegularExpression'] }), 'PathPrefix'),
    value: withDefault(str({ max: 1024 }), '/'),
  },
  {
    check: (v, report) => {
      const type = v.type ?? 'PathPrefix';
      if (typeof v.value !== 'string') return;
      const val = v.value;
      if (type === 'RegularExpression') {
        try {
          new RegExp(val);
        } catch (e) {
          report('value', `is not a valid regular expression: ${(e as Error).message}`);
        }
        return;
      }
      if (type !== 'Exact' && type !== 'PathPrefix') return;
      const bad = (m: string) => report('value', `${m} when type one of ['Exact', 'PathPrefix'] (got '${val}')`);
      if (!val.startsWith('/')) return bad("must be an absolute path and start with '/'");
      if (val.includes('//')) bad("must not contain '//'");
      if (val.includes('/./')) bad("must not contain '/./'");
      if (val.includes('/../')) bad("must not contain '/../'");
      if (val.includes('%2f')) bad("must not contain '%2f'");
      if (val.includes('%2F')) bad("must not contain '%2F'");
      if (val.includes('#')) bad("must not contain '#'");
      if (val.endsWith('/..')) bad("must not end with '/..'");
      if (val.endsWith('/.')) bad("must not end with '/.'");
      if (!PATH_CHARS.test(val)) bad(`must only contain valid characters (matching ${PATH_CHARS.source})`);
    },
  },
);

function regexCheck(v: Record<string, unknown>, report: Report): void {
  if (v.type === 'RegularExpression' && typeof v.value === 'string') {
    try {
      new RegExp(v.value);
    } catch (e) {
      report('value', `is not a valid regular expression: ${(e as Error).message}`);
    }
  }
}

// Experimental channel: printable US-ASCII, single tabs or spaces between (RFC 7230 field-value).
const HEADER_VALUE = /^[!-~]+([\t ]?[!-~]+)*$/;

const httpHeaderMatch = obj(
  {
    type: withDefault(str({ enum: ['Exact', 'RegularExpression'] }), 'Exact'),
    name: headerName,
    value: str({ min: 1, max: 4096, pattern: HEADER_VALUE, describe: 'a header value (printable ASCII, single spaces or tabs between words)' }),
  },
  { required: ['name', 'value'], check: regexCheck },
);
const queryParamMatch = obj(
  {
    type: withDefault(str({ enum: ['Exact', 'RegularExpression'] }), 'Exact'),
    name: str({ min: 1, max: 256, pattern: /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, describe: 'a query parameter name' }),
    value: str({ min: 1, max: 1024 }),
  },
  { required: ['name', 'value'], check: regexCheck },
);

const httpMatch = obj({
  path: withDefault(pathMatch, { type: 'PathPrefix', value: '/' }),
  headers: arr(httpHeaderMatch, { max: 16, uniqueBy: byName, uniqueWhat: 'header name' }),
  // Query parameter names are case-sensitive, unlike header names.
  queryParams: arr(queryParamMatch, { max: 16, uniqueBy: (x) => (isObject(x) && typeof x.name === 'string' ? x.name : undefined), uniqueWhat: 'query parameter name' }),
  method: str({ enum: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] }),
});

const httpBackendRef = obj({ ...backendRefFields, filters: httpFilters }, { required: ['name'], check: checkServicePort });

export const sessionPersistence = obj(
  {
    sessionName: str({ max: 128 }),
    absoluteTimeout: duration,
    idleTimeout: duration,
    type: withDefault(str({ enum: ['Cookie', 'Header'] }), 'Cookie'),
    cookieConfig: obj({ lifetimeType: withDefault(str({ enum: ['Permanent', 'Session'] }), 'Session') }),
  },
  {
    check: (v, report) => {
      if (isObject(v.cookieConfig) && v.cookieConfig.lifetimeType === 'Permanent' && v.absoluteTimeout === undefined)
        report('absoluteTimeout', 'AbsoluteTimeout must be specified when cookie lifetimeType is Permanent');
      if (v.type === 'Header' && v.cookieConfig !== undefined) report('cookieConfig', 'cookieConfig can only be set with type Cookie');
    },
  },
);

/** CEL: ReplacePrefixMatch (redirect or rewrite) needs exactly one match, of type PathPrefix. */
function prefixRewriteCheck(filters: unknown, matches: unknown, where: string, report: Report, at: string): void {
  if (!Array.isArray(filters)) return;
  const ms = Array.isArray(matches) ? matches : [{ path: { type: 'PathPrefix', value: '/' } }];
  const onePrefix =
    ms.length === 1 &&
    isObject(ms[0]) &&
    (ms[0].path === undefined || (isObject(ms[0].path) && (ms[0].path.type ?? 'PathPrefix') === 'PathPrefix'));
  filters.forEach((f, i) => {
    if (!isObject(f)) return;
    for (const [field, name] of [
      ['requestRedirect', 'RequestRedirect'],
      ['urlRewrite', 'URLRewrite'],
    ] as const) {
      const mod = f[field];
      if (!isObject(mod) || !isObject(mod.path) || mod.path.type !== 'ReplacePrefixMatch') continue;
      if (!onePrefix)
        report(
          `${at}[${i}].${field}.path`,
          `${where}When using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified (the rule has ${ms.length} match${ms.length === 1 ? '' : 'es'}${ms.length === 1 ? ' of another type' : ''})`,
        );
    }
  });
}

const httpRule = obj(
  {
    name: sectionName,
    matches: withDefault(arr(httpMatch, { max: 64 }), [{ path: { type: 'PathPrefix', value: '/' } }]),
    filters: httpFilters,
    backendRefs: arr(httpBackendRef, { max: 16 }),
    timeouts: obj(
      { request: duration, backendRequest: duration },
      {
        check: (v, report) => {
          if (typeof v.request !== 'string' || typeof v.backendRequest !== 'string') return;
          const r = durationMs(v.request);
          if (r !== 0 && durationMs(v.backendRequest) > r)
            report('backendRequest', `backendRequest timeout cannot be longer than request timeout (${v.backendRequest} > ${v.request})`);
        },
      },
    ),
    retry: obj({
      codes: arr(int({ min: 400, max: 599 })),
      attempts: int({ min: 0 }),
      backoff: duration,
    }),
    sessionPersistence,
  },
  {
    check: (v, report) => {
      const hasBackends = Array.isArray(v.backendRefs) && v.backendRefs.length > 0;
      if (hasBackends && Array.isArray(v.filters) && v.filters.some((f) => isObject(f) && f.type === 'RequestRedirect'))
        report('filters', 'RequestRedirect filter must not be used together with backendRefs (a redirect answers the client itself; remove one)');
      prefixRewriteCheck(v.filters, v.matches, '', report, 'filters');
      if (Array.isArray(v.backendRefs))
        v.backendRefs.forEach((b, i) => {
          if (isObject(b)) prefixRewriteCheck(b.filters, v.matches, 'Within backendRefs, ', report, `backendRefs[${i}].filters`);
        });
    },
  },
);

export const httpRouteSpec = obj({
  parentRefs,
  hostnames: arr(hostname, { max: 16 }),
  rules: withDefault(
    arr(httpRule, {
      min: 1,
      max: 16,
      check: (rules, report) => {
        uniqueRuleNames(rules, report);
        const total = rules.reduce<number>((n, r) => n + (isObject(r) && Array.isArray(r.matches) ? r.matches.length : 1), 0);
        if (total > 128)
          report('', `While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128 (has ${total})`);
      },
    }),
    [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }],
  ),
});

// ------------------------------------------------------------------ GRPCRoute

const GRPC_SERVICE = /^(?:\.?[a-zA-Z_][a-zA-Z_0-9]*)(?:\.[a-zA-Z_][a-zA-Z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

const grpcMethodMatch = obj(
  {
    type: withDefault(str({ enum: ['Exact', 'RegularExpression'] }), 'Exact'),
    service: str({ max: 1024 }),
    method: str({ max: 1024 }),
  },
  {
    check: (v, report) => {
      if (v.service === undefined && v.method === undefined) report('', "One or both of 'service' or 'method' must be specified");
      const type = v.type ?? 'Exact';
      for (const [field, re] of [
        ['service', GRPC_SERVICE],
        ['method', GRPC_METHOD],
      ] as const) {
        const s = v[field];
        if (typeof s !== 'string') continue;
        if (type === 'Exact' && !re.test(s)) report(field, `${field} must only contain valid characters (matching ${re.source})`);
        if (type === 'RegularExpression') {
          try {
            new RegExp(s);
          } catch (e) {
            report(field, `is not a valid regular expression: ${(e as Error).message}`);
          }
        }
      }
    },
  },
);

const grpcHeaderMatch = obj(
  { type: withDefault(str({ enum: ['Exact', 'RegularExpression'] }), 'Exact'), name: headerName, value: str({ min: 1, max: 4096 }) },
  { required: ['name', 'value'], check: regexCheck },
);

const grpcRule = obj({
  name: sectionName,
  matches: arr(obj({ method: grpcMethodMatch, headers: arr(grpcHeaderMatch, { max: 16, uniqueBy: byName, uniqueWhat: 'header name' }) }), { max: 8 }),
  filters: grpcFilters,
  backendRefs: arr(obj({ ...backendRefFields, filters: grpcFilters }, { required: ['name'], check: checkServicePort }), { max: 16 }),
  sessionPersistence,
});

export const grpcRouteSpec = obj({
  parentRefs,
  hostnames: arr(hostname, { max: 16 }),
  rules: arr(grpcRule, {
    max: 16,
    check: (rules, report) => {
      uniqueRuleNames(rules, report);
      const total = rules.reduce<number>((n, r) => n + (isObject(r) && Array.isArray(r.matches) ? r.matches.length : 1), 0);
      if (total > 128) report('', `the total number of matches across all rules in a route must be less than 128 (has ${total})`);
    },
  }),
});

// ------------------------------------------------------------------ TLS/TCP/UDP routes

const l4Rule = obj(
  {
    name: sectionName,
    backendRefs: arr(obj(backendRefFields, { required: ['name'], check: checkServicePort }), { min: 1, max: 16 }),
  },
  { required: ['backendRefs'] },
);
const l4Rules = (max: number): Schema => arr(l4Rule, { min: 1, max, check: uniqueRuleNames });

export const tlsRouteSpec = obj({ parentRefs, hostnames: arr(hostname, { max: 16 }), rules: l4Rules(16) }, { required: ['rules'] });
/** v1alpha3 and later: at least one SNI hostname is required. */
export const tlsRouteSpecV3 = obj({ parentRefs, hostnames: arr(hostname, { min: 1, max: 16 }), rules: l4Rules(16) }, { required: ['hostnames', 'rules'] });
export const tcpRouteSpec = obj({ parentRefs, rules: l4Rules(16) }, { required: ['rules'] });
export const udpRouteSpec = tcpRouteSpec;
