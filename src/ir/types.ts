// The IR: the data-plane-neutral model the translator emits and the engine serves.
// Plain JSON-serialisable data (no Maps, no functions, no Dates), deterministic order,
// so it can be golden-tested, diffed and dumped by the admin API.
//
// Shape: IR.ports[] are sockets the data plane opens. Each port holds the Gateway API
// listeners that share it (listener isolation: a request is handled by the most specific
// listener whose hostname matches its SNI/Host). An HTTP-ish listener carries virtual
// hosts (one per effective hostname, most specific first) with precedence-ordered routes.
// Backends point by name into IR.clusters.

export interface IR {
  ports: Port[]; // sorted by address, port, protocol
  clusters: Record<string, Cluster>; // keyed by Cluster.name, keys sorted
}

export type PortProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

export interface Port {
  /** `${address}:${port}/${protocol}`; stable identity of the socket across applies. */
  name: string;
  address: string; // bind address: '0.0.0.0', '::', or an explicit IP (Gateway spec.addresses)
  port: number;
  protocol: PortProtocol;
  /** Gateway listeners sharing this socket, most specific hostname first (exact > longer wildcard > no hostname). */
  listeners: Listener[];
}

export interface Listener {
  /** `${gatewayNamespace}/${gatewayName}/${listenerName}` */
  name: string;
  /** The listener's hostname ("foo.example.com", "*.example.com"); absent = matches every host. */
  hostname?: string;
  protocol: 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';
  /** HTTPS, and TLS with mode Terminate: certificates to serve, chosen by SNI. */
  tls?: ListenerTLS;
  /** HTTP/HTTPS (HTTPRoute + GRPCRoute): most specific hostname first. */
  virtualHosts?: VirtualHost[];
  /** TLS listeners (Passthrough, or Terminate then plain TCP to the backend): by SNI, most specific first. */
  tlsRoutes?: TLSRouteEntry[];
  /** TCP/UDP listeners: the one route carrying the port (extra routes are rejected by the translator). */
  l4Route?: L4RouteEntry;
}

export interface ListenerTLS {
  mode: 'Terminate' | 'Passthrough';
  /** PEM material from kubernetes.io/tls Secrets, in certificateRefs order (first is the default). */
  certificates: Certificate[];
  /**
   * Added by H10 (optional): client certificate validation from the Gateway's spec.tls.frontend
   * (the perPort entry for this listener's port, else default). Absent = no client certificate asked.
   */
  clientValidation?: ClientValidation;
}

export interface ClientValidation {
  /** PEM bundle from the caCertificateRefs ConfigMaps (key ca.crt) that resolved. */
  caPem: string;
  /** AllowValidOnly: no valid client certificate, no connection. AllowInsecureFallback: asked, never required. */
  mode: 'AllowValidOnly' | 'AllowInsecureFallback';
}

export interface Certificate {
  /** `${namespace}/${name}` of the Secret. */
  secret: string;
  certPem: string;
  /**
   * Private key. Sealed by the translator (ir/keys.ts sealKey: non-enumerable, so JSON, YAML,
   * logs and clones leave it out); only the engine's transport carries it (encodeForEngine).
   * People see the certificate's fingerprint instead (ir/redact.ts).
   */
  keyPem: string;
  /** DNS names the certificate covers (from SAN, else CN); the engine picks by SNI: exact, then wildcard, then first. */
  dnsNames: string[];
}

export interface VirtualHost {
  /** Effective hostname: exact ("foo.example.com"), wildcard ("*.example.com") or "*" (any). */
  hostname: string;
  /** Ordered by the spec's precedence; the first whose match succeeds handles the request. */
  routes: HTTPRouteEntry[];
}

/** Which object a route entry came from, for logs, metrics and the dashboard. */
export interface RouteSource {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  namespace: string;
  name: string;
  rule: number; // index in spec.rules
  match?: number; // index in rule.matches
}

export type StringMatch = { type: 'Exact' | 'RegularExpression'; value: string };

export interface HTTPMatch {
  /** Absent = any path. For GRPCRoute the translator emits the equivalent /service/method path match. */
  path?: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  /** Header names lower-cased. All must match. */
  headers?: ({ name: string } & StringMatch)[];
  queryParams?: ({ name: string } & StringMatch)[];
  method?: string;
}

/** Header names are lower-cased by the translator. */
export interface HeaderModifier {
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
}

export interface PathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

export type HTTPFilter =
  | { type: 'RequestHeaderModifier'; modifier: HeaderModifier }
  | { type: 'ResponseHeaderModifier'; modifier: HeaderModifier }
  | {
      type: 'RequestRedirect';
      scheme?: 'http' | 'https';
      hostname?: string;
      port?: number;
      path?: PathModifier;
      statusCode: number;
    }
  | { type: 'URLRewrite'; hostname?: string; path?: PathModifier }
  | {
      type: 'RequestMirror';
      backend: BackendTarget;
      /** Share of requests mirrored, 0..1 (percent/100 or numerator/denominator); 1 when unset. */
      fraction: number;
    }
  | {
      type: 'CORS';
      allowOrigins: string[];
      allowCredentials: boolean;
      allowMethods: string[];
      allowHeaders: string[];
      exposeHeaders: string[];
      maxAge: number; // seconds
    };

