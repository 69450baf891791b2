// GatewayClass and Gateway schemas with the meaning of their CEL rules (apis/v1/gateway_types.go,
// gatewayclass_types.go; standard and experimental channel).

import { isIP } from 'node:net';
import {
  group,
  hostname,
  kind,
  labelSelector,
  labelValue,
  namespace,
  objectName,
  objectReference,
  portNumber,
  qualifiedName,
  RE,
  secretObjectReference,
  sectionName,
} from './validate-common.js';
import { arr, isObject, map, obj, str, withDefault, type Report } from './validate-schema.js';
import { GATEWAY_GROUP } from './names.js';

export const gatewayClassSpec = obj(
  {
    controllerName: str({
      min: 1,
      max: 253,
      pattern: RE.controllerName,
      describe: "a controller name such as 'portico.dev/gateway-controller' (domain prefix, '/', path)",
    }),
    parametersRef: obj({ group, kind, name: str({ min: 1, max: 253 }), namespace }, { required: ['group', 'kind', 'name'] }),
    description: str({ max: 64 }),
  },
  { required: ['controllerName'] },
);

const tlsOptions = map(str({ max: 4096 }), { key: qualifiedName, maxProps: 16 });

const frontendValidation = obj({
  caCertificateRefs: arr(objectReference, { min: 1, max: 8 }),
  mode: str({ enum: ['AllowValidOnly', 'AllowInsecureFallback'] }),
});

const gatewayTLSConfig = obj(
  {
    mode: withDefault(str({ enum: ['Terminate', 'Passthrough'] }), 'Terminate'),
    certificateRefs: arr(secretObjectReference, { max: 64 }),
    options: tlsOptions,
    frontendValidation,
  },
  {
    check: (v, report) => {
      const mode = v.mode ?? 'Terminate';
      const refs = Array.isArray(v.certificateRefs) ? v.certificateRefs.length : 0;
      const opts = isObject(v.options) ? Object.keys(v.options).length : 0;
      if (mode === 'Terminate' && refs === 0 && opts === 0)
        report('', "certificateRefs or options must be specified when mode is Terminate (add a certificateRefs entry naming a kubernetes.io/tls Secret)");
    },
  },
);

const routeGroupKind = obj({ group: withDefault(group, GATEWAY_GROUP), kind }, { required: ['kind'] });

const allowedRoutes = obj({
  namespaces: withDefault(
    obj(
      {
        from: withDefault(str({ enum: ['All', 'Selector', 'Same', 'None'] }), 'Same'),
        selector: labelSelector,
      },
      {
        check: (v, report) => {
          if (v.from === 'Selector' && v.selector === undefined)
            report('selector', "must be set when from is 'Selector' (a label selector over Namespaces)");
        },
      },
    ),
    { from: 'Same' },
  ),
  kinds: arr(routeGroupKind, { max: 8 }),
});

const listener = obj(
  {
    name: sectionName,
    hostname,
    port: portNumber,
    protocol: str({ min: 1, max: 255, pattern: RE.protocol, describe: "a protocol such as HTTP, HTTPS, TLS, TCP or UDP (or 'domain/Name')" }),
    tls: gatewayTLSConfig,
    allowedRoutes: withDefault(allowedRoutes, { namespaces: { from: 'Same' } }),
  },
  { required: ['name', 'port', 'protocol'] },
);

function listenerChecks(ls: unknown[], report: Report, owner = 'Gateway'): void {
  const names = new Map<string, number>();
  const combos = new Map<string, number>();
  ls.forEach((l, i) => {
    if (!isObject(l)) return;
    const at = `[${i}]`;
    const p = l.protocol;
    if ((p === 'HTTP' || p === 'TCP' || p === 'UDP') && l.tls !== undefined && l.tls !== null)
      report(`${at}.tls`, `tls must not be specified for protocols ['HTTP', 'TCP', 'UDP'] (remove tls, or use protocol HTTPS/TLS)`);
    if ((p === 'HTTPS' || p === 'TLS') && (l.tls === undefined || l.tls === null))
      report(`${at}.tls`, `tls must be specified for protocols ['HTTPS', 'TLS'] (add tls.certificateRefs naming a kubernetes.io/tls Secret)`);
    if (p === 'HTTPS' && isObject(l.tls) && l.tls.mode !== undefined && l.tls.mode !== 'Terminate')
      report(`${at}.tls.mode`, "tls mode must be Terminate for protocol HTTPS (use protocol TLS for Passthrough)");
    if ((p === 'TCP' || p === 'UDP') && l.hostname !== undefined && l.hostname !== null)
      report(`${at}.hostname`, "hostname must not be specified for protocols ['TCP', 'UDP']");
    if (typeof l.name === 'string') {
      const first = names.get(l.name);
      if (first !== undefined) report(`${at}.name`, `Listener name must be unique within the ${owner} ('${l.name}' is also listeners[${first}])`);
      else names.set(l.name, i);
    }
    const combo = `${String(l.port)}/${String(p)}/${String(l.hostname ?? '')}`;
    const firstCombo = combos.get(combo);
    if (firstCombo !== undefined)
      report(at, `Combination of port, protocol and hostname must be unique for each listener (same as listeners[${firstCombo}])`);
    else combos.set(combo, i);
  });
}

