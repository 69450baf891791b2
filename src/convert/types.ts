// What convertIngresses() reads and returns. Input objects are plain Kubernetes objects
// (networking.k8s.io/v1 Ingress and IngressClass, core Service and ConfigMap); output
// objects are Gateway API manifests ready to apply, plus the report of what was and was
// not carried over.

import type { Resource, ObjectMeta } from '../api/types.js';

export interface IngressServiceBackend {
  name: string;
  port?: { number?: number; name?: string };
}
export interface IngressBackend {
  service?: IngressServiceBackend;
  resource?: { apiGroup?: string; kind: string; name: string };
}
export interface HTTPIngressPath {
  path?: string;
  pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific' | string;
  backend: IngressBackend;
}
export interface IngressRule {
  host?: string;
  http?: { paths: HTTPIngressPath[] };
}
export interface IngressTLS {
  hosts?: string[];
  secretName?: string;
}
export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  rules?: IngressRule[];
  tls?: IngressTLS[];
}
export type Ingress = Resource<IngressSpec>;
export type IngressClass = Resource<{ controller?: string; parameters?: unknown }>;
export interface ConfigMapLike {
  apiVersion: string;
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

export interface ConvertInput {
  ingresses: readonly Ingress[];
  ingressClasses?: readonly IngressClass[];
  /** Used to turn a named Service port into its number (backendRefs need numbers) and to read appProtocol. */
  services?: readonly Resource[];
  /** Read for `custom-headers` (the annotation names a ConfigMap). */
  configMaps?: readonly ConfigMapLike[];
}

export interface ConvertOptions {
  /** Listener ports. Defaults 80 and 443. */
  httpPort?: number;
  httpsPort?: number;
  /** Also emit a GatewayClass per IngressClass, for this controllerName (default portico.dev/gateway-controller). */
  emitGatewayClass?: boolean;
  controllerName?: string;
  /** The IngressClass name an Ingress without one belongs to, when no IngressClass is marked default. Default "nginx". */
  defaultIngressClass?: string;
}

/** Converted: the output means the same. Approximated: closest construct, the message says how it differs. */
export type ConversionStatus = 'converted' | 'approximated' | 'not-converted';

export interface ReportEntry {
  /** `namespace/name` of the Ingress. */
  ingress: string;
  /** The annotation (without the nginx.ingress.kubernetes.io/ prefix) or the field this line is about. */
  item: string;
  status: ConversionStatus;
  message: string;
}

export interface ConvertResult {
  /** Gateway API objects (and GatewayClasses when asked), in apply order. */
  resources: Resource[];
  /** Sorted by ingress, then item. */
  report: ReportEntry[];
}
