// ReferenceGrant and BackendTLSPolicy schemas (apis/v1beta1/referencegrant_types.go,
// apis/v1/backendtlspolicy_types.go) with their CEL rules.

import { duration, group, kind, localObjectReference, namespace, objectName, preciseHostname, qualifiedName, sectionName } from './validate-common.js';
import { arr, int, isObject, map, obj, str, type Report } from './validate-schema.js';
import { sessionPersistence } from './validate-routes.js';

export const referenceGrantSpec = obj(
  {
    from: arr(obj({ group, kind, namespace }, { required: ['group', 'kind', 'namespace'] }), { min: 1, max: 16 }),
    to: arr(obj({ group, kind, name: objectName }, { required: ['group', 'kind'] }), { min: 1, max: 16 }),
  },
  { required: ['from', 'to'] },
);

const targetRef = obj({ group, kind, name: objectName, sectionName }, { required: ['group', 'kind', 'name'] });

function targetRefChecks(refs: unknown[], report: Report): void {
  const byTarget = new Map<string, number[]>();
  refs.forEach((r, i) => {
    if (!isObject(r)) return;
    const k = `${String(r.group)}/${String(r.kind)}/${String(r.name)}`;
    byTarget.set(k, [...(byTarget.get(k) ?? []), i]);
  });
  for (const idxs of byTarget.values()) {
    if (idxs.length < 2) continue;
    const seen = new Set<string>();
    for (const i of idxs) {
      const r = refs[i] as Record<string, unknown>;
      if (r.sectionName === undefined) {
        report(`[${i}]`, 'sectionName must be specified when targetRefs includes 2 or more references to the same target');
        continue;
      }
      if (seen.has(String(r.sectionName)))
        report(`[${i}]`, 'sectionName must be unique when targetRefs includes 2 or more references to the same target');
      seen.add(String(r.sectionName));
    }
  }
}

const subjectAltName = obj(
  {
    type: str({ enum: ['Hostname', 'URI'] }),
    hostname: str({ min: 1, max: 253, pattern: /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, describe: 'a hostname' }),
    uri: str({ min: 1, max: 253, pattern: /^(([^:/?#]+):)(\/\/([^/?#]*))([^?#]*)(\?([^#]*))?(#(.*))?/, describe: 'an absolute URI (RFC 3986)' }),
  },
  {
    required: ['type'],
    check: (v, report) => {
      if (v.type === 'Hostname' && (v.hostname === undefined || v.hostname === ''))
        report('hostname', 'SubjectAltName element must contain Hostname, if Type is set to Hostname');
      if (v.type === 'Hostname' && v.uri !== undefined) report('uri', 'SubjectAltName element must not contain URI, if Type is set to Hostname');
      if (v.type === 'URI' && (v.uri === undefined || v.uri === '')) report('uri', 'SubjectAltName element must contain URI, if Type is set to URI');
      if (v.type === 'URI' && v.hostname !== undefined) report('hostname', 'SubjectAltName element must not contain Hostname, if Type is set to URI');
    },
  },
);

export const backendTLSPolicySpec = obj(
  {
    targetRefs: arr(targetRef, { min: 1, max: 16, check: targetRefChecks }),
    validation: obj(
      {
        caCertificateRefs: arr(localObjectReference, { max: 8 }),
        wellKnownCACertificates: str({ enum: ['System'] }),
        hostname: preciseHostname,
        subjectAltNames: arr(subjectAltName, { max: 5 }),
      },
      {
        required: ['hostname'],
        check: (v, report) => {
          const refs = Array.isArray(v.caCertificateRefs) && v.caCertificateRefs.length > 0;
          const wk = v.wellKnownCACertificates !== undefined && v.wellKnownCACertificates !== '';
          if (refs && wk) report('', 'must not contain both CACertificateRefs and WellKnownCACertificates');
          if (!refs && !wk) report('', 'must specify either CACertificateRefs or WellKnownCACertificates');
        },
      },
    ),
    options: map(str({ max: 4096 }), { key: qualifiedName, maxProps: 16 }),
  },
  { required: ['targetRefs', 'validation'] },
);


/** XBackendTrafficPolicy / BackendLBPolicy targetRefs: Services (LocalPolicyTargetReference), no sectionName. */
const localTargetRef = obj({ group, kind, name: objectName }, { required: ['group', 'kind', 'name'] });

/** apisx/v1alpha1 BackendTrafficPolicySpec; BackendLBPolicy (v1alpha2) is the same without retryConstraint. */
export const backendTrafficPolicySpec = obj(
  {
    targetRefs: arr(localTargetRef, { min: 1, max: 16 }),
    retryConstraint: obj({
      budget: obj({ percent: int({ min: 0, max: 100 }), interval: duration }),
      minRetryRate: obj({ count: int({ min: 1, max: 1_000_000 }), interval: duration }),
    }),
    sessionPersistence,
  },
  { required: ['targetRefs'] },
);
