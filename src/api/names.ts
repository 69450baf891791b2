// Well-known names: API groups, kinds, the default controllerName.

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const CORE_GROUP = '';
/** The Experimental channel's own API group (XBackendTrafficPolicy, XMesh, ...). */
export const GATEWAY_X_GROUP = 'gateway.networking.x-k8s.io';
export const DEFAULT_CONTROLLER_NAME = 'portico.dev/gateway-controller';
/** The IngressClass spec.controller whose Ingresses Portico serves (convert/serve.ts). */
export const DEFAULT_INGRESS_CONTROLLER = 'portico.dev/ingress-controller';
/** Label on the objects convert/serve.ts generates from Ingresses; they lose every age tie (translate/context.ts compareAge). */
export const INGRESS_GENERATED_LABEL = 'portico.dev/generated-from-ingress';

export const Kind = {
  GatewayClass: 'GatewayClass',
  Gateway: 'Gateway',
  /** Additional listeners for a Gateway that allows them (spec.allowedListeners); Standard channel since v1.5. */
  ListenerSet: 'ListenerSet',
  HTTPRoute: 'HTTPRoute',
  GRPCRoute: 'GRPCRoute',
  TLSRoute: 'TLSRoute',
  TCPRoute: 'TCPRoute',
  UDPRoute: 'UDPRoute',
  ReferenceGrant: 'ReferenceGrant',
  BackendTLSPolicy: 'BackendTLSPolicy',
  /** Experimental (gateway.networking.x-k8s.io): session persistence and retry budget per backend. */
  XBackendTrafficPolicy: 'XBackendTrafficPolicy',
  /** Its predecessor, read while the installed CRDs still serve it (sessionPersistence only). */
  BackendLBPolicy: 'BackendLBPolicy',
  Service: 'Service',
  EndpointSlice: 'EndpointSlice',
  Secret: 'Secret',
  ConfigMap: 'ConfigMap',
  Namespace: 'Namespace',
  /** networking.k8s.io/v1: served directly when their IngressClass's spec.controller is Portico's (convert/serve.ts). */
  Ingress: 'Ingress',
  IngressClass: 'IngressClass',
  /** gateway.portico.dev GatewayParameters: read by the controller only with provisioned data planes. */
  GatewayParameters: 'GatewayParameters',
} as const;
export type KindName = (typeof Kind)[keyof typeof Kind];

export const ROUTE_KINDS = [Kind.HTTPRoute, Kind.GRPCRoute, Kind.TLSRoute, Kind.TCPRoute, Kind.UDPRoute] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

/** Kinds Portico reads, in the order a reader expects them listed (GatewayParameters aside: only provisioned data planes need them). */
export const ALL_KINDS: readonly KindName[] = Object.values(Kind).filter((k) => k !== Kind.GatewayParameters);

/** The API group each kind lives in ('' is the core group). */
export const GROUP_OF: Record<KindName, string> = {
  GatewayClass: GATEWAY_GROUP,
  Gateway: GATEWAY_GROUP,
  ListenerSet: GATEWAY_GROUP,
  HTTPRoute: GATEWAY_GROUP,
  GRPCRoute: GATEWAY_GROUP,
  TLSRoute: GATEWAY_GROUP,
  TCPRoute: GATEWAY_GROUP,
  UDPRoute: GATEWAY_GROUP,
  ReferenceGrant: GATEWAY_GROUP,
  BackendTLSPolicy: GATEWAY_GROUP,
  XBackendTrafficPolicy: GATEWAY_X_GROUP,
  BackendLBPolicy: GATEWAY_GROUP,
  Service: CORE_GROUP,
  EndpointSlice: 'discovery.k8s.io',
  Secret: CORE_GROUP,
  ConfigMap: CORE_GROUP,
  Namespace: CORE_GROUP,
  Ingress: 'networking.k8s.io',
  IngressClass: 'networking.k8s.io',
  GatewayParameters: 'gateway.portico.dev',
};

/** Cluster-scoped kinds; every other kind is namespaced. */
export const CLUSTER_SCOPED: ReadonlySet<string> = new Set([Kind.GatewayClass, Kind.Namespace, Kind.IngressClass]);
