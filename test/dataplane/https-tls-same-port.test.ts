// HTTPS and TLS Passthrough listeners on one port (translated from manifests, served by the
// engine): the ClientHello's SNI sends a connection to the TLSRoute backend (the client verifies
// the backend's own certificate end to end) or into HTTPS, by the most specific listener hostname
// across both protocols; no SNI means HTTPS. Dropping the TLS listener turns the socket back
// into a plain HTTPS port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { createEngine } from '../../src/dataplane/engine.js';
import { echoBackend } from './helpers.js';
import { freePort, LOOPBACK, tcpEcho, tlsBackend } from '../fixtures/l4.js';
import { pki } from '../fixtures/pki.js';
import { irOf, service } from '../fixtures/translate.js';

const indent = (pem: string): string => pem.replace(/^/gm, '    ');

function manifests(port: number, withPassthrough: boolean, httpTarget: number, tlsTarget: number): string[] {
  const passthrough = `
    - { name: db, port: ${port}, protocol: TLS, hostname: foo.example.com, tls: { mode: Passthrough } }
    - { name: wild, port: ${port}, protocol: TLS, hostname: "*.wild.example.com", tls: { mode: Passthrough } }`;
  return [
    `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  listeners:
    - { name: web, port: ${port}, protocol: HTTPS, tls: { certificateRefs: [{ name: gw-cert }] } }
    - { name: exact, port: ${port}, protocol: HTTPS, hostname: a.wild.example.com, tls: { certificateRefs: [{ name: gw-cert }] } }${withPassthrough ? passthrough : ''}
---
apiVersion: v1
kind: Secret
metadata: { name: gw-cert, namespace: default }
type: kubernetes.io/tls
stringData:
  tls.crt: |
${indent(pki.gateway.certPem)}
  tls.key: |
${indent(pki.gateway.keyPem)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: web }, { name: gw, sectionName: exact }]
  rules: [{ backendRefs: [{ name: http-svc, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: { name: db, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: db }, { name: gw, sectionName: wild }]
  rules: [{ backendRefs: [{ name: tls-svc, port: 443 }] }]
`,
    service('http-svc', 80, httpTarget),
    service('tls-svc', 443, tlsTarget),
  ];
}

type Outcome = { ok: true; body: string; authorized: boolean; cert: string } | { ok: false; error: string };

/** Raw TLS: what a passthrough backend answers (`<tag>:<sni>`); `authorized` = the certificate verified against the test CA. */
function tlsGet(port: number, servername: string | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: LOOPBACK, port, servername, ca: pki.caPem, rejectUnauthorized: false });
    let body = '';
    let authorized = false;
    let cert = '';
    c.setEncoding('utf8');
    c.on('secureConnect', () => {
      authorized = c.authorized;
      cert = String(c.getPeerCertificate().subjectaltname ?? '');
    });
    c.on('data', (d: string) => (body += d));
    c.on('end', () => resolve({ ok: true, body, authorized, cert }));
    c.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

