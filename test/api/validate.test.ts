import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate, applyDefaults } from '../../src/api/validate.js';

type Obj = Record<string, any>;
const GW = 'gateway.networking.k8s.io';

const BASE: Record<string, Obj> = {
  GatewayClass: { apiVersion: `${GW}/v1`, kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
  Gateway: {
    apiVersion: `${GW}/v1`,
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'default' },
    spec: {
      gatewayClassName: 'portico',
      listeners: [
        { name: 'http', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
        { name: 'https', port: 8443, protocol: 'HTTPS', hostname: '*.example.com', tls: { certificateRefs: [{ name: 'cert' }] } },
        { name: 'tcp', port: 9000, protocol: 'TCP' },
      ],
    },
  },
  HTTPRoute: {
    apiVersion: `${GW}/v1`,
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'default' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['www.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-v', value: '2' }], queryParams: [{ name: 'q', value: '1' }], method: 'GET' }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: 'b' }], remove: ['x-c'] } }],
          backendRefs: [{ name: 'svc', port: 80, weight: 90 }],
          timeouts: { request: '10s', backendRequest: '2s' },
        },
      ],
    },
  },
  GRPCRoute: {
    apiVersion: `${GW}/v1`,
    kind: 'GRPCRoute',
    metadata: { name: 'g', namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ method: { service: 'foo.Bar', method: 'Get' } }], backendRefs: [{ name: 'svc', port: 50051 }] }] },
  },
  TLSRoute: {
    apiVersion: `${GW}/v1alpha2`,
    kind: 'TLSRoute',
    metadata: { name: 't', namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw', sectionName: 'tls' }], hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'svc', port: 443 }] }] },
  },
  TCPRoute: { apiVersion: `${GW}/v1alpha2`, kind: 'TCPRoute', metadata: { name: 't' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 9 }] }] } },
  UDPRoute: { apiVersion: `${GW}/v1alpha2`, kind: 'UDPRoute', metadata: { name: 'u' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 53 }] }] } },
  ReferenceGrant: {
    apiVersion: `${GW}/v1beta1`,
    kind: 'ReferenceGrant',
    metadata: { name: 'rg', namespace: 'backends' },
    spec: { from: [{ group: GW, kind: 'HTTPRoute', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] },
  },
  BackendTLSPolicy: {
    apiVersion: `${GW}/v1`,
    kind: 'BackendTLSPolicy',
    metadata: { name: 'p', namespace: 'default' },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: 'svc' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }], hostname: 'svc.example.com' } },
  },
  ListenerSet: {
    apiVersion: `${GW}/v1`,
    kind: 'ListenerSet',
    metadata: { name: 'ls', namespace: 'apps' },
    spec: {
      parentRef: { name: 'gw', namespace: 'default' },
      listeners: [
        { name: 'http', port: 8080, protocol: 'HTTP', hostname: 'apps.example.com' },
        { name: 'https', port: 8443, protocol: 'HTTPS', hostname: 'apps.example.com', tls: { certificateRefs: [{ name: 'cert' }] } },
      ],
    },
  },
  Service: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 9001 }] } },
  EndpointSlice: {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'svc-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'svc' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 9001 }],
  },
  Secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'AAAA', 'tls.key': 'AAAA' } },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca' }, data: { 'ca.crt': '-----BEGIN CERTIFICATE-----' } },
  Namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'backends', labels: { team: 'a' } } },
};

for (const [kind, obj] of Object.entries(BASE)) {
  test(`valid ${kind} has no errors`, () => assert.deepEqual(validate(obj), []));
}

test('valid: the same parent through distinct sectionNames, or distinct ports', () => {
  const r = structuredClone(BASE.HTTPRoute!);
  r.spec.parentRefs = [{ name: 'gw', sectionName: 'a' }, { name: 'gw', sectionName: 'b' }, { name: 'gw', namespace: 'other' }, { name: 'x', port: 80 }, { name: 'x', port: 81 }];
  assert.deepEqual(validate(r), []);
});

test('metadata.namespace on a cluster-scoped kind is ignored, as the API server does', () => {
  const gc = structuredClone(BASE.GatewayClass!);
  gc.metadata.namespace = 'x';
  assert.deepEqual(validate(gc), []);
});

