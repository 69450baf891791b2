// sliceForGateway: the IR one Gateway's data plane receives, and nothing of other Gateways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sealKey } from '../../src/ir/keys.js';
import { gatewayOfListener, gatewaysInIR, sliceForGateway, sliceForGateways } from '../../src/ir/slice.js';
import type { Certificate, Cluster, IR, Listener, Port } from '../../src/ir/types.js';

const cert = (secret: string): Certificate => sealKey({ secret, certPem: `CERT ${secret}`, dnsNames: ['x'] }, `KEY ${secret}`) as Certificate;
const cl = (name: string, extra: Partial<Cluster> = {}): Cluster => ({ name, protocol: 'http1', endpoints: [{ address: '10.0.0.1', port: 80 }], ...extra });
const src = { kind: 'HTTPRoute' as const, namespace: 'ns', name: 'r', rule: 0 };

function httpListener(name: string, clusters: string[], extra: Partial<Listener> = {}): Listener {
  return {
    name,
    protocol: 'HTTP',
    virtualHosts: [{ hostname: '*', routes: clusters.map((c) => ({ source: src, match: {}, filters: [], backends: [{ cluster: c, weight: 1 }] })) }],
    ...extra,
  };
}

function fullIR(): IR {
  const shared: Port = {
    name: '0.0.0.0:443/HTTPS',
    address: '0.0.0.0',
    port: 443,
    protocol: 'HTTPS',
    listeners: [
      httpListener('team-a/gw/https', ['team-a/web:80'], { protocol: 'HTTPS', hostname: 'a.example.com', tls: { mode: 'Terminate', certificates: [cert('team-a/a-cert')] } }),
      httpListener('team-b/gw/https', ['team-b/web:80'], { protocol: 'HTTPS', hostname: 'b.example.com', tls: { mode: 'Terminate', certificates: [cert('team-b/b-cert')] } }),
    ],
  };
  const aOnly: Port = {
    name: '0.0.0.0:8080/HTTP',
    address: '0.0.0.0',
    port: 8080,
    protocol: 'HTTP',
    listeners: [
      {
        name: 'team-a/gw/http',
        protocol: 'HTTP',
        virtualHosts: [
          {
            hostname: '*',
            routes: [
              {
                source: src,
                match: {},
                filters: [{ type: 'RequestMirror', backend: { cluster: 'team-a/mirror:80' }, fraction: 1 }],
                backends: [
                  { cluster: 'team-a/api:80', weight: 1, filters: [{ type: 'RequestMirror', backend: { cluster: 'team-a/backend-mirror:80' }, fraction: 0.5 }] },
                  { invalid: { status: 500, reason: 'missing' }, weight: 1 },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  const bTcp: Port = {
    name: '0.0.0.0:5432/TCP',
    address: '0.0.0.0',
    port: 5432,
    protocol: 'TCP',
    listeners: [{ name: 'team-b/gw/db', protocol: 'TCP', l4Route: { source: { ...src, kind: 'TCPRoute' }, backends: [{ cluster: 'team-b/db:5432', weight: 1 }] } }],
  };
  const aTls: Port = {
    name: '0.0.0.0:8443/TLS',
    address: '0.0.0.0',
    port: 8443,
    protocol: 'TLS',
    listeners: [{ name: 'team-a/gw/tls', protocol: 'TLS', tls: { mode: 'Passthrough', certificates: [] }, tlsRoutes: [{ source: { ...src, kind: 'TLSRoute' }, hostnames: ['*'], backends: [{ cluster: 'team-a/tls:443', weight: 1 }] }] }],
  };
  const clusters: Cluster[] = [
    cl('team-a/api:80'),
    cl('team-a/backend-mirror:80'),
    cl('team-a/mirror:80'),
    cl('team-a/tls:443', { protocol: 'tcp' }),
    cl('team-a/unused:80'),
    cl('team-a/web:80', { tls: { sni: 'web', useSystemCAs: true, subjectAltNames: [], clientCertificate: sealKey({ secret: 'team-a/client', certPem: 'CERT client' }, 'KEY client') } }),
    cl('team-b/db:5432', { protocol: 'tcp' }),
    cl('team-b/web:80'),
  ];
  return { ports: [shared, aOnly, bTcp, aTls], clusters: Object.fromEntries(clusters.map((c) => [c.name, c])) };
}

test('two Gateways sharing a port: each slice has the port with only its own listener', () => {
  const ir = fullIR();
  const a = sliceForGateway(ir, 'team-a/gw');
  const b = sliceForGateway(ir, 'team-b/gw');
  assert.deepEqual(a.ports.map((p) => p.name), ['0.0.0.0:443/HTTPS', '0.0.0.0:8080/HTTP', '0.0.0.0:8443/TLS']);
  assert.deepEqual(b.ports.map((p) => p.name), ['0.0.0.0:443/HTTPS', '0.0.0.0:5432/TCP']);
  assert.deepEqual(a.ports[0]!.listeners.map((l) => l.name), ['team-a/gw/https']);
  assert.deepEqual(b.ports[0]!.listeners.map((l) => l.name), ['team-b/gw/https']);
  // The full IR is not changed.
  assert.equal(ir.ports[0]!.listeners.length, 2);
});

test('only the clusters its routes, backend filters and mirrors reference, in the full IR order', () => {
  const ir = fullIR();
  assert.deepEqual(Object.keys(sliceForGateway(ir, 'team-a/gw').clusters), [
    'team-a/api:80',
    'team-a/backend-mirror:80',
    'team-a/mirror:80',
    'team-a/tls:443',
    'team-a/web:80',
  ]);
  assert.deepEqual(Object.keys(sliceForGateway(ir, 'team-b/gw').clusters), ['team-b/db:5432', 'team-b/web:80']);
});

test('only its own certificates, with their sealed keys still attached', () => {
  const ir = fullIR();
  const a = sliceForGateway(ir, 'team-a/gw');
  const b = sliceForGateway(ir, 'team-b/gw');
  const secrets = (s: IR) => [
    ...s.ports.flatMap((p) => p.listeners.flatMap((l) => l.tls?.certificates ?? [])).map((c) => c.secret),
    ...Object.values(s.clusters).flatMap((c) => (c.tls?.clientCertificate ? [c.tls.clientCertificate.secret] : [])),
  ];
  assert.deepEqual(secrets(a), ['team-a/a-cert', 'team-a/client']);
  assert.deepEqual(secrets(b), ['team-b/b-cert']);
  assert.equal(a.ports[0]!.listeners[0]!.tls!.certificates[0]!.keyPem, 'KEY team-a/a-cert');
  assert.equal(a.clusters['team-a/web:80']!.tls!.clientCertificate!.keyPem, 'KEY client');
  assert.ok(!JSON.stringify(b).includes('team-a'), 'nothing of team-a in team-b\'s slice');
});

test('an unknown Gateway gets an empty IR; unchanged ports are the same objects', () => {
  const ir = fullIR();
  assert.deepEqual(sliceForGateway(ir, 'nobody/gw'), { ports: [], clusters: {} });
  const b = sliceForGateway(ir, 'team-b/gw');
  assert.equal(b.ports[1], ir.ports[2], 'a port the Gateway owns alone is not copied');
  assert.equal(b.clusters['team-b/db:5432'], ir.clusters['team-b/db:5432']);
});

test('a data plane of every Gateway gets the IR itself; a cluster no listener names is still left out', () => {
  const full = fullIR();
  const { 'team-a/unused:80': unused, ...named } = full.clusters;
  assert.ok(unused, 'the fixture has a cluster no route names');
  const ir = { ...full, clusters: named };
  const all = sliceForGateways(ir, new Set(gatewaysInIR(ir)));
  assert.equal(all.ports, ir.ports);
  assert.equal(all.clusters, ir.clusters, 'the same record: the config stream\'s encoder compares by identity first');
  const sliced = sliceForGateways(full, new Set(gatewaysInIR(full)));
  assert.equal(sliced.ports, full.ports);
  assert.deepEqual(Object.keys(sliced.clusters), Object.keys(named));
});

test('gateway names from listener names', () => {
  assert.equal(gatewayOfListener('ns/gw/listener'), 'ns/gw');
  assert.deepEqual(gatewaysInIR(fullIR()), ['team-a/gw', 'team-b/gw']);
});

test('a mixed HTTPS+TLS port of two Gateways: the TLS-only Gateway gets a TLS port, the HTTPS-only one an HTTPS port', () => {
  const tlsListener: Listener = { name: 'ns/passthrough/tls', protocol: 'TLS', hostname: 'abc.example.com', tlsRoutes: [{ source: { ...src, kind: 'TLSRoute' }, hostnames: ['abc.example.com'], backends: [{ cluster: 'ns/tls-backend:443', weight: 1 }] }] };
  const httpsListener = httpListener('ns/web/https', ['ns/web:80'], { protocol: 'HTTPS', hostname: 'web.example.com', tls: { mode: 'Terminate', certificates: [cert('ns/web-cert')] } });
  const mixed: IR = {
    ports: [{ name: '0.0.0.0:443/HTTPS+TLS', address: '0.0.0.0', port: 443, protocol: 'HTTPS', listeners: [httpsListener, tlsListener] }],
    clusters: { 'ns/tls-backend:443': cl('ns/tls-backend:443', { protocol: 'tcp' }), 'ns/web:80': cl('ns/web:80') },
  };
  const tls = sliceForGateway(mixed, 'ns/passthrough');
  assert.deepEqual(tls.ports.map((p) => [p.name, p.protocol, p.listeners.map((l) => l.name)]), [['0.0.0.0:443/TLS', 'TLS', ['ns/passthrough/tls']]]);
  assert.deepEqual(Object.keys(tls.clusters), ['ns/tls-backend:443']);
  const https = sliceForGateway(mixed, 'ns/web');
  assert.deepEqual(https.ports.map((p) => [p.name, p.protocol, p.listeners.map((l) => l.name)]), [['0.0.0.0:443/HTTPS', 'HTTPS', ['ns/web/https']]]);
  // Both Gateways on one merged data plane keep the mixed port as it is.
  assert.equal(sliceForGateways(mixed, new Set(['ns/passthrough', 'ns/web'])).ports[0], mixed.ports[0]);
});

test('a few clusters replaced since the last slice: cut as that slice was, with the same replacements', async () => {
  const { keysBetween, patchRecord } = await import('../../src/ir/record-patch.js');
  const ir = fullIR();
  const a = new Set(['team-a/gw']);
  const first = sliceForGateways(ir, a);
  const last = { from: ir, gateways: a, ir: first };
  // One of team-a's clusters and one of team-b's get new endpoints.
  const moved = { ...ir.clusters['team-a/api:80']!, endpoints: [{ address: '10.9.9.9', port: 80 }] };
  const other = { ...ir.clusters['team-b/web:80']!, endpoints: [{ address: '10.8.8.8', port: 80 }] };
  const next: IR = { ports: ir.ports, clusters: patchRecord(ir.clusters, new Map([['team-a/api:80', moved], ['team-b/web:80', other]]))! };
  const again = sliceForGateways(next, a, last);
  assert.deepEqual(again, sliceForGateways(next, a));
  assert.equal(again.ports, first.ports);
  assert.deepEqual(keysBetween(again.clusters, first.clusters), ['team-a/api:80']);
  // Nothing of team-a's replaced: the last slice's record itself.
  const onlyB: IR = { ports: ir.ports, clusters: patchRecord(ir.clusters, new Map([['team-b/web:80', other]]))! };
  assert.equal(sliceForGateways(onlyB, a, last).clusters, first.clusters);
  // Other Gateways, other ports, or a record made otherwise: cut in full.
  const ab = new Set(['team-a/gw', 'team-b/gw']);
  assert.deepEqual(sliceForGateways(next, ab, last), sliceForGateways(next, ab));
  const otherPorts: IR = { ...next, ports: next.ports.slice(1) };
  assert.deepEqual(sliceForGateways(otherPorts, a, last), sliceForGateways(otherPorts, a));
  const copied: IR = { ports: ir.ports, clusters: { ...next.clusters } };
  assert.equal(keysBetween(sliceForGateways(copied, a, last).clusters, first.clusters), undefined);
});
