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
] as const;

/** Sorted by name, as the spec asks of status.supportedFeatures. */
export const SUPPORTED_FEATURES: readonly { name: string }[] = [...CORE_FEATURES, ...EXTENDED_FEATURES]
  .sort()
  .map((name) => ({ name }));
