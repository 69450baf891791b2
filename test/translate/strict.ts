// Strict input parsing for golden cases: every field must be one the Gateway API / core
// schema defines (a typo in a test input would otherwise silently test nothing).

type S = 'string' | 'number' | 'boolean' | 'any' | { [field: string]: S } | [S] | { $map: S };

const str = 'string' as const;
const num = 'number' as const;
const bool = 'boolean' as const;
const any = 'any' as const;

const meta: S = {
  name: str, namespace: str, uid: str, generation: num, resourceVersion: str, creationTimestamp: str,
  labels: { $map: str }, annotations: { $map: str },
};
const parentRef: S = { group: str, kind: str, namespace: str, name: str, sectionName: str, port: num };
const backendRef: S = { group: str, kind: str, name: str, namespace: str, port: num, weight: num };
const header: S = { name: str, value: str };
const headerFilter: S = { set: [header], add: [header], remove: [str] };
const pathMod: S = { type: str, replaceFullPath: str, replacePrefixMatch: str };
const mirror: S = { backendRef, percent: num, fraction: { numerator: num, denominator: num } };
const localRef: S = { group: str, kind: str, name: str };
const httpFilter: S = {
  type: str,
  requestHeaderModifier: headerFilter,
  responseHeaderModifier: headerFilter,
  requestMirror: mirror,
  requestRedirect: { scheme: str, hostname: str, path: pathMod, port: num, statusCode: num },
  urlRewrite: { hostname: str, path: pathMod },
  cors: { allowOrigins: [str], allowCredentials: bool, allowMethods: [str], allowHeaders: [str], exposeHeaders: [str], maxAge: num },
  extensionRef: localRef,
};
const strMatch: S = { type: str, name: str, value: str };
const sessionPersistence: S = { sessionName: str, absoluteTimeout: str, idleTimeout: str, type: str, cookieConfig: { lifetimeType: str } };
const routeStatus: S = { parents: [{ parentRef, controllerName: str, conditions: [any] }] };
const l4Spec: S = { parentRefs: [parentRef], hostnames: [str], rules: [{ name: str, backendRefs: [backendRef] }] };
const selector: S = { matchLabels: { $map: str }, matchExpressions: [{ key: str, operator: str, values: [str] }] };

const listener: S = {
  name: str, hostname: str, port: num, protocol: str,
  tls: { mode: str, certificateRefs: [{ group: str, kind: str, name: str, namespace: str }], options: { $map: str } },
  allowedRoutes: { namespaces: { from: str, selector }, kinds: [{ group: str, kind: str }] },
};