/** HTTPS GET with this SNI and Host; the answering backend's name, or the status. */
function httpsGet(port: number, servername: string | undefined, host: string): Promise<{ status: number; backend: string; cert: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: LOOPBACK, port, path: '/x', headers: { host }, ...(servername ? { servername } : {}), ca: pki.caPem, rejectUnauthorized: false, agent: false },
      (res) => {
        const cert = String((res.socket as tls.TLSSocket).getPeerCertificate().subjectaltname ?? '');
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: String(res.headers['x-backend'] ?? ''), cert }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('HTTPS and TLS Passthrough on one port: SNI picks passthrough or HTTPS', async () => {
  const web = await echoBackend('web');
  const db = await tlsBackend('db', pki.backend);
  const port = await freePort('tcp');
  const engine = createEngine({});
  try {
    const ir = irOf(...manifests(port, true, web.port, db.port));
    assert.deepEqual(
      ir.ports.map((p) => [p.name, p.listeners.map((l) => `${l.protocol} ${l.hostname ?? '*'}`)]),
      [[`127.0.0.1:${port}/HTTPS+TLS`, ['HTTPS a.wild.example.com', 'TLS foo.example.com', 'TLS *.wild.example.com', 'HTTPS *']]],
    );
    assert.deepEqual((await engine.apply(ir)).unbound, []);

    // Passthrough: the backend's own certificate reaches the client, which verifies it.
    const pass = await tlsGet(port, 'foo.example.com');
    assert.equal(pass.ok, true);
    assert.ok(pass.ok && pass.body === 'db:foo.example.com' && pass.authorized, JSON.stringify(pass));
    const wild = await tlsGet(port, 'b.wild.example.com');
    assert.ok(wild.ok && wild.body === 'db:b.wild.example.com', JSON.stringify(wild));
    assert.deepEqual(db.seen, ['foo.example.com', 'b.wild.example.com']);

    // The exact HTTPS hostname is more specific than the TLS wildcard: terminated here, routed by HTTP.
    const exact = await httpsGet(port, 'a.wild.example.com', 'a.wild.example.com');
    assert.deepEqual([exact.status, exact.backend], [200, 'web']);
    assert.match(exact.cert, /gw\.example\.com/);
    // Any other name, and no SNI at all, are HTTPS with the listener's certificate.
    const other = await httpsGet(port, 'www.gw.example.com', 'www.gw.example.com');
    assert.deepEqual([other.status, other.backend], [200, 'web']);
    const noSni = await httpsGet(port, undefined, 'plain.example.com');
    assert.deepEqual([noSni.status, noSni.backend], [200, 'web']);
    assert.equal(db.seen.length, 2);

    // Without the TLS listeners the port is plain HTTPS again (a new socket, same port number).
    const plain = irOf(...manifests(port, false, web.port, db.port));
    assert.deepEqual(plain.ports.map((p) => p.name), [`127.0.0.1:${port}/HTTPS`]);
    assert.deepEqual((await engine.apply(plain)).unbound, []);
    const now = await httpsGet(port, 'foo.example.com', 'foo.example.com');
    assert.deepEqual([now.status, now.backend], [200, 'web']);
    assert.match(now.cert, /gw\.example\.com/);
    assert.equal(db.seen.length, 2);
  } finally {
    await engine.close(100);
    await web.close();
    await db.close();
  }
});

test('a TLS Terminate listener shares the HTTPS port too; TLS connections get an L4 access log line, HTTPS ones an HTTP line', async () => {
  const web = await echoBackend('web');
  const echo = await tcpEcho('t');
  const port = await freePort('tcp');
  const lines: string[] = [];
  const engine = createEngine({ accessLog: (l) => lines.push(l) });
  const docs = manifests(port, false, web.port, echo.port);
  docs[0] = docs[0]!
    .replace(
      /(- \{ name: exact[^\n]*\n)/,
      `$1    - { name: term, port: ${port}, protocol: TLS, hostname: term.gw.example.com, tls: { mode: Terminate, certificateRefs: [{ name: gw-cert }] } }\n`,
    )
    .replace('parentRefs: [{ name: gw, sectionName: db }, { name: gw, sectionName: wild }]', 'parentRefs: [{ name: gw, sectionName: term }]');
  try {
    const ir = irOf(...docs);
    assert.deepEqual(ir.ports.map((p) => p.name), [`127.0.0.1:${port}/HTTPS+TLS`]);
    assert.deepEqual((await engine.apply(ir)).unbound, []);

    // Terminated with the listener's certificate; the cleartext reaches the TCP backend.
    const got = await new Promise<{ data: string; authorized: boolean }>((resolve, reject) => {
      const c = tls.connect({ host: LOOPBACK, port, servername: 'term.gw.example.com', ca: pki.caPem });
      let data = '';
      c.setEncoding('utf8');
      c.on('secureConnect', () => c.end('ping'));
      c.on('data', (d: string) => (data += d));
      c.on('end', () => resolve({ data, authorized: c.authorized }));
      c.on('error', reject);
    });
    assert.deepEqual(got, { data: 'ping|t', authorized: true });
    const https1 = await httpsGet(port, 'www.gw.example.com', 'www.gw.example.com');
    assert.deepEqual([https1.status, https1.backend], [200, 'web']);

    await engine.close(100);
    const tlsLines = lines.filter((l) => l.includes('"protocol":"TLS"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(tlsLines.length, 1, lines.join('\n'));
    const t = tlsLines[0]!;
    assert.deepEqual([t.authority, t.route, t.rule, t.backend, t.refused], ['term.gw.example.com', 'TLSRoute/default/db', 0, 'default/tls-svc:443/tcp', null]);
    assert.equal(lines.filter((l) => l.includes('"path":"/x"')).length, 1, lines.join('\n'));
  } finally {
    await engine.close(100);
    await web.close();
    await echo.close();
  }
});
