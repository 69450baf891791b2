// Condition types and reasons, spelled exactly as the Gateway API spec spells them
// (apis/v1 *_types.go), plus the few implementation-specific reasons Portico adds
// where the spec leaves the choice open (each marked below).

import type { Condition } from '../api/types.js';

export const Type = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Conflicted: 'Conflicted',
  SupportedVersion: 'SupportedVersion',
  PartiallyInvalid: 'PartiallyInvalid',
  InsecureFrontendValidationMode: 'InsecureFrontendValidationMode',
  OverlappingTLSConfig: 'OverlappingTLSConfig',
} as const;

export const Reason = {
  // shared
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Invalid: 'Invalid',
  InvalidParameters: 'InvalidParameters',
  RefNotPermitted: 'RefNotPermitted',
  InvalidKind: 'InvalidKind',
  UnsupportedValue: 'UnsupportedValue',
  // GatewayClass
  SupportedVersion: 'SupportedVersion',
  // Gateway
  ListenersNotValid: 'ListenersNotValid',
  UnsupportedAddress: 'UnsupportedAddress',
  AddressNotUsable: 'AddressNotUsable',
  InvalidClientCertificateRef: 'InvalidClientCertificateRef',
  ListenersNotResolved: 'ListenersNotResolved',
  ConfigurationChanged: 'ConfigurationChanged',
  // Listener
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  NoConflicts: 'NoConflicts',
  PortUnavailable: 'PortUnavailable',
  UnsupportedProtocol: 'UnsupportedProtocol',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidRouteKinds: 'InvalidRouteKinds',
  InvalidCACertificateKind: 'InvalidCACertificateKind',
  OverlappingHostnames: 'OverlappingHostnames',
  // ListenerSet
  NotAllowed: 'NotAllowed',
  ParentNotAccepted: 'ParentNotAccepted',
  ParentNotProgrammed: 'ParentNotProgrammed',
  // Route
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  IncompatibleFilters: 'IncompatibleFilters',
  BackendNotFound: 'BackendNotFound',
  /**
   * Implementation-specific (the spec names no reason): a route rejected on a listener
   * because another route already holds it — the HTTPRoute/GRPCRoute hostname rule of the
   * GRPCRoute spec, and the one-route-per-listener rule for TCPRoute/UDPRoute.
   */
  Conflicted: 'Conflicted',
  // Policy
  TargetNotFound: 'TargetNotFound',
  NoValidCACertificate: 'NoValidCACertificate',
  InvalidCACertificateRef: 'InvalidCACertificateRef',
} as const;

export function condition(
  type: string,
  status: boolean | 'Unknown',
  reason: string,
  message: string,
  observedGeneration: number,
): Condition {
  return {
    type,
    status: status === 'Unknown' ? 'Unknown' : status ? 'True' : 'False',
    reason,
    message,
    observedGeneration,
  };
}
