// Gateway API (v1.x, standard + experimental channel fields) and the core Kubernetes types
// Portico reads. Field names are the spec's own; optional exactly where the CRD says so.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any object with apiVersion/kind/metadata; the common shape every source yields. */
export interface Resource<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

// ---------------------------------------------------------------- references

export interface ParentReference {
  group?: string; // default gateway.networking.k8s.io
  kind?: string; // default Gateway
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface BackendRef {
  group?: string; // default "" (core)
  kind?: string; // default Service
  name: string;
  namespace?: string;
  port?: number;
  weight?: number; // default 1
}

export interface SecretObjectReference {
  group?: string;
  kind?: string; // default Secret
  name: string;
  namespace?: string;
}

export interface LocalObjectReference {
  group: string;
  kind: string;
  name: string;
}

// ---------------------------------------------------------------- GatewayClass

export interface GatewayClassSpec {
  controllerName: string;
  parametersRef?: { group: string; kind: string; name: string; namespace?: string };
  description?: string;
}
export interface GatewayClassStatus {
  conditions?: Condition[];
  supportedFeatures?: { name: string }[];
}
export type GatewayClass = Resource<GatewayClassSpec, GatewayClassStatus>;

// ---------------------------------------------------------------- Gateway

export type ProtocolType = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP' | string;

export interface GatewayTLSConfig {
  mode?: 'Terminate' | 'Passthrough'; // default Terminate
  certificateRefs?: SecretObjectReference[];
  options?: Record<string, string>;
  frontendValidation?: unknown;
}

export interface RouteGroupKind {
  group?: string;
  kind: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface AllowedRoutes {
  namespaces?: { from?: 'All' | 'Same' | 'Selector' | 'None'; selector?: LabelSelector };
  kinds?: RouteGroupKind[];
}

export interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol: ProtocolType;
  tls?: GatewayTLSConfig;
  allowedRoutes?: AllowedRoutes;
}

/** Gateway spec.allowedListeners: which namespaces' ListenerSets may attach (default None). */
export interface AllowedListeners {
  namespaces?: { from?: 'All' | 'Same' | 'Selector' | 'None'; selector?: LabelSelector };
}

/** ListenerSet spec: listeners merged into the parent Gateway's (parentRef kind Gateway). */
export interface ListenerSetSpec {
  parentRef: { group?: string; kind?: string; name: string; namespace?: string };
  listeners: Listener[];
}

export type ListenerSet = Resource<ListenerSetSpec>;

export interface GatewayAddress {
  type?: 'IPAddress' | 'Hostname' | 'NamedAddress' | string;
  value: string;
}

export interface GatewaySpec {
  gatewayClassName: string;
  listeners: Listener[];
  addresses?: GatewayAddress[];
  infrastructure?: { labels?: Record<string, string>; annotations?: Record<string, string>; parametersRef?: unknown };
  backendTLS?: unknown;
  allowedListeners?: AllowedListeners;
  /** Added by H10 (optional, experimental in v1.4+): client certificate validation and the backend client certificate. */
  tls?: GatewaySpecTLS;
}

/** spec.tls.frontend.*.validation */
export interface FrontendTLSValidation {
  caCertificateRefs?: ObjectReference[];
  mode?: 'AllowValidOnly' | 'AllowInsecureFallback' | string; // default AllowValidOnly
}

export interface ObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

export interface GatewaySpecTLS {
  backend?: { clientCertificateRef?: SecretObjectReference };
  frontend?: {
    default?: { validation?: FrontendTLSValidation };
    perPort?: { port: number; tls?: { validation?: FrontendTLSValidation } }[];
  };
}

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  addresses?: GatewayAddress[];
  conditions?: Condition[];
  listeners?: ListenerStatus[];
}
export type Gateway = Resource<GatewaySpec, GatewayStatus>;

// ---------------------------------------------------------------- routes (shared)

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}
export interface RouteStatus {
  parents: RouteParentStatus[];
}

export interface CommonRouteSpec {
  parentRefs?: ParentReference[];
}

// ---------------------------------------------------------------- HTTPRoute

export interface HTTPPathMatch {
  type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; // default PathPrefix
  value?: string; // default "/"
}
export interface HTTPHeaderMatch {
  type?: 'Exact' | 'RegularExpression'; // default Exact
  name: string;
  value: string;
}
export interface HTTPQueryParamMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}
export interface HTTPRouteMatch {
  path?: HTTPPathMatch;
  headers?: HTTPHeaderMatch[];
  queryParams?: HTTPQueryParamMatch[];
  method?: string;
}