const SCHEMAS: Record<string, S> = {
  Namespace: { apiVersion: str, kind: str, metadata: meta },
  GatewayClass: {
    apiVersion: str, kind: str, metadata: meta,
    spec: { controllerName: str, description: str, parametersRef: { group: str, kind: str, name: str, namespace: str } },
  },
  Gateway: {
    apiVersion: str, kind: str, metadata: meta,
    spec: {
      gatewayClassName: str,
      addresses: [{ type: str, value: str }],
      infrastructure: { labels: { $map: str }, annotations: { $map: str }, parametersRef: localRef },
      tls: {
        backend: { clientCertificateRef: { group: str, kind: str, name: str, namespace: str } },
        frontend: {
          default: { validation: { mode: str, caCertificateRefs: [{ group: str, kind: str, name: str, namespace: str }] } },
          perPort: [{ port: num, tls: { validation: { mode: str, caCertificateRefs: [{ group: str, kind: str, name: str, namespace: str }] } } }],
        },
      },
      listeners: [listener],
      allowedListeners: { namespaces: { from: str, selector } },
    },
  },
  ListenerSet: {
    apiVersion: str, kind: str, metadata: meta,
    spec: { parentRef: { group: str, kind: str, name: str, namespace: str }, listeners: [listener] },
  },
  HTTPRoute: {
    apiVersion: str, kind: str, metadata: meta, status: routeStatus,
    spec: {
      parentRefs: [parentRef], hostnames: [str],
      rules: [{
        name: str,
        matches: [{ path: { type: str, value: str }, headers: [strMatch], queryParams: [strMatch], method: str }],
        filters: [httpFilter],
        backendRefs: [{ ...(backendRef as object), filters: [httpFilter] } as S],
        timeouts: { request: str, backendRequest: str },
        retry: { codes: [num], attempts: num, backoff: str },
        sessionPersistence,
      }],
    },
  },
  XBackendTrafficPolicy: {
    apiVersion: str, kind: str, metadata: meta, status: any,
    spec: {
      targetRefs: [{ group: str, kind: str, name: str }],
      sessionPersistence,
      retryConstraint: { budget: { percent: num, interval: str }, minRetryRate: { count: num, interval: str } },
    },
  },
  BackendLBPolicy: {
    apiVersion: str, kind: str, metadata: meta, status: any,
    spec: { targetRefs: [{ group: str, kind: str, name: str }], sessionPersistence },
  },
  GRPCRoute: {
    apiVersion: str, kind: str, metadata: meta, status: routeStatus,
    spec: {
      parentRefs: [parentRef], hostnames: [str],
      rules: [{
        name: str,
        matches: [{ method: { type: str, service: str, method: str }, headers: [strMatch] }],
        filters: [httpFilter],
        backendRefs: [{ ...(backendRef as object), filters: [httpFilter] } as S],
        sessionPersistence,
      }],
    },
  },
  TLSRoute: { apiVersion: str, kind: str, metadata: meta, spec: l4Spec },
  TCPRoute: { apiVersion: str, kind: str, metadata: meta, spec: l4Spec },
  UDPRoute: { apiVersion: str, kind: str, metadata: meta, spec: l4Spec },
  ReferenceGrant: {
    apiVersion: str, kind: str, metadata: meta,
    spec: { from: [{ group: str, kind: str, namespace: str }], to: [{ group: str, kind: str, name: str }] },
  },
  BackendTLSPolicy: {
    apiVersion: str, kind: str, metadata: meta,
    spec: {
      targetRefs: [{ group: str, kind: str, name: str, sectionName: str }],
      validation: {
        caCertificateRefs: [localRef], wellKnownCACertificates: str, hostname: str,
        subjectAltNames: [{ type: str, hostname: str, uri: str }],
      },
      options: { $map: str },
    },
  },
  Service: {
    apiVersion: str, kind: str, metadata: meta,
    spec: {
      type: str, clusterIP: str, externalName: str, selector: { $map: str },
      ports: [{ name: str, protocol: str, port: num, targetPort: any, appProtocol: str }],
    },
  },
  EndpointSlice: {
    apiVersion: str, kind: str, metadata: meta, addressType: str,
    endpoints: [{
      addresses: [str], hostname: str,
      conditions: { ready: bool, serving: bool, terminating: bool },
      targetRef: { kind: str, name: str, namespace: str },
    }],
    ports: [{ name: str, port: num, protocol: str, appProtocol: str }],
  },
  Secret: { apiVersion: str, kind: str, metadata: meta, type: str, data: { $map: str }, stringData: { $map: str } },
  ConfigMap: { apiVersion: str, kind: str, metadata: meta, data: { $map: str } },
};

function check(value: unknown, schema: S, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  if (schema === 'any') return;
  if (typeof schema === 'string') {
    if (typeof value !== schema) errors.push(`${path}: expected ${schema}, got ${typeof value}`);
    return;
  }
  if (Array.isArray(schema)) {
    if (!Array.isArray(value)) errors.push(`${path}: expected a list`);
    else value.forEach((v, i) => check(v, schema[0], `${path}[${i}]`, errors));
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push(`${path}: expected an object`);
    return;
  }
  if ('$map' in schema) {
    for (const [k, v] of Object.entries(value)) check(v, schema.$map as S, `${path}.${k}`, errors);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const sub = (schema as Record<string, S>)[k];
    if (sub === undefined) errors.push(`${path}.${k}: unknown field`);
    else check(v, sub, `${path}.${k}`, errors);
  }
}

/** Errors for one parsed document; empty when every field is known and well-typed. */
export function strictErrors(doc: unknown, where: string): string[] {
  const errors: string[] = [];
  if (!doc || typeof doc !== 'object') return [`${where}: not an object`];
  const kind = (doc as { kind?: unknown }).kind;
  const schema = typeof kind === 'string' ? SCHEMAS[kind] : undefined;
  if (!schema) return [`${where}: unknown kind ${String(kind)}`];
  check(doc, schema, `${where} ${kind}`, errors);
  return errors;
}
