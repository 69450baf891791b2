// BackendTLSPolicy upstream options against real TLS servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { upstreamTlsOptions } from '../../src/dataplane/upstream/tls.js';
import type { UpstreamTLS } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';

interface Seen { sni: string | false }

async function tlsServer(cert: { certPem: string; keyPem: string }): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const srv = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    seen.push({ sni: s.servername });
    s.end('hello from backend');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    seen,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

function dial(port: number, policy: UpstreamTLS): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...upstreamTlsOptions(policy) });
    let body = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (body += d));
    s.on('end', () => resolve(body));
    s.on('error', reject);
  });
}

const policy = (p: Partial<UpstreamTLS>): UpstreamTLS => ({
  sni: 'backend.internal',
  caPem: pki.caPem,
  useSystemCAs: false,
  subjectAltNames: [],
  ...p,
});

test('connects with the policy hostname as SNI and the policy CA', async () => {
  const b = await tlsServer(pki.backend);
  try {
    assert.equal(await dial(b.port, policy({})), 'hello from backend');
    assert.deepEqual(b.seen, [{ sni: 'backend.internal' }]);
  } finally {
    await b.close();
  }
});

test('rejects a backend whose certificate is signed by another CA', async () => {
  const b = await tlsServer(pki.rogue);
  try {
    await assert.rejects(dial(b.port, policy({})), (e: NodeJS.ErrnoException) => {
      assert.match(String(e.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
      return true;
    });
  } finally {
    await b.close();
  }
});

test('rejects when the CA bundle is a different CA than the one that signed the backend', async () => {
  const b = await tlsServer(pki.backend);
  try {
    await assert.rejects(dial(b.port, policy({ caPem: pki.otherCaPem })));
  } finally {
    await b.close();
  }
});

test('system CAs do not trust the test CA', async () => {
  const b = await tlsServer(pki.backend);
  try {
    await assert.rejects(dial(b.port, policy({ caPem: undefined, useSystemCAs: true })));
  } finally {
    await b.close();
  }
});

test('rejects when the certificate does not carry the policy hostname', async () => {
  const b = await tlsServer(pki.backend);
  try {
    await assert.rejects(dial(b.port, policy({ sni: 'other.internal' })), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      return true;
    });
  } finally {
    await b.close();
  }
});

test('wildcard certificate names match the policy hostname', async () => {
  const b = await tlsServer(pki.backend);
  try {
    assert.equal(await dial(b.port, policy({ sni: 'api.wild.example.com' })), 'hello from backend');
    assert.equal(b.seen[0]!.sni, 'api.wild.example.com');
  } finally {
    await b.close();
  }
});

test('subjectAltNames replace the hostname check: Hostname and URI', async () => {
  const b = await tlsServer(pki.backend);
  try {
    // SNI names something the cert lacks, but a listed SAN matches: accepted (spec: SANs take over).
    const viaHost = policy({ sni: 'not-in-cert.internal', subjectAltNames: [{ type: 'Hostname', value: 'foo.example.com' }] });
    assert.equal(await dial(b.port, viaHost), 'hello from backend');
    const viaUri = policy({ sni: 'not-in-cert.internal', subjectAltNames: [{ type: 'URI', value: 'spiffe://portico.test/backend' }] });
    assert.equal(await dial(b.port, viaUri), 'hello from backend');
    // Hostname in cert but not among listed SANs: rejected.
    const wrong = policy({ subjectAltNames: [{ type: 'URI', value: 'spiffe://portico.test/other' }, { type: 'Hostname', value: 'bar.example.com' }] });
    await assert.rejects(dial(b.port, wrong), /subjectAltNames/);
  } finally {
    await b.close();
  }
});