const gatewayAddress = obj(
  {
    type: withDefault(str({ min: 1, max: 253, pattern: RE.addressType, describe: "'IPAddress', 'Hostname', 'NamedAddress' or 'domain/Type'" }), 'IPAddress'),
    value: str({ min: 1, max: 253 }),
  },
  {
    check: (v, report) => {
      const type = v.type ?? 'IPAddress';
      if (typeof v.value !== 'string') return;
      if (type === 'IPAddress' && !isIP(v.value)) report('value', `'${v.value}' is not an IPv4 or IPv6 address (type IPAddress)`);
      if (type === 'Hostname' && !RE.hostname.test(v.value))
        report('value', `Hostname value must only contain valid characters (matching ${RE.hostname.source})`);
    },
  },
);

function addressChecks(as: unknown[], report: Report): void {
  const seen = new Map<string, number>();
  as.forEach((a, i) => {
    if (!isObject(a) || typeof a.value !== 'string') return;
    const type = a.type ?? 'IPAddress';
    if (type !== 'IPAddress' && type !== 'Hostname') return;
    const k = `${String(type)}/${a.value}`;
    if (seen.has(k)) report(`[${i}].value`, `${type} values must be unique ('${a.value}' is also addresses[${seen.get(k)}])`);
    else seen.set(k, i);
  });
}

export const gatewaySpec = obj(
  {
    gatewayClassName: objectName,
    listeners: arr(listener, { min: 1, max: 64, check: listenerChecks }),
    addresses: arr(gatewayAddress, { max: 16, check: addressChecks }),
    infrastructure: obj({
      labels: map(labelValue, { key: qualifiedName, maxProps: 8 }),
      annotations: map(str({ max: 4096 }), { key: qualifiedName, maxProps: 8 }),
      parametersRef: obj({ group, kind, name: str({ min: 1, max: 253 }) }, { required: ['group', 'kind', 'name'] }),
    }),
    // Experimental (v1.3): client certificate the Gateway presents to backends.
    backendTLS: obj({ clientCertificateRef: secretObjectReference }),
    // Experimental (v1.4): Gateway-level TLS (backend client cert; frontend client validation).
    tls: obj({
      backend: obj({ clientCertificateRef: secretObjectReference }),
      frontend: obj({
        default: obj({ validation: frontendValidation }),
        perPort: arr(obj({ port: portNumber, tls: obj({ validation: frontendValidation }) }, { required: ['port', 'tls'] }), { max: 64 }),
      }),
    }),
    // Experimental: which namespaces' ListenerSets may attach.
    allowedListeners: obj({
      namespaces: obj({ from: withDefault(str({ enum: ['All', 'Selector', 'Same', 'None'] }), 'None'), selector: labelSelector }),
    }),
    defaultScope: str({ enum: ['All', 'None'] }),
  },
  { required: ['gatewayClassName', 'listeners'] },
);


// ListenerSet (apis/v1/listenerset_types.go): the same listener entries and CEL rules as a
// Gateway's, under a parentRef that names the Gateway they join.
export const listenerSetSpec = obj(
  {
    parentRef: obj(
      { group: withDefault(group, GATEWAY_GROUP), kind: withDefault(kind, 'Gateway'), name: objectName, namespace },
      { required: ['name'] },
    ),
    listeners: arr(listener, { min: 1, max: 64, check: (ls, report) => listenerChecks(ls, report, 'ListenerSet') }),
  },
  { required: ['parentRef', 'listeners'] },
);
