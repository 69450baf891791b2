// The core Kubernetes kinds Portico reads, as the API server would validate the fields
// Portico depends on (plus strictness: unknown fields are errors).

import { isIP } from 'node:net';
import { dns1123Label, portNumber } from './validate-common.js';
import { any, arr, bool, int, isObject, map, obj, str, type Report } from './validate-schema.js';

const servicePort = obj(
  {
    name: dns1123Label,
    protocol: str({ enum: ['TCP', 'UDP', 'SCTP'] }),
    port: portNumber,
    targetPort: { t: 'intOrString', int: portNumber, str: str({ min: 1, max: 15, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, describe: 'a named container port' }) },
    nodePort: int({ min: 0, max: 65535 }),
    appProtocol: str(),
  },
  { required: ['port'] },
);

export const serviceSpec = obj(
  {
    type: str({ enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] }),
    clusterIP: str(),
    clusterIPs: arr(str()),
    externalName: str({ max: 253 }),
    externalIPs: arr(str()),
    ports: arr(servicePort, {
      check: (ps, report) => {
        if (ps.length > 1)
          ps.forEach((p, i) => {
            if (isObject(p) && p.name === undefined) report(`[${i}].name`, 'must be set when a Service has more than one port');
          });
        const names = new Set<string>();
        ps.forEach((p, i) => {
          if (!isObject(p) || typeof p.name !== 'string') return;
          if (names.has(p.name)) report(`[${i}].name`, `duplicate port name '${p.name}'`);
          names.add(p.name);
        });
      },
    }),
    selector: map(str()),
    sessionAffinity: str({ enum: ['ClientIP', 'None'] }),
    sessionAffinityConfig: any(),
    ipFamilies: arr(str({ enum: ['IPv4', 'IPv6'] })),
    ipFamilyPolicy: str({ enum: ['SingleStack', 'PreferDualStack', 'RequireDualStack'] }),
    externalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
    internalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
    loadBalancerIP: str(),
    loadBalancerClass: str(),
    loadBalancerSourceRanges: arr(str()),
    allocateLoadBalancerNodePorts: bool(),
    healthCheckNodePort: int(),
    publishNotReadyAddresses: bool(),
    trafficDistribution: str(),
  },
  {
    check: (v, report) => {
      if (v.type === 'ExternalName' && (typeof v.externalName !== 'string' || v.externalName === ''))
        report('externalName', "must be set when type is 'ExternalName' (the DNS name to forward to)");
      if (v.type === 'ExternalName' && typeof v.externalName === 'string' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/.test(v.externalName))
        report('externalName', `'${v.externalName}' is not a lowercase RFC 1123 DNS name`);
    },
  },
);

const endpointAddressCheck = (slice: Record<string, unknown>, report: Report): void => {
  const type = slice.addressType;
  if (!Array.isArray(slice.endpoints)) return;
  slice.endpoints.forEach((e, i) => {
    if (!isObject(e) || !Array.isArray(e.addresses)) return;
    e.addresses.forEach((a, j) => {
      if (typeof a !== 'string') return;
      const at = `endpoints[${i}].addresses[${j}]`;
      if (type === 'IPv4' && isIP(a) !== 4) report(at, `'${a}' is not an IPv4 address (addressType IPv4)`);
      if (type === 'IPv6' && isIP(a) !== 6) report(at, `'${a}' is not an IPv6 address (addressType IPv6)`);
      if (type === 'FQDN' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(a))
        report(at, `'${a}' is not a lowercase DNS name (addressType FQDN)`);
    });
  });
};

export const endpointSliceBody = {
  addressType: str({ enum: ['IPv4', 'IPv6', 'FQDN'] }),
  endpoints: arr(
    obj(
      {
        addresses: arr(str(), { min: 1, max: 100 }),
        conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
        hostname: str({ max: 63 }),
        targetRef: obj({ kind: str(), name: str(), namespace: str(), uid: str(), apiVersion: str(), resourceVersion: str(), fieldPath: str() }),
        nodeName: str(),
        zone: str(),
        hints: any(),
        deprecatedTopology: map(str()),
      },
      { required: ['addresses'] },
    ),
    { max: 1000 },
  ),
  ports: arr(
    obj({
      name: str({ max: 63 }),
      port: int({ min: 0, max: 65535 }),
      protocol: str({ enum: ['TCP', 'UDP', 'SCTP'] }),
      appProtocol: str(),
    }),
    { max: 100 },
  ),
};
export { endpointAddressCheck };

const secretKey = str({ min: 1, max: 253, pattern: /^[-._a-zA-Z0-9]+$/, describe: "a key of alphanumerics, '-', '_' or '.'" });
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

export const secretBody = {
  type: str(),
  // sensitive: a validation message never quotes Secret data (it may be a private key)
  data: map(str({ pattern: BASE64, describe: 'base64 (use stringData for plain text)', sensitive: true }), { key: secretKey, sensitive: true }),
  stringData: map(str({ sensitive: true }), { key: secretKey, sensitive: true }),
  immutable: bool(),
};

export function secretCheck(v: Record<string, unknown>, report: Report): void {
  if (v.type !== 'kubernetes.io/tls') return;
  const has = (k: string) => (isObject(v.data) && v.data[k] !== undefined) || (isObject(v.stringData) && v.stringData[k] !== undefined);
  for (const k of ['tls.crt', 'tls.key'])
    if (!has(k)) report('data', `a kubernetes.io/tls Secret must have '${k}' (PEM ${k === 'tls.crt' ? 'certificate chain' : 'private key'}, base64 in data or plain in stringData)`);
}

export const configMapBody = {
  data: map(str(), { key: secretKey }),
  binaryData: map(str(), { key: secretKey }),
  immutable: bool(),
};

export const namespaceSpec = obj({ finalizers: arr(str()) });