/** [name, kind, mutate, expected path, message fragment] */
type Case = [string, string, (o: Obj) => void, string, string];
const http = (o: Obj) => o.spec.rules[0];
const CASES: Case[] = [
  // ---- top level and metadata
  ['unknown top-level field', 'Service', (o) => (o.sepc = {}), 'sepc', 'unknown field'],
  ['wrong apiVersion', 'HTTPRoute', (o) => (o.apiVersion = `${GW}/v2`), 'apiVersion', 'does not serve HTTPRoute'],
  ['missing metadata.name', 'Gateway', (o) => delete o.metadata.name, 'metadata.name', 'required'],
  ['uppercase name', 'HTTPRoute', (o) => (o.metadata.name = 'MyRoute'), 'metadata.name', 'RFC 1123'],
  ['bad namespace', 'HTTPRoute', (o) => (o.metadata.namespace = 'a_b'), 'metadata.namespace', 'namespace'],
  ['bad label value', 'Namespace', (o) => (o.metadata.labels = { team: 'a b' }), 'metadata.labels[team]', 'label value'],
  ['bad label key', 'Namespace', (o) => (o.metadata.labels = { '-x': 'a' }), 'metadata.labels[-x]', 'key'],
  ['unknown metadata field', 'Namespace', (o) => (o.metadata.nmae = 'x'), 'metadata.nmae', 'unknown field'],
  ['spec missing', 'Gateway', (o) => delete o.spec, 'spec', 'required'],
  // ---- GatewayClass
  ['controllerName without path', 'GatewayClass', (o) => (o.spec.controllerName = 'portico'), 'spec.controllerName', 'controller name'],
  ['description too long', 'GatewayClass', (o) => (o.spec.description = 'x'.repeat(65)), 'spec.description', 'at most 64'],
  ['parametersRef needs kind', 'GatewayClass', (o) => (o.spec.parametersRef = { group: 'x', name: 'p' }), 'spec.parametersRef.kind', 'required'],
  // ---- Gateway
  ['no listeners', 'Gateway', (o) => (o.spec.listeners = []), 'spec.listeners', 'at least 1'],
  ['65 listeners', 'Gateway', (o) => (o.spec.listeners = Array.from({ length: 65 }, (_, i) => ({ name: `l${i}`, port: 1000 + i, protocol: 'HTTP' }))), 'spec.listeners', 'at most 64'],
  ['port 0', 'Gateway', (o) => (o.spec.listeners[0].port = 0), 'spec.listeners[0].port', 'at least 1'],
  ['port 70000', 'Gateway', (o) => (o.spec.listeners[0].port = 70000), 'spec.listeners[0].port', 'at most 65535'],
  ['port as string', 'Gateway', (o) => (o.spec.listeners[0].port = '80'), 'spec.listeners[0].port', 'integer'],
  ['bad protocol', 'Gateway', (o) => (o.spec.listeners[0].protocol = 'HT TP'), 'spec.listeners[0].protocol', 'protocol'],
  ['listener name uppercase', 'Gateway', (o) => (o.spec.listeners[0].name = 'HTTP'), 'spec.listeners[0].name', 'section name'],
  ['duplicate listener name', 'Gateway', (o) => (o.spec.listeners[1].name = 'http'), 'spec.listeners[1].name', 'Listener name must be unique'],
  ['duplicate port/protocol/hostname', 'Gateway', (o) => o.spec.listeners.push({ name: 'http2', port: 8080, protocol: 'HTTP' }), 'spec.listeners[3]', 'Combination of port, protocol and hostname must be unique'],
  ['HTTPS without tls', 'Gateway', (o) => delete o.spec.listeners[1].tls, 'spec.listeners[1].tls', "tls must be specified for protocols ['HTTPS', 'TLS']"],
  ['HTTPS tls without certificateRefs', 'Gateway', (o) => (o.spec.listeners[1].tls = { mode: 'Terminate' }), 'spec.listeners[1].tls', 'certificateRefs or options must be specified'],
  ['HTTPS passthrough', 'Gateway', (o) => (o.spec.listeners[1].tls.mode = 'Passthrough'), 'spec.listeners[1].tls.mode', 'must be Terminate for protocol HTTPS'],
  ['bad tls mode', 'Gateway', (o) => (o.spec.listeners[1].tls.mode = 'Terminated'), 'spec.listeners[1].tls.mode', "'Terminate', 'Passthrough'"],
  ['tls on HTTP', 'Gateway', (o) => (o.spec.listeners[0].tls = { certificateRefs: [{ name: 'c' }] }), 'spec.listeners[0].tls', 'must not be specified'],
  ['hostname on TCP', 'Gateway', (o) => (o.spec.listeners[2].hostname = 'a.example.com'), 'spec.listeners[2].hostname', "hostname must not be specified for protocols ['TCP', 'UDP']"],
  ['wildcard in the middle', 'Gateway', (o) => (o.spec.listeners[1].hostname = 'a.*.example.com'), 'spec.listeners[1].hostname', 'hostname'],
  ['hostname too long', 'Gateway', (o) => (o.spec.listeners[1].hostname = ('a'.repeat(60) + '.').repeat(5) + 'com'), 'spec.listeners[1].hostname', 'at most 253'],
  ['allowedRoutes from bad', 'Gateway', (o) => (o.spec.listeners[0].allowedRoutes.namespaces.from = 'Any'), 'spec.listeners[0].allowedRoutes.namespaces.from', "'All', 'Selector', 'Same', 'None'"],
  ['Selector without selector', 'Gateway', (o) => (o.spec.listeners[0].allowedRoutes.namespaces.from = 'Selector'), 'spec.listeners[0].allowedRoutes.namespaces.selector', 'must be set'],
  ['selector In without values', 'Gateway', (o) => (o.spec.listeners[0].allowedRoutes.namespaces = { from: 'Selector', selector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }), 'spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0].values', 'non-empty'],
  ['kinds max 8', 'Gateway', (o) => (o.spec.listeners[0].allowedRoutes.kinds = Array.from({ length: 9 }, () => ({ kind: 'HTTPRoute' }))), 'spec.listeners[0].allowedRoutes.kinds', 'at most 8'],
  ['kind pattern', 'Gateway', (o) => (o.spec.listeners[0].allowedRoutes.kinds = [{ kind: '1Route' }]), 'spec.listeners[0].allowedRoutes.kinds[0].kind', 'Kind'],
  ['address not an IP', 'Gateway', (o) => (o.spec.addresses = [{ type: 'IPAddress', value: 'foo' }]), 'spec.addresses[0].value', 'not an IPv4 or IPv6'],
  ['duplicate address', 'Gateway', (o) => (o.spec.addresses = [{ value: '127.0.0.1' }, { value: '127.0.0.1' }]), 'spec.addresses[1].value', 'IPAddress values must be unique'],
  ['Hostname address pattern', 'Gateway', (o) => (o.spec.addresses = [{ type: 'Hostname', value: 'A_B' }]), 'spec.addresses[0].value', 'Hostname value must only contain valid characters'],
  ['certificateRefs max 64', 'Gateway', (o) => (o.spec.listeners[1].tls.certificateRefs = Array.from({ length: 65 }, (_, i) => ({ name: `c${i}` }))), 'spec.listeners[1].tls.certificateRefs', 'at most 64'],
  ['infrastructure labels max 8', 'Gateway', (o) => (o.spec.infrastructure = { labels: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v'])) }), 'spec.infrastructure.labels', 'at most 8'],
  ['gatewayClassName empty', 'Gateway', (o) => (o.spec.gatewayClassName = ''), 'spec.gatewayClassName', 'must not be empty'],
  // ---- HTTPRoute
  ['path without slash', 'HTTPRoute', (o) => (http(o).matches[0].path.value = 'api'), 'spec.rules[0].matches[0].path.value', "start with '/'"],
  ['path with //', 'HTTPRoute', (o) => (http(o).matches[0].path.value = '/a//b'), 'spec.rules[0].matches[0].path.value', "must not contain '//'"],
  ['path with /../', 'HTTPRoute', (o) => (http(o).matches[0].path.value = '/a/../b'), 'spec.rules[0].matches[0].path.value', "'/../'"],
  ['path with %2F', 'HTTPRoute', (o) => (http(o).matches[0].path.value = '/a%2Fb'), 'spec.rules[0].matches[0].path.value', "'%2F'"],
  ['path with #', 'HTTPRoute', (o) => (http(o).matches[0].path.value = '/a#b'), 'spec.rules[0].matches[0].path.value', "'#'"],
  ['path ends /.', 'HTTPRoute', (o) => (http(o).matches[0].path.value = '/a/.'), 'spec.rules[0].matches[0].path.value', "end with '/.'"],
  ['path with space', 'HTTPRoute', (o) => (http(o).matches[0].path.value = '/a b'), 'spec.rules[0].matches[0].path.value', 'valid characters'],
  ['path type Prefix', 'HTTPRoute', (o) => (http(o).matches[0].path.type = 'Prefix'), 'spec.rules[0].matches[0].path.type', "'Exact', 'PathPrefix', 'RegularExpression'"],
  ['bad regex path', 'HTTPRoute', (o) => (http(o).matches[0].path = { type: 'RegularExpression', value: '/a(' }), 'spec.rules[0].matches[0].path.value', 'regular expression'],
  ['path too long', 'HTTPRoute', (o) => (http(o).matches[0].path.value = '/' + 'a'.repeat(1024)), 'spec.rules[0].matches[0].path.value', 'at most 1024'],
  ['header name with colon', 'HTTPRoute', (o) => (http(o).matches[0].headers[0].name = 'x:y'), 'spec.rules[0].matches[0].headers[0].name', 'header name'],
  ['header value with newline', 'HTTPRoute', (o) => (http(o).matches[0].headers[0].value = 'a\nb'), 'spec.rules[0].matches[0].headers[0].value', 'header value'],
  ['empty rules list', 'HTTPRoute', (o) => (o.spec.rules = []), 'spec.rules', 'at least 1'],
  ['empty header value', 'HTTPRoute', (o) => (http(o).matches[0].headers[0].value = ''), 'spec.rules[0].matches[0].headers[0].value', 'must not be empty'],
  ['duplicate header match (case-insensitive)', 'HTTPRoute', (o) => http(o).matches[0].headers.push({ name: 'X-V', value: '3' }), 'spec.rules[0].matches[0].headers[1]', 'duplicate header name'],
  ['bad method', 'HTTPRoute', (o) => (http(o).matches[0].method = 'get'), 'spec.rules[0].matches[0].method', "'GET'"],
  ['query param value too long', 'HTTPRoute', (o) => (http(o).matches[0].queryParams[0].value = 'x'.repeat(1025)), 'spec.rules[0].matches[0].queryParams[0].value', 'at most 1024'],
  ['too many hostnames', 'HTTPRoute', (o) => (o.spec.hostnames = Array.from({ length: 17 }, (_, i) => `h${i}.example.com`)), 'spec.hostnames', 'at most 16'],
  ['hostname with port', 'HTTPRoute', (o) => (o.spec.hostnames = ['example.com:80']), 'spec.hostnames[0]', 'hostname'],
  ['too many rules', 'HTTPRoute', (o) => (o.spec.rules = Array.from({ length: 17 }, () => ({}))), 'spec.rules', 'at most 16'],
  ['too many matches in total', 'HTTPRoute', (o) => (o.spec.rules = Array.from({ length: 3 }, () => ({ matches: Array.from({ length: 50 }, () => ({})) }))), 'spec.rules', 'less than 128'],
  ['duplicate rule names', 'HTTPRoute', (o) => (o.spec.rules = [{ name: 'a' }, { name: 'a' }]), 'spec.rules[1].name', 'Rule name must be unique'],
  ['backendRef without port', 'HTTPRoute', (o) => delete http(o).backendRefs[0].port, 'spec.rules[0].backendRefs[0].port', 'Must have port for Service reference'],
  ['backendRef non-Service without port is fine?', 'HTTPRoute', (o) => (http(o).backendRefs[0] = { group: 'x.io', kind: 'Thing', name: 'n', weight: 1000001 }), 'spec.rules[0].backendRefs[0].weight', 'at most 1000000'],
  ['negative weight', 'HTTPRoute', (o) => (http(o).backendRefs[0].weight = -1), 'spec.rules[0].backendRefs[0].weight', 'at least 0'],
  ['too many backendRefs', 'HTTPRoute', (o) => (http(o).backendRefs = Array.from({ length: 17 }, () => ({ name: 's', port: 80 }))), 'spec.rules[0].backendRefs', 'at most 16'],
  ['unknown backendRef field', 'HTTPRoute', (o) => (http(o).backendRefs[0].wieght = 1), 'spec.rules[0].backendRefs[0].wieght', "unknown field; did you mean 'weight'?"],
  ['wrong-case field', 'HTTPRoute', (o) => (o.spec.parentrefs = []), 'spec.parentrefs', "did you mean 'parentRefs'?"],
  ['filter type needs its field', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'RequestRedirect' }]), 'spec.rules[0].filters[0].requestRedirect', 'must be specified for RequestRedirect'],
  ['filter carries foreign field', 'HTTPRoute', (o) => (http(o).filters[0].urlRewrite = { hostname: 'a.com' }), 'spec.rules[0].filters[0].urlRewrite', 'must be nil if the filter.type is not URLRewrite'],
  ['bad filter type', 'HTTPRoute', (o) => (http(o).filters[0].type = 'Rewrite'), 'spec.rules[0].filters[0].type', "'URLRewrite'"],
  ['redirect and rewrite together', 'HTTPRoute', (o) => {
    http(o).backendRefs = [];
    http(o).filters = [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }, { type: 'URLRewrite', urlRewrite: { hostname: 'a.com' } }];
  }, 'spec.rules[0].filters', 'not both'],
  ['redirect with backendRefs', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }]), 'spec.rules[0].filters', 'must not be used together with backendRefs'],
  ['repeated header modifier', 'HTTPRoute', (o) => http(o).filters.push({ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'a', value: 'b' }] } }), 'spec.rules[0].filters[1]', 'cannot be repeated'],
  ['redirect status 304', 'HTTPRoute', (o) => { http(o).backendRefs = []; http(o).filters = [{ type: 'RequestRedirect', requestRedirect: { statusCode: 304 } }]; }, 'spec.rules[0].filters[0].requestRedirect.statusCode', '301, 302, 303, 307, 308'],
  ['redirect scheme ftp', 'HTTPRoute', (o) => { http(o).backendRefs = []; http(o).filters = [{ type: 'RequestRedirect', requestRedirect: { scheme: 'ftp' } }]; }, 'spec.rules[0].filters[0].requestRedirect.scheme', "'http', 'https'"],
  ['redirect wildcard hostname', 'HTTPRoute', (o) => { http(o).backendRefs = []; http(o).filters = [{ type: 'RequestRedirect', requestRedirect: { hostname: '*.a.com' } }]; }, 'spec.rules[0].filters[0].requestRedirect.hostname', 'without wildcard'],
  ['ReplacePrefixMatch with Exact match', 'HTTPRoute', (o) => {
    http(o).matches[0].path.type = 'Exact';
    http(o).filters = [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }];
  }, 'spec.rules[0].filters[0].urlRewrite.path', 'exactly one PathPrefix match'],
  ['ReplacePrefixMatch with two matches', 'HTTPRoute', (o) => {
    http(o).matches.push({ path: { value: '/b' } });
    http(o).filters = [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }];
  }, 'spec.rules[0].filters[0].urlRewrite.path', 'exactly one PathPrefix match'],
  ['ReplacePrefixMatch in backendRef filter', 'HTTPRoute', (o) => {
    http(o).matches[0].path.type = 'Exact';
    http(o).backendRefs[0].filters = [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }];
  }, 'spec.rules[0].backendRefs[0].filters[0].urlRewrite.path', 'Within backendRefs'],
  ['path modifier type/field mismatch', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replacePrefixMatch: '/x' } } }]), 'spec.rules[0].filters[0].urlRewrite.path.replaceFullPath', 'must be specified when type'],
  ['mirror percent and fraction', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's', port: 80 }, percent: 10, fraction: { numerator: 1 } } }]), 'spec.rules[0].filters[0].requestMirror', 'Only one of percent or fraction'],
  ['mirror fraction > 1', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's', port: 80 }, fraction: { numerator: 3, denominator: 2 } } }]), 'spec.rules[0].filters[0].requestMirror.fraction.numerator', 'less than or equal to denominator'],
  ['mirror percent 101', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's', port: 80 }, percent: 101 } }]), 'spec.rules[0].filters[0].requestMirror.percent', 'at most 100'],
  ['mirror backend without port', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 's' } } }]), 'spec.rules[0].filters[0].requestMirror.backendRef.port', 'Must have port'],
  ['header modifier set duplicate', 'HTTPRoute', (o) => http(o).filters[0].requestHeaderModifier.set.push({ name: 'X-A', value: 'c' }), 'spec.rules[0].filters[0].requestHeaderModifier.set[1]', 'duplicate header name'],
  ['CORS method star with others', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'CORS', cors: { allowMethods: ['GET', '*'] } }]), 'spec.rules[0].filters[0].cors.allowMethods', "cannot contain '*'"],
  ['CORS bad origin', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'CORS', cors: { allowOrigins: ['example.com'] } }]), 'spec.rules[0].filters[0].cors.allowOrigins[0]', 'origin'],
  ['CORS maxAge 0', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'CORS', cors: { maxAge: 0 } }]), 'spec.rules[0].filters[0].cors.maxAge', 'at least 1'],
  ['timeout bad format', 'HTTPRoute', (o) => (http(o).timeouts.request = '10 seconds'), 'spec.rules[0].timeouts.request', 'duration'],
  ['backendRequest longer than request', 'HTTPRoute', (o) => (http(o).timeouts = { request: '1s', backendRequest: '2s' }), 'spec.rules[0].timeouts.backendRequest', 'cannot be longer than request'],
  ['retry code 200', 'HTTPRoute', (o) => (http(o).retry = { codes: [200] }), 'spec.rules[0].retry.codes[0]', 'at least 400'],
  ['sessionPersistence Permanent without absoluteTimeout', 'HTTPRoute', (o) => (http(o).sessionPersistence = { cookieConfig: { lifetimeType: 'Permanent' } }), 'spec.rules[0].sessionPersistence.absoluteTimeout', 'AbsoluteTimeout must be specified'],
  ['cookieConfig with Header persistence', 'HTTPRoute', (o) => (http(o).sessionPersistence = { type: 'Header', cookieConfig: { lifetimeType: 'Session' } }), 'spec.rules[0].sessionPersistence.cookieConfig', 'only be set with type Cookie'],
  ['parentRefs twice without sectionName', 'HTTPRoute', (o) => o.spec.parentRefs.push({ name: 'gw' }), 'spec.parentRefs[1]', 'sectionName or port must be unique'],
  ['parentRefs to one parent, one without sectionName', 'HTTPRoute', (o) => o.spec.parentRefs.push({ name: 'gw', sectionName: 'http' }), 'spec.parentRefs[0]', 'sectionName or port must be specified'],
  ['parentRefs twice same sectionName', 'HTTPRoute', (o) => (o.spec.parentRefs = [{ name: 'gw', sectionName: 'a' }, { name: 'gw', sectionName: 'a' }]), 'spec.parentRefs[1]', 'sectionName or port must be unique'],
  ['parentRef port 0', 'HTTPRoute', (o) => (o.spec.parentRefs[0].port = 0), 'spec.parentRefs[0].port', 'at least 1'],
  ['parentRefs max 32', 'HTTPRoute', (o) => (o.spec.parentRefs = Array.from({ length: 33 }, (_, i) => ({ name: `g${i}` }))), 'spec.parentRefs', 'at most 32'],
  ['extensionRef needs group', 'HTTPRoute', (o) => (http(o).filters = [{ type: 'ExtensionRef', extensionRef: { kind: 'X', name: 'y' } }]), 'spec.rules[0].filters[0].extensionRef.group', 'required'],
  // ---- GRPCRoute
  ['grpc method needs service or method', 'GRPCRoute', (o) => (o.spec.rules[0].matches[0].method = { type: 'Exact' }), 'spec.rules[0].matches[0].method', "One or both of 'service' or 'method'"],
  ['grpc bad service', 'GRPCRoute', (o) => (o.spec.rules[0].matches[0].method.service = 'foo/Bar'), 'spec.rules[0].matches[0].method.service', 'valid characters'],
  ['grpc bad method', 'GRPCRoute', (o) => (o.spec.rules[0].matches[0].method.method = 'Get.X'), 'spec.rules[0].matches[0].method.method', 'valid characters'],
  ['grpc max 8 matches', 'GRPCRoute', (o) => (o.spec.rules[0].matches = Array.from({ length: 9 }, () => ({ method: { method: 'A' } }))), 'spec.rules[0].matches', 'at most 8'],
  ['grpc no URLRewrite', 'GRPCRoute', (o) => (o.spec.rules[0].filters = [{ type: 'URLRewrite', urlRewrite: {} }]), 'spec.rules[0].filters[0].type', "must be one of"],
  // ---- L4 routes
  ['TLSRoute no rules', 'TLSRoute', (o) => (o.spec.rules = []), 'spec.rules', 'at least 1'],
  ['TLSRoute v1alpha3 needs hostnames', 'TLSRoute', (o) => { o.apiVersion = `${GW}/v1alpha3`; delete o.spec.hostnames; }, 'spec.hostnames', 'required'],
  ['TLSRoute v1alpha3 empty hostnames', 'TLSRoute', (o) => { o.apiVersion = `${GW}/v1alpha3`; o.spec.hostnames = []; }, 'spec.hostnames', 'at least 1'],
  ['TCPRoute rule without backendRefs', 'TCPRoute', (o) => (o.spec.rules = [{}]), 'spec.rules[0].backendRefs', 'required'],
  ['UDPRoute backendRef without port', 'UDPRoute', (o) => delete o.spec.rules[0].backendRefs[0].port, 'spec.rules[0].backendRefs[0].port', 'Must have port'],
  ['TCPRoute hostnames not a field', 'TCPRoute', (o) => (o.spec.hostnames = ['a.com']), 'spec.hostnames', 'unknown field'],
  // ---- ReferenceGrant
  ['ReferenceGrant from without namespace', 'ReferenceGrant', (o) => delete o.spec.from[0].namespace, 'spec.from[0].namespace', 'required'],
  ['ReferenceGrant empty to', 'ReferenceGrant', (o) => (o.spec.to = []), 'spec.to', 'at least 1'],
  // ---- BackendTLSPolicy
  ['BTLS both CA sources', 'BackendTLSPolicy', (o) => (o.spec.validation.wellKnownCACertificates = 'System'), 'spec.validation', 'must not contain both'],
  ['BTLS no CA source', 'BackendTLSPolicy', (o) => delete o.spec.validation.caCertificateRefs, 'spec.validation', 'must specify either'],
  ['BTLS wildcard hostname', 'BackendTLSPolicy', (o) => (o.spec.validation.hostname = '*.example.com'), 'spec.validation.hostname', 'without wildcard'],
  ['BTLS SAN Hostname without hostname', 'BackendTLSPolicy', (o) => (o.spec.validation.subjectAltNames = [{ type: 'Hostname', uri: 'spiffe://a/b' }]), 'spec.validation.subjectAltNames[0].hostname', 'must contain Hostname'],
  ['BTLS duplicate target without sectionName', 'BackendTLSPolicy', (o) => o.spec.targetRefs.push({ group: '', kind: 'Service', name: 'svc' }), 'spec.targetRefs[0]', 'sectionName must be specified'],
  ['BTLS wellKnown bad', 'BackendTLSPolicy', (o) => { delete o.spec.validation.caCertificateRefs; o.spec.validation.wellKnownCACertificates = 'Mozilla'; }, 'spec.validation.wellKnownCACertificates', "'System'"],
  // ---- core kinds
  ['Service name with dot', 'Service', (o) => (o.metadata.name = 'a.b'), 'metadata.name', 'RFC 1035'],
  ['Service two ports without names', 'Service', (o) => (o.spec.ports = [{ port: 80 }, { port: 81 }]), 'spec.ports[0].name', 'more than one port'],
  ['Service port name uppercase', 'Service', (o) => (o.spec.ports[0].name = 'HTTP'), 'spec.ports[0].name', 'RFC 1123 label'],
  ['Service port 0', 'Service', (o) => (o.spec.ports[0].port = 0), 'spec.ports[0].port', 'at least 1'],
  ['ExternalName without externalName', 'Service', (o) => (o.spec.type = 'ExternalName'), 'spec.externalName', 'must be set'],
  ['EndpointSlice bad IPv4', 'EndpointSlice', (o) => (o.endpoints[0].addresses = ['::1']), 'endpoints[0].addresses[0]', 'not an IPv4'],
  ['EndpointSlice bad addressType', 'EndpointSlice', (o) => (o.addressType = 'IP'), 'addressType', "'IPv4', 'IPv6', 'FQDN'"],
  ['EndpointSlice no addresses', 'EndpointSlice', (o) => (o.endpoints[0].addresses = []), 'endpoints[0].addresses', 'at least 1'],
  ['TLS Secret without key', 'Secret', (o) => delete o.data['tls.key'], 'data', "'tls.key'"],
  ['Secret data not base64', 'Secret', (o) => (o.data['tls.crt'] = '-----BEGIN CERT'), 'data[tls.crt]', 'base64'],
  ['ConfigMap bad key', 'ConfigMap', (o) => (o.data = { 'a/b': 'x' }), 'data[a/b]', 'key'],
  ['Namespace name with dot', 'Namespace', (o) => (o.metadata.name = 'a.b'), 'metadata.name', 'RFC 1123 label'],
];

