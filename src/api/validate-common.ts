// Shared Gateway API and Kubernetes field types (sigs.k8s.io/gateway-api apis/v1/shared_types.go
// and object_reference_types.go), as schemas. Pattern sources are the CRDs' own.

import { isIP } from 'node:net';
import { any, arr, int, isObject, map, obj, str, withDefault, type Report, type Schema, type StringSchema } from './validate-schema.js';
import { GATEWAY_GROUP } from './names.js';

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

export const RE = {
  hostname: new RegExp(`^(\\*\\.)?${DNS_LABEL}(\\.${DNS_LABEL})*$`),
  preciseHostname: new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`),
  sectionName: new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`),
  namespace: new RegExp(`^${DNS_LABEL}$`),
  group: new RegExp(`^$|^${DNS_LABEL}(\\.${DNS_LABEL})*$`),
  kind: /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/,
  dnsSubdomain: new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`),
  dns1035: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  controllerName: new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$`),
  protocol: new RegExp(`^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|${DNS_LABEL}(\\.${DNS_LABEL})*\\/[A-Za-z0-9]+$`),
  headerName: /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/,
  duration: /^([0-9]{1,5}(h|m|s|ms)){1,4}$/,
  labelValue: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
  qualifiedNamePart: /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/,
  addressType: new RegExp(`^Hostname|IPAddress|NamedAddress$|^${DNS_LABEL}(\\.${DNS_LABEL})*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$`),
};

export const hostname = str({ min: 1, max: 253, pattern: RE.hostname, describe: "a lowercase RFC 1123 hostname, optionally prefixed with '*.'" });
export const preciseHostname = str({ min: 1, max: 253, pattern: RE.preciseHostname, describe: 'a lowercase RFC 1123 hostname without wildcard' });
export const objectName = str({ min: 1, max: 253, describe: 'an object name' });
export const sectionName = str({ min: 1, max: 253, pattern: RE.sectionName, describe: 'a section name (lowercase RFC 1123 subdomain)' });
export const namespace = str({ min: 1, max: 63, pattern: RE.namespace, describe: 'a namespace name (lowercase RFC 1123 label)' });
export const group = str({ max: 253, pattern: RE.group, describe: "an API group ('' for the core group)" });
export const kind = str({ min: 1, max: 63, pattern: RE.kind, describe: 'a Kind (starts with a letter)' });
export const portNumber = int({ min: 1, max: 65535 });
export const headerName = str({ min: 1, max: 256, pattern: RE.headerName, describe: 'an HTTP header name (RFC 7230 token)' });
export const annotationValue = str({ max: 4096 });

function durationMs(s: string): number {
  let total = 0;
  for (const m of s.matchAll(/([0-9]+)(h|ms|m|s)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  return total;
}
export { durationMs };

export const duration = str({
  pattern: RE.duration,
  describe: "a Gateway API duration such as '10s', '500ms' or '1h30m' (1-4 parts of up to 5 digits and h, m, s or ms)",
});

/** Kubernetes qualified name (label and annotation keys): optional DNS-subdomain prefix and '/' then a name. */
export const qualifiedName: StringSchema = str({
  min: 1,
  max: 316,
  describe: "a qualified name ('name' or 'prefix/name')",
  check: (v, report) => {
    const slash = v.indexOf('/');
    const prefix = slash >= 0 ? v.slice(0, slash) : undefined;
    const name = slash >= 0 ? v.slice(slash + 1) : v;
    if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !RE.dnsSubdomain.test(prefix)))
      report('', `'${v}': prefix must be a lowercase DNS subdomain of at most 253 characters`);
    if (name.length === 0 || name.length > 63 || !RE.qualifiedNamePart.test(name))
      report('', `'${v}': name part must be 1-63 characters, alphanumerics with '-', '_' or '.' inside`);
  },
});
export const labelValue = str({ max: 63, pattern: RE.labelValue, describe: "a label value (at most 63 alphanumerics, '-', '_', '.', starting and ending alphanumeric)" });
export const labels = map(labelValue, { key: qualifiedName });
export const annotations = map(annotationValue, { key: qualifiedName });