/** A reference to a cluster; `invalid` backends keep their weight and answer 500 (spec: partial acceptance). */
export interface BackendTarget {
  /** Key into IR.clusters; absent when invalid. */
  cluster?: string;
  invalid?: { status: 500; reason: string };
}

export interface WeightedBackend extends BackendTarget {
  weight: number; // 0 is honoured: never picked
  /** backendRef-level filters (HTTPRoute backendRefs[].filters), applied after the rule's. */
  filters?: HTTPFilter[];
}

export interface HTTPRouteEntry {
  source: RouteSource;
  match: HTTPMatch;
  filters: HTTPFilter[];
  /** Empty with no redirect filter means the rule has no backendRefs: 500 per spec. */
  backends: WeightedBackend[];
  timeouts?: { requestMs?: number; backendRequestMs?: number };
  /**
   * HTTPRoute rule `retry` (added by H9): a response whose status is in `codes` (or a failed
   * upstream connection) is retried up to `attempts` more times, `backoffMs` apart. Only requests
   * without a body are retried (their bytes were never streamed, so they can be sent again).
   */
  retry?: { codes: number[]; attempts: number; backoffMs: number };
  /** GRPCRoute entries: answer no-match / errors with gRPC status codes instead of HTTP bodies. */
  grpc?: boolean;
  /** Session persistence (HTTPRoute rule, or an XBackendTrafficPolicy/BackendLBPolicy of its backend). */
  session?: SessionPersistence;
}

/**
 * A session sticks to one endpoint: the cookie or header carries the backend cluster and the
 * endpoint, with issue and last-use times, encrypted with AES-256-GCM under a key HKDF derives
 * from `sessionKey` (dataplane/upstream/session.ts). `sessionKey` is derived by the translator
 * from a seed every data plane of a controller shares, so any worker or replica opens a token
 * another one minted.
 */
export interface SessionPersistence {
  type: 'Cookie' | 'Header';
  /** Cookie or header name (sessionName, or a name derived from the route rule). */
  name: string;
  /** absoluteTimeout in ms; 0 = none. */
  absoluteTimeoutMs: number;
  /** idleTimeout in ms; 0 = none. */
  idleTimeoutMs: number;
  /** cookieConfig.lifetimeType Permanent: the cookie gets Max-Age = absoluteTimeout. */
  permanent: boolean;
  /** Cookie Path attribute: the entry's path match (Exact or PathPrefix), else "/". */
  cookiePath: string;
  /** What configured it, for people reading the IR: "HTTPRoute rule" or the policy's kind/namespace/name. */
  from: string;
  /** The rule's session key, hex; the token's AES key derives from it. Sealed like Certificate.keyPem (ir/keys.ts): never printed or served. */
  sessionKey: string;
}

export interface TLSRouteEntry {
  source: RouteSource;
  /** Effective SNI hostnames (listener ∩ route); "*" = any SNI. */
  hostnames: string[];
  backends: WeightedBackend[];
}

export interface L4RouteEntry {
  source: RouteSource;
  backends: WeightedBackend[];
}

export type ClusterProtocol = 'http1' | 'h2c' | 'h2' | 'ws' | 'tcp' | 'udp';

export interface Endpoint {
  address: string; // IP, or a DNS name for ExternalName Services
  port: number;
}

export interface Cluster {
  /** `${namespace}/${service}:${port}` (plus `/tls` when a BackendTLSPolicy applies). */
  name: string;
  /**
   * From Service.ports[].appProtocol: kubernetes.io/h2c -> h2c, kubernetes.io/ws(s) -> ws, else http1 (tcp/udp for L4
   * routes). Only ws clusters receive WebSocket upgrades; HTTP Upgrade to any other cluster is stripped.
   */
  protocol: ClusterProtocol;
  /** Ready endpoints only; empty means 503 (HTTP) or a closed connection (L4). Sorted. */
  endpoints: Endpoint[];
  /** Present when a BackendTLSPolicy targets the Service (and port/sectionName). */
  tls?: UpstreamTLS;
  /**
   * XBackendTrafficPolicy retryConstraint: a retry is sent only while retries are under `percent`
   * of the requests of the last `intervalMs`, or under `minRetries` in the last `minIntervalMs`;
   * past that the retry is not sent and the client gets a 503 (dataplane/upstream/retry-budget.ts).
   */
  retryBudget?: RetryBudget;
  /** What set retryBudget, for people reading the IR: the policy's kind namespace/name. */
  retryBudgetFrom?: string;
}

export interface RetryBudget {
  percent: number;
  intervalMs: number;
  minRetries: number;
  minIntervalMs: number;
}

export interface UpstreamTLS {
  /** SNI and the name the certificate must carry (BackendTLSPolicy validation.hostname). */
  sni: string;
  /** PEM bundle from caCertificateRefs ConfigMaps (key ca.crt); absent when wellKnownCACertificates: System. */
  caPem?: string;
  useSystemCAs: boolean;
  /** When non-empty the certificate must carry one of these instead of `sni` (spec: subjectAltNames). */
  subjectAltNames: { type: 'Hostname' | 'URI'; value: string }[];
  /**
   * Added by H10 (optional): client certificate presented to the backend, from the Gateway's
   * spec.tls.backend.clientCertificateRef (one cluster per Gateway when Gateways differ).
   */
  clientCertificate?: { secret: string; certPem: string; /** sealed, as Certificate.keyPem */ keyPem: string };
}