for (const [name, kind, mutate, path, fragment] of CASES) {
  test(`${kind}: ${name}`, () => {
    const o = structuredClone(BASE[kind]!);
    mutate(o);
    const errors = validate(o);
    const hit = errors.find((e) => e.path === path && e.message.includes(fragment));
    assert.ok(hit, `expected ${path}: …${fragment}… in\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n') || '  (no errors)'}`);
  });
}

test('unknown kind and non-objects are described, never thrown', () => {
  assert.match(validate({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })[0]!.message, /unsupported kind 'Pod'/);
  for (const bad of [null, 42, 'str', [], { kind: 7 }, { kind: 'Gateway', metadata: 'x', spec: [] }]) {
    assert.ok(validate(bad).length > 0);
  }
});

test('applyDefaults fills the CRD defaults without touching the input', () => {
  const input = { apiVersion: `${GW}/v1`, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [{ backendRefs: [{ name: 's', port: 80 }], filters: [{ type: 'RequestRedirect', requestRedirect: {} }] }] } };
  const out = applyDefaults(input) as Obj;
  assert.deepEqual(out.spec.rules[0].matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
  assert.deepEqual(out.spec.rules[0].backendRefs[0], { name: 's', port: 80, group: '', kind: 'Service', weight: 1 });
  assert.equal(out.spec.rules[0].filters[0].requestRedirect.statusCode, 302);
  assert.equal((input.spec.rules[0] as Obj).matches, undefined);
  const gw = applyDefaults(BASE.Gateway) as Obj;
  assert.deepEqual(gw.spec.listeners[2].allowedRoutes, { namespaces: { from: 'Same' } });
  assert.equal(gw.spec.listeners[1].tls.mode, 'Terminate');
  assert.deepEqual(applyDefaults({ kind: 'HTTPRoute', metadata: { name: 'r' }, spec: {} } as Obj).spec.rules, [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
});

test('applyDefaults shares what it leaves alone: the input objects where no default applied, new ones on the paths that changed', () => {
  const eps = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e', namespace: 'n', labels: { 'kubernetes.io/service-name': 's' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] };
  const out = applyDefaults(eps) as Obj;
  assert.deepEqual(out, applyDefaults(structuredClone(eps)));
  assert.equal(out.endpoints, eps.endpoints);
  assert.equal(out.metadata, eps.metadata);
  const route = { apiVersion: `${GW}/v1`, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { hostnames: ['a.example'], rules: [{ matches: [{ path: { type: 'Exact', value: '/x' } }], backendRefs: [{ name: 's', port: 80 }] }, { matches: [{ path: { type: 'Exact', value: '/y' } }] }] } };
  const r = applyDefaults(route) as Obj;
  assert.notEqual(r.spec, route.spec);
  assert.equal(r.spec.hostnames, route.spec.hostnames);
  assert.notEqual(r.spec.rules[0], route.spec.rules[0]); // its backendRef got group, kind and weight
  assert.equal(r.spec.rules[0].matches, route.spec.rules[0]!.matches);
  assert.equal(r.metadata, route.metadata);
  assert.equal((route.spec.rules[0]!.backendRefs[0] as Obj).weight, undefined);
});

test('ListenerSet: the listener rules of a Gateway, parentRef defaults, named for the ListenerSet', () => {
  const ls = structuredClone(BASE.ListenerSet!);
  ls.spec.listeners.push({ name: 'http', port: 9090, protocol: 'HTTP' }, { name: 'tcp', port: 9000, protocol: 'TCP', hostname: 'x.example.com' });
  const errors = validate(ls).map((e) => `${e.path}: ${e.message}`);
  assert.ok(errors.some((e) => /^spec\.listeners\[2\]\.name: Listener name must be unique within the ListenerSet/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /^spec\.listeners\[3\]\.hostname: hostname must not be specified/.test(e)), errors.join('\n'));
  assert.match(validate({ ...BASE.ListenerSet!, spec: { listeners: BASE.ListenerSet!.spec.listeners } }).map((e) => `${e.path}: ${e.message}`).join('\n'), /spec.*parentRef/);
  const filled = applyDefaults(BASE.ListenerSet) as Obj;
  assert.deepEqual(filled.spec.parentRef, { group: GW, kind: 'Gateway', name: 'gw', namespace: 'default' });
  assert.deepEqual(filled.spec.listeners[0].allowedRoutes, { namespaces: { from: 'Same' } });
  const gw = applyDefaults({ ...BASE.Gateway!, spec: { ...BASE.Gateway!.spec, allowedListeners: { namespaces: {} } } }) as Obj;
  assert.deepEqual(gw.spec.allowedListeners, { namespaces: { from: 'None' } });
});
