// One Ingress's ingress-nginx annotations, read into a plan the route builder applies to
// every path of the Ingress. Each annotation family lives in annotations/<family>.ts and
// reports, per annotation, whether it converted, was approximated (and how) or could not
// be converted (and why).

import type { HTTPCORSFilter, HTTPHeader, HTTPRequestRedirectFilter, HTTPRouteTimeouts } from '../api/types.js';
import type { ConversionStatus, ConvertInput, Ingress, ReportEntry } from './types.js';
import { idOf, nginxAnnotations } from './ingress.js';
import { FAMILIES } from './annotations/index.js';

export interface CanarySpec {
  weight?: number;
  weightTotal: number;
  header?: string;
  headerValue?: string;
  headerPattern?: string;
  cookie?: string;
}

export interface SessionPersistence {
  sessionName: string;
  type: 'Cookie';
  absoluteTimeout?: string;
  cookieConfig: { lifetimeType: 'Permanent' | 'Session' };
}

export type BackendProtocol = 'HTTP' | 'HTTPS' | 'GRPC' | 'GRPCS';

export interface IngressPlan {
  ingress: Ingress;
  id: string;
  annotations: Map<string, string>;
  input: ConvertInput;
  report(item: string, status: ConversionStatus, message: string): void;

  /** Request headers to set upstream (x-forwarded-prefix). */
  requestHeaders: HTTPHeader[];
  /** Response headers to set (custom-headers). */
  responseHeaders: HTTPHeader[];
  cors?: HTTPCORSFilter;
  /** upstream-vhost: the Host sent upstream. */
  upstreamHost?: string;
  /** rewrite-target, applied per path by the route builder (it needs the path). */
  rewriteTarget?: string;
  useRegex: boolean;
  /** permanent-redirect / temporal-redirect: answers every request of the Ingress. */
  redirect?: HTTPRequestRedirectFilter;
  appRoot?: string;
  /** ssl-redirect (default true: only matters for hosts in spec.tls) and force-ssl-redirect. */
  sslRedirect: boolean;
  forceSslRedirect: boolean;
  fromToWww: boolean;
  timeouts?: HTTPRouteTimeouts;
  sessionPersistence?: SessionPersistence;
  backendProtocol: BackendProtocol;
  /** proxy-ssl-*: what the BackendTLSPolicy validates. */
  backendTLS?: { hostname?: string; caSecret?: string; verify: boolean };
  passthrough: boolean;
  /** Present when canary: "true". */
  canary?: CanarySpec;
}

export function planIngress(ing: Ingress, input: ConvertInput, report: ReportEntry[]): IngressPlan {
  const id = idOf(ing);
  const annotations = nginxAnnotations(ing);
  const plan: IngressPlan = {
    ingress: ing,
    id,
    annotations,
    input,
    report: (item, status, message) => report.push({ ingress: id, item, status, message }),
    requestHeaders: [],
    responseHeaders: [],
    useRegex: false,
    sslRedirect: true,
    forceSslRedirect: false,
    fromToWww: false,
    backendProtocol: 'HTTP',
    passthrough: false,
  };
  const handled = new Set<string>();
  for (const family of FAMILIES) {
    if (!family.names.some((n) => annotations.has(n))) continue;
    family.apply(plan);
    for (const n of family.names) handled.add(n);
  }
  for (const name of [...annotations.keys()].sort()) {
    if (handled.has(name)) continue;
    plan.report(name, 'not-converted', 'portico convert does not handle this annotation; review it by hand');
  }
  return plan;
}
