// backend-protocol, proxy-ssl-* and ssl-passthrough: how Portico talks to the backend.
// GRPC/GRPCS make a GRPCRoute, HTTPS/GRPCS a BackendTLSPolicy, ssl-passthrough a TLSRoute;
// the route builder emits them, this reads and reports.

import type { AnnotationFamily } from './index.js';
import { truthy } from '../ingress.js';

const NAMES = ['backend-protocol', 'proxy-ssl-secret', 'proxy-ssl-verify', 'proxy-ssl-name', 'proxy-ssl-server-name', 'proxy-ssl-verify-depth', 'proxy-ssl-protocols', 'proxy-ssl-ciphers', 'ssl-passthrough'];

export const backend: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    const a = plan.annotations;
    if (truthy(a.get('ssl-passthrough'))) {
      plan.passthrough = true;
      plan.report('ssl-passthrough', 'converted', 'a TLSRoute on a Passthrough listener per host (by SNI; paths do not apply to passthrough, as in ingress-nginx)');
    } else if (a.has('ssl-passthrough')) plan.report('ssl-passthrough', 'converted', 'false: no effect');

    const proto = (a.get('backend-protocol') ?? 'HTTP').toUpperCase();
    if (proto === 'HTTP' || proto === 'HTTPS' || proto === 'GRPC' || proto === 'GRPCS') {
      plan.backendProtocol = proto;
      const unverified = (proto === 'HTTPS' || proto === 'GRPCS') && a.get('proxy-ssl-verify') !== 'on';
      if (a.has('backend-protocol') && !unverified)
        plan.report(
          'backend-protocol',
          'converted',
          {
            HTTP: 'plain HTTP backends (the default)',
            HTTPS: 'a BackendTLSPolicy on each backend Service',
            GRPC: 'a GRPCRoute (h2c to the backend)',
            GRPCS: 'a GRPCRoute and a BackendTLSPolicy on each backend Service',
          }[proto],
        );
    } else plan.report('backend-protocol', 'not-converted', `${proto}: Gateway API and Portico speak HTTP, HTTPS and gRPC to backends only`);

    const tlsBackend = plan.backendProtocol === 'HTTPS' || plan.backendProtocol === 'GRPCS';
    const verify = a.get('proxy-ssl-verify') === 'on';
    const hostname = a.get('proxy-ssl-name')?.trim() || undefined;
    const caSecret = a.get('proxy-ssl-secret')?.trim() || undefined;
    if (tlsBackend) {
      plan.backendTLS = { hostname, caSecret, verify };
      if (!verify)
        plan.report(
          'backend-protocol',
          'approximated',
          `${plan.backendProtocol === 'GRPCS' ? 'a GRPCRoute and ' : ''}a BackendTLSPolicy on each backend Service; ingress-nginx does not verify the backend certificate unless proxy-ssl-verify: "on"; a BackendTLSPolicy always verifies it (against the system CAs unless proxy-ssl-secret names a CA)`,
        );
    }
    const unused = tlsBackend ? '' : 'no effect unless backend-protocol is HTTPS or GRPCS';
    if (a.has('proxy-ssl-secret'))
      plan.report('proxy-ssl-secret', unused ? 'converted' : 'approximated', unused || `BackendTLSPolicy caCertificateRefs names ConfigMap ${caSecret?.split('/').pop()} (key ca.crt): copy ca.crt of Secret ${caSecret} into it; the client certificate in that Secret (tls.crt/tls.key) goes to Gateway spec.tls.backend.clientCertificateRef by hand`);
    if (a.has('proxy-ssl-verify')) plan.report('proxy-ssl-verify', 'converted', unused || (verify ? 'BackendTLSPolicy verifies, as nginx does' : 'off: see backend-protocol (BackendTLSPolicy verifies anyway)'));
    if (a.has('proxy-ssl-name')) plan.report('proxy-ssl-name', 'converted', unused || `BackendTLSPolicy validation.hostname ${hostname} (SNI and the name checked)`);
    if (a.has('proxy-ssl-server-name')) plan.report('proxy-ssl-server-name', 'converted', unused || 'BackendTLSPolicy always sends SNI (validation.hostname)');
    for (const n of ['proxy-ssl-verify-depth', 'proxy-ssl-protocols', 'proxy-ssl-ciphers'])
      if (a.has(n)) plan.report(n, 'not-converted', unused || 'BackendTLSPolicy has no field for it (options are implementation-specific; Portico defines none)');
  },
};
