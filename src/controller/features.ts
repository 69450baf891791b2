// Gateway API features this build of Portico supports, published in GatewayClass
// status.supportedFeatures. The extended features must match conformance/portico.yaml
// (what the conformance run claims); features.test.ts fails when the two drift apart.

/** Core features of the profiles Portico implements (GATEWAY-HTTP, -GRPC, -TLS, -TCP, -UDP). */
export const CORE_FEATURES = ['Gateway', 'GRPCRoute', 'HTTPRoute', 'ReferenceGrant', 'TCPRoute', 'TLSRoute', 'UDPRoute'] as const;

export const EXTENDED_FEATURES = [
  'GatewayPort8080',
  'GatewayStaticAddresses',
  'GatewayAddressEmpty',
  'GatewayFrontendClientCertificateValidation',
  'GatewayFrontendClientCertificateValidationInsecureFallback',
  'GatewayBackendClientCertificate',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteMethodMatching',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRoutePortRedirect',
  'HTTPRouteSchemeRedirect',
  'HTTPRoutePathRedirect',
  'HTTPRouteHostRewrite',
  'HTTPRoutePathRewrite',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteBackendTimeout',
  'HTTPRouteRetry',
  'HTTPRouteRetryBackendTimeout',
  'HTTPRouteRetryConnectionError',
  'HTTPRouteParentRefPort',
  'HTTPRouteDestinationPortMatching',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteCORS',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'GRPCRouteNamedRouteRule',
  'BackendTLSPolicy',
  'BackendTLSPolicySANValidation',
  'TLSRouteModeTerminate',
  'TLSRouteModeMixed',
  'ListenerSet',
] as const;

/**
 * Features only provisioned data planes have (conformance/portico.yaml provisioned.supportedFeatures):
 * GatewayInfrastructure needs generated per-Gateway objects for spec.infrastructure to land on.
 */
export const PROVISIONED_FEATURES = ['GatewayInfrastructure'] as const;

const sorted = (names: readonly string[]): readonly { name: string }[] => [...names].sort().map((name) => ({ name }));

/** Sorted by name, as the spec asks of status.supportedFeatures. */
export const SUPPORTED_FEATURES = sorted([...CORE_FEATURES, ...EXTENDED_FEATURES]);
/** The same with provisioned data planes (`portico controller --dataplane provisioned`). */
export const PROVISIONED_SUPPORTED_FEATURES = sorted([...CORE_FEATURES, ...EXTENDED_FEATURES, ...PROVISIONED_FEATURES]);