export const labelSelector = obj({
  matchLabels: labels,
  matchExpressions: arr(
    obj(
      {
        key: qualifiedName,
        operator: str({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
        values: arr(str()),
      },
      {
        required: ['key', 'operator'],
        check: (v, report) => {
          const n = Array.isArray(v.values) ? v.values.length : 0;
          if ((v.operator === 'In' || v.operator === 'NotIn') && n === 0)
            report('values', `must be non-empty when operator is ${v.operator}`);
          if ((v.operator === 'Exists' || v.operator === 'DoesNotExist') && n > 0)
            report('values', `must be empty when operator is ${v.operator}`);
        },
      },
    ),
  ),
});

/** metadata: the fields a manifest may carry; name rule depends on the kind. */
export function metadata(nameSchema: Schema, namespaced: boolean): Schema {
  return obj(
    {
      name: nameSchema,
      // On a cluster-scoped kind the API server drops metadata.namespace; so does Portico.
      namespace: namespaced ? namespace : str(),
      generateName: str(),
      uid: str(),
      generation: int({ min: 0 }),
      resourceVersion: str(),
      creationTimestamp: str(),
      deletionTimestamp: str(),
      deletionGracePeriodSeconds: int(),
      labels,
      annotations,
      finalizers: arr(str()),
      // Kubernetes' own business; accepted as written.
      ownerReferences: arr(any()),
      managedFields: arr(any()),
      selfLink: str(),
    },
    { required: ['name'] },
  );
}

export const dnsSubdomainName = str({ min: 1, max: 253, pattern: RE.dnsSubdomain, describe: 'a lowercase RFC 1123 subdomain' });
export const dns1035Name = str({ min: 1, max: 63, pattern: RE.dns1035, describe: 'a lowercase RFC 1035 label (starts with a letter)' });
export const dns1123Label = str({ min: 1, max: 63, pattern: RE.namespace, describe: 'a lowercase RFC 1123 label' });

// ------------------------------------------------------------------ references

export const parentReference = obj(
  {
    group: withDefault(group, GATEWAY_GROUP),
    kind: withDefault(kind, 'Gateway'),
    namespace,
    name: objectName,
    sectionName,
    port: portNumber,
  },
  { required: ['name'] },
);

function parentKey(p: unknown): string {
  if (!isObject(p)) return '';
  const g = typeof p.group === 'string' ? p.group : GATEWAY_GROUP;
  const k = typeof p.kind === 'string' ? p.kind : 'Gateway';
  return `${g}/${k}/${String(p.namespace ?? '')}/${String(p.name)}`;
}

/** CEL on CommonRouteSpec.parentRefs: repeated parents need distinct sectionName/port. */
export const parentRefs = arr(parentReference, {
  max: 32,
  check: (refs, report) => {
    const byParent = new Map<string, number[]>();
    refs.forEach((r, i) => {
      const k = parentKey(r);
      byParent.set(k, [...(byParent.get(k) ?? []), i]);
    });
    // The CRD's two rules: refs to one parent either all name a sectionName (port) or none
    // do, and no two of them may name the same sectionName and port.
    for (const idxs of byParent.values()) {
      if (idxs.length < 2) continue;
      const rs = idxs.map((i) => refs[i] as Record<string, unknown>);
      const hasSection = (r: Record<string, unknown>) => r.sectionName !== undefined && r.sectionName !== '';
      const hasPort = (r: Record<string, unknown>) => r.port !== undefined && r.port !== 0;
      const mixed = new Set(rs.map(hasSection)).size > 1 || new Set(rs.map(hasPort)).size > 1;
      if (mixed) {
        idxs.forEach((i, j) => {
          if (!hasSection(rs[j]!) && !hasPort(rs[j]!))
            report(`[${i}]`, 'sectionName or port must be specified when parentRefs includes 2 or more references to the same parent');
        });
        if (idxs.every((_, j) => hasSection(rs[j]!) || hasPort(rs[j]!)) === false) continue;
      }
      const seen = new Set<string>();
      idxs.forEach((i, j) => {
        const r = rs[j]!;
        const k = `${hasSection(r) ? String(r.sectionName) : ''}:${hasPort(r) ? String(r.port) : ''}`;
        if (seen.has(k)) report(`[${i}]`, 'sectionName or port must be unique when parentRefs includes 2 or more references to the same parent');
        seen.add(k);
      });
    }
  },
});

/** CEL on BackendObjectReference: a Service reference needs a port. */
export function checkServicePort(v: Record<string, unknown>, report: Report): void {
  const g = v.group ?? '';
  const k = v.kind ?? 'Service';
  if (g === '' && k === 'Service' && v.port === undefined) report('port', 'Must have port for Service reference (set the Service port to send traffic to)');
}

export const backendObjectReference = obj(
  {
    group: withDefault(group, ''),
    kind: withDefault(kind, 'Service'),
    name: objectName,
    namespace,
    port: portNumber,
  },
  { required: ['name'], check: checkServicePort },
);

export const backendRefFields = {
  group: withDefault(group, ''),
  kind: withDefault(kind, 'Service'),
  name: objectName,
  namespace,
  port: portNumber,
  weight: withDefault(int({ min: 0, max: 1_000_000 }), 1),
};
export const backendRef = obj(backendRefFields, { required: ['name'], check: checkServicePort });

export const secretObjectReference = obj(
  { group: withDefault(group, ''), kind: withDefault(kind, 'Secret'), name: objectName, namespace },
  { required: ['name'] },
);
export const objectReference = obj({ group, kind, name: objectName, namespace }, { required: ['group', 'kind', 'name'] });
export const localObjectReference = obj({ group, kind, name: objectName }, { required: ['group', 'kind', 'name'] });

/** CEL on rule lists (experimental rule names): a name may appear once per route. */
export function uniqueRuleNames(rules: unknown[], report: Report): void {
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    if (!isObject(r) || typeof r.name !== 'string') return;
    if (seen.has(r.name)) report(`[${i}].name`, `Rule name must be unique within the route ('${r.name}' is used twice)`);
    seen.add(r.name);
  });
}

export const ipAddress = str({
  check: (v, report) => {
    if (!isIP(v)) report('', `'${v}' is not an IPv4 or IPv6 address`);
  },
});
