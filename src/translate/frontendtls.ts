// Gateway spec.tls.frontend: client certificate validation for HTTPS listeners. The
// configuration is chosen by port (a perPort entry for the listener's port, else default);
// caCertificateRefs resolve to ConfigMaps with a PEM bundle under ca.crt. Problems are the
// listener's ResolvedRefs (InvalidCACertificateRef / InvalidCACertificateKind / RefNotPermitted);
// no usable CA at all also makes the listener Accepted False NoValidCACertificate, so it is
// never served without the validation it asked for.

import type { ConfigMap, FrontendTLSValidation, Gateway, GatewaySpecTLS, ObjectReference } from '../api/types.js';
import { CORE_GROUP, GATEWAY_GROUP, Kind } from '../api/names.js';
import { validCABundle } from './certificates.js';
import { Reason } from './conditions.js';
import type { Context } from './context.js';
import type { ListenerNode } from './graph.js';
import { arr, obj } from './util.js';

type Frontend = NonNullable<GatewaySpecTLS['frontend']>;

function frontendOf(gw: Gateway): Frontend {
  return obj<Frontend>(obj<GatewaySpecTLS>(gw.spec?.tls).frontend);
}

/** The validation that applies to listeners on `port`: the perPort entry, else default. */
export function validationFor(gw: Gateway, port: number): FrontendTLSValidation | undefined {
  const fe = frontendOf(gw);
  for (const p of arr<NonNullable<Frontend['perPort']>[number]>(fe.perPort)) {
    if (p.port === port) return obj<{ validation?: FrontendTLSValidation }>(p.tls).validation;
  }
  return obj<NonNullable<Frontend['default']>>(fe.default).validation;
}

/** True when spec.tls.frontend anywhere asks for AllowInsecureFallback (Gateway InsecureFrontendValidationMode). */
export function insecureFallbackRequested(gw: Gateway): boolean {
  const fe = frontendOf(gw);
  const all = [obj<NonNullable<Frontend['default']>>(fe.default).validation, ...arr<NonNullable<Frontend['perPort']>[number]>(fe.perPort).map((p) => obj<{ validation?: FrontendTLSValidation }>(p.tls).validation)];
  return all.some((v) => obj<FrontendTLSValidation>(v).mode === 'AllowInsecureFallback');
}

export function resolveClientValidation(ctx: Context, node: ListenerNode): void {
  const gw = node.gateway;
  const v = validationFor(gw.resource, node.spec.port);
  if (!v || typeof v !== 'object') return;
  const refs = arr<ObjectReference>(v.caCertificateRefs);
  if (refs.length === 0) return; // the CRD requires one; nothing to validate against means no validation was asked
  const where = `spec.tls.frontend ${frontendOf(gw.resource).perPort?.some((p) => p?.port === node.spec.port) ? `perPort[port=${node.spec.port}]` : 'default'}`;
  const pems: string[] = [];
  const problems: { reason: string; message: string }[] = [];
  for (const [i, ref] of refs.entries()) {
    const group = ref.group ?? CORE_GROUP;
    const kind = ref.kind ?? '';
    const ns = ref.namespace ?? gw.namespace;
    const at = `${where} caCertificateRefs[${i}]`;
    if (group !== CORE_GROUP || kind !== Kind.ConfigMap) {
      problems.push({ reason: Reason.InvalidCACertificateKind, message: `${at}: kind ${group || 'core'}/${kind} is not supported; use a ConfigMap with key ca.crt` });
      continue;
    }
    if (!ctx.referenceAllowed({ group: GATEWAY_GROUP, kind: Kind.Gateway, namespace: gw.namespace }, { group, kind, namespace: ns, name: ref.name })) {
      problems.push({
        reason: Reason.RefNotPermitted,
        message: `${at}: ConfigMap ${ns}/${ref.name} is in another namespace and no ReferenceGrant there allows Gateways from ${gw.namespace}`,
      });
      continue;
    }
    const cm = ctx.lookup<ConfigMap>(Kind.ConfigMap, ns, ref.name);
    const pem = obj<Record<string, string>>(cm?.data)['ca.crt'];
    if (!cm) problems.push({ reason: Reason.InvalidCACertificateRef, message: `${at}: ConfigMap ${ns}/${ref.name} not found` });
    else if (typeof pem !== 'string' || !validCABundle(pem))
      problems.push({ reason: Reason.InvalidCACertificateRef, message: `${at}: ConfigMap ${ns}/${ref.name} has no valid PEM certificate under key ca.crt` });
    else pems.push(pem.endsWith('\n') ? pem : pem + '\n');
  }
  if (problems.length > 0 && !node.unresolved) {
    // RefNotPermitted wins (the spec reserves the others for allowed references), then the kind.
    const reason = [Reason.RefNotPermitted, Reason.InvalidCACertificateKind].find((r) => problems.some((p) => p.reason === r)) ?? Reason.InvalidCACertificateRef;
    node.unresolved = { reason, message: problems.map((p) => p.message).join('; ') };
  }
  if (pems.length === 0) {
    node.accepted = false;
    node.rejected = { reason: Reason.NoValidCACertificate, message: `none of ${where} caCertificateRefs holds a usable CA certificate; the listener is not served without client validation` };
    return;
  }
  node.clientValidation = { caPem: pems.join(''), mode: v.mode === 'AllowInsecureFallback' ? 'AllowInsecureFallback' : 'AllowValidOnly' };
}
