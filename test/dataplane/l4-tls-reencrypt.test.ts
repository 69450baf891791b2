// TLSRoute behind a Terminate listener to a Service with a BackendTLSPolicy: the gateway
// decrypts the client's TLS and encrypts again towards the backend, verifying the backend's
// certificate against the policy (CA, hostname as SNI and identity, subjectAltNames).
// A Passthrough listener never does: the client's TLS reaches the backend as-is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { createL4Server } from '../../src/dataplane/l4/index.js';
import type { Cluster, Listener, UpstreamTLS } from '../../src/ir/types.js';
import { cluster, clustersOf, freePort, LOOPBACK, tlsListener, tlsPort, tlsRoute, to } from '../fixtures/l4.js';
import { pki } from '../fixtures/pki.js';

/** TLS echo: answers `<tag>|<SNI it was asked for>|<everything received>` once the client ends. */
async function tlsEcho(tag: string, cert: { certPem: string; keyPem: string }): Promise<{ port: number; handshakes: () => number; close: () => Promise<void> }> {
  const socks = new Set<net.Socket>();
  let handshakes = 0;
  const srv = tls.createServer({ cert: cert.certPem, key: cert.keyPem, allowHalfOpen: true }, (s) => {
    handshakes++;
    let got = '';
    s.on('error', () => {});
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('end', () => s.end(`${tag}|${s.servername || '-'}|${got}`));
  });
  srv.on('connection', (s: net.Socket) => socks.add(s));
  // A listener here keeps Node from destroying the failed socket, and allowHalfOpen keeps it open after the gateway's FIN.
  srv.on('tlsClientError', (_err, s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, LOOPBACK, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    handshakes: () => handshakes,
    close: () =>
      new Promise((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** A client of the gateway's listener (trusting the gateway's certificate): sends `msg`, ends, collects the answer. */
function exchange(port: number, servername: string, msg: string, ca = pki.caPem): Promise<{ ok: boolean; body: string }> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: LOOPBACK, port, servername, ca }, () => c.end(msg));
    let body = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (body += d));
    c.on('end', () => resolve({ ok: true, body }));
    c.on('error', () => resolve({ ok: false, body }));
  });
}

const policy = (p: Partial<UpstreamTLS>): UpstreamTLS => ({ sni: 'backend.internal', caPem: pki.caPem, useSystemCAs: false, subjectAltNames: [], ...p });
const withTls = (c: Cluster, t: UpstreamTLS): Cluster => ({ ...c, tls: t });

function terminate(routes: ReturnType<typeof tlsRoute>[]): Listener {
  return tlsListener('term', '*.gw.example.com', routes, {
    mode: 'Terminate',
    certificates: [{ secret: 'default/gw-cert', ...pki.gateway, dnsNames: ['gw.example.com', '*.gw.example.com'] }],
  });
}

test('Terminate + BackendTLSPolicy: re-encrypted to the backend, its certificate checked against the policy CA and hostname (SNI)', async () => {
  const good = await tlsEcho('good', pki.backend);
  const rogue = await tlsEcho('rogue', pki.rogue);
  const port = await freePort('tcp');
  const lines: string[] = [];
  const cs = clustersOf(
    withTls(cluster('good', [good.port]), policy({})),
    // Same CA, but the policy's hostname is not on the certificate.
    withTls(cluster('wrongname', [good.port]), policy({ sni: 'abc.example.com' })),
    // Hostname as SNI only: subjectAltNames decide the identity (GEP-1897).
    withTls(cluster('san', [good.port]), policy({ sni: 'abc.example.com', subjectAltNames: [{ type: 'Hostname', value: 'foo.example.com' }] })),
    // Certificate from a CA the policy does not trust.
    withTls(cluster('rogue', [rogue.port]), policy({})),
  );
  const l = terminate([
    tlsRoute('good', ['good.gw.example.com'], [to('good')]),
    tlsRoute('wrongname', ['wrongname.gw.example.com'], [to('wrongname')]),
    tlsRoute('san', ['san.gw.example.com'], [to('san')]),
    tlsRoute('rogue', ['rogue.gw.example.com'], [to('rogue')]),
  ]);
  const srv = await createL4Server(tlsPort(port, [l]), cs, { accessLog: (line) => lines.push(line) });
  try {
    assert.deepEqual(await exchange(port, 'good.gw.example.com', 'hello'), { ok: true, body: 'good|backend.internal|hello' });
    assert.deepEqual(await exchange(port, 'san.gw.example.com', 'x'), { ok: true, body: 'good|abc.example.com|x' });

    const wrongname = await exchange(port, 'wrongname.gw.example.com', 'secret');
    assert.equal(wrongname.body, '', 'nothing may come back from a backend whose certificate does not carry the policy hostname');
    const r = await exchange(port, 'rogue.gw.example.com', 'secret');
    assert.equal(r.body, '', 'a backend certificate from an untrusted CA is refused');
    assert.equal(rogue.handshakes(), 0, 'the rogue backend never completes a handshake with the gateway');

    for (let i = 0; i < 100 && lines.length < 4; i++) await sleep(20);
    const refused = lines.map((x) => JSON.parse(x) as { authority: string; refused: string | null });
    const why = (host: string): string => refused.find((x) => x.authority === host)?.refused ?? '';
    assert.equal(why('good.gw.example.com'), '');
    assert.match(why('wrongname.gw.example.com'), /backend wrongname: TLS to backend \(BackendTLSPolicy\): .*abc\.example\.com/);
    assert.match(why('rogue.gw.example.com'), /backend rogue: TLS to backend \(BackendTLSPolicy\): /);
    for (const line of lines) assert.doesNotMatch(line, /PRIVATE KEY/);
  } finally {
    await srv.close();
    await good.close();
    await rogue.close();
  }
});

test("Passthrough ignores a cluster tls setting: the client's own TLS reaches the backend as-is", async () => {
  const b = await tlsEcho('pass', pki.backend);
  const port = await freePort('tcp');
  // Even with a policy that would refuse this backend (wrong CA), passthrough does not touch the stream.
  const cs = clustersOf(withTls(cluster('b', [b.port]), policy({ caPem: pki.otherCaPem })));
  const l = tlsListener('pass', 'foo.example.com', [tlsRoute('p', ['foo.example.com'], [to('b')])]);
  const srv = await createL4Server(tlsPort(port, [l]), cs);
  try {
    // The client verifies the backend's certificate itself (SAN foo.example.com, test CA).
    assert.deepEqual(await exchange(port, 'foo.example.com', 'raw'), { ok: true, body: 'pass|foo.example.com|raw' });
  } finally {
    await srv.close();
    await b.close();
  }
});