export interface HTTPHeader {
  name: string;
  value: string;
}
export interface HTTPHeaderFilter {
  set?: HTTPHeader[];
  add?: HTTPHeader[];
  remove?: string[];
}
export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}
export interface HTTPRequestRedirectFilter {
  scheme?: 'http' | 'https';
  hostname?: string;
  path?: HTTPPathModifier;
  port?: number;
  statusCode?: 301 | 302 | 303 | 307 | 308; // default 302
}
export interface HTTPURLRewriteFilter {
  hostname?: string;
  path?: HTTPPathModifier;
}
export interface HTTPRequestMirrorFilter {
  backendRef: BackendRef;
  percent?: number;
  fraction?: { numerator: number; denominator?: number };
}
export interface HTTPCORSFilter {
  allowOrigins?: string[];
  allowCredentials?: boolean;
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
}
export interface HTTPRouteFilter {
  type:
    | 'RequestHeaderModifier'
    | 'ResponseHeaderModifier'
    | 'RequestMirror'
    | 'RequestRedirect'
    | 'URLRewrite'
    | 'CORS'
    | 'ExtensionRef'
    | string;
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestMirror?: HTTPRequestMirrorFilter;
  requestRedirect?: HTTPRequestRedirectFilter;
  urlRewrite?: HTTPURLRewriteFilter;
  cors?: HTTPCORSFilter;
  extensionRef?: LocalObjectReference;
}
export interface HTTPBackendRef extends BackendRef {
  filters?: HTTPRouteFilter[];
}
export interface HTTPRouteTimeouts {
  request?: string; // Gateway API Duration, e.g. "10s", "500ms", "1h"
  backendRequest?: string;
}
export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  timeouts?: HTTPRouteTimeouts;
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
  sessionPersistence?: unknown;
}
export interface HTTPRouteSpec extends CommonRouteSpec {
  hostnames?: string[];
  rules?: HTTPRouteRule[];
}
export type HTTPRoute = Resource<HTTPRouteSpec, RouteStatus>;

// ---------------------------------------------------------------- GRPCRoute

export interface GRPCMethodMatch {
  type?: 'Exact' | 'RegularExpression'; // default Exact
  service?: string;
  method?: string;
}
export interface GRPCHeaderMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}
export interface GRPCRouteMatch {
  method?: GRPCMethodMatch;
  headers?: GRPCHeaderMatch[];
}
export interface GRPCRouteFilter {
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' | 'ExtensionRef' | string;
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestMirror?: HTTPRequestMirrorFilter;
  extensionRef?: LocalObjectReference;
}
export interface GRPCBackendRef extends BackendRef {
  filters?: GRPCRouteFilter[];
}
export interface GRPCRouteRule {
  name?: string;
  matches?: GRPCRouteMatch[];
  filters?: GRPCRouteFilter[];
  backendRefs?: GRPCBackendRef[];
  sessionPersistence?: unknown;
}
export interface GRPCRouteSpec extends CommonRouteSpec {
  hostnames?: string[];
  rules?: GRPCRouteRule[];
}
export type GRPCRoute = Resource<GRPCRouteSpec, RouteStatus>;

// ---------------------------------------------------------------- TLS/TCP/UDP routes

export interface L4RouteRule {
  name?: string;
  backendRefs?: BackendRef[];
}
export interface TLSRouteSpec extends CommonRouteSpec {
  hostnames?: string[];
  rules: L4RouteRule[];
}
export type TLSRoute = Resource<TLSRouteSpec, RouteStatus>;
export interface TCPRouteSpec extends CommonRouteSpec {
  rules: L4RouteRule[];
}
export type TCPRoute = Resource<TCPRouteSpec, RouteStatus>;
export type UDPRoute = Resource<TCPRouteSpec, RouteStatus>;

// ---------------------------------------------------------------- ReferenceGrant

export interface ReferenceGrantSpec {
  from: { group: string; kind: string; namespace: string }[];
  to: { group: string; kind: string; name?: string }[];
}
export type ReferenceGrant = Resource<ReferenceGrantSpec>;

// ---------------------------------------------------------------- BackendTLSPolicy

export interface PolicyTargetReferenceWithSectionName {
  group: string;
  kind: string;
  name: string;
  sectionName?: string;
}
export interface BackendTLSPolicySpec {
  targetRefs: PolicyTargetReferenceWithSectionName[];
  validation: {
    caCertificateRefs?: LocalObjectReference[];
    wellKnownCACertificates?: 'System' | string;
    hostname: string;
    subjectAltNames?: { type: 'Hostname' | 'URI'; hostname?: string; uri?: string }[];
  };
  options?: Record<string, string>;
}
export interface PolicyAncestorStatus {
  ancestorRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}
export interface PolicyStatus {
  ancestors: PolicyAncestorStatus[];
}
export type BackendTLSPolicy = Resource<BackendTLSPolicySpec, PolicyStatus>;

// ---------------------------------------------------------------- XBackendTrafficPolicy, BackendLBPolicy

export interface LocalPolicyTargetReference {
  group: string;
  kind: string;
  name: string;
}
/** gateway.networking.x-k8s.io/v1alpha1 XBackendTrafficPolicy (and the older gateway.networking.k8s.io/v1alpha2 BackendLBPolicy, which has sessionPersistence only). */
export interface BackendTrafficPolicySpec {
  targetRefs: LocalPolicyTargetReference[];
  retryConstraint?: {
    budget?: { percent?: number; interval?: string };
    minRetryRate?: { count?: number; interval?: string };
  };
  sessionPersistence?: unknown;
}
export type XBackendTrafficPolicy = Resource<BackendTrafficPolicySpec, PolicyStatus>;

// ---------------------------------------------------------------- core

export interface ServicePort {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  targetPort?: number | string;
  appProtocol?: string;
}
export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  clusterIP?: string;
  externalName?: string;
  ports?: ServicePort[];
  selector?: Record<string, string>;
}
export type Service = Resource<ServiceSpec>;

export interface EndpointSlice {
  apiVersion: string;
  kind: 'EndpointSlice';
  metadata: ObjectMeta; // labels["kubernetes.io/service-name"] names the Service
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    hostname?: string;
    targetRef?: { kind?: string; name?: string; namespace?: string };
  }[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

export interface Secret {
  apiVersion: string;
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string; // kubernetes.io/tls
  data?: Record<string, string>; // base64
  stringData?: Record<string, string>;
}

export interface ConfigMap {
  apiVersion: string;
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

export type Namespace = Resource<unknown>;
