// The admin listeners (issue 10, defect 1): the configuration-revealing one is loopback unless
// the operator insists, the health one serves only what reveals nothing, and no reply of
// either carries key material, whatever an endpoint returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAdminAddress, isLoopback, json, parseHostPort, startAdminServer } from '../../src/observability/admin.js';
import { pki } from '../fixtures/pki.js';
import { assertNoKeyMaterial, fingerprintOf } from '../fixtures/secrets.js';

const endpoints = {
  '/healthz': () => ({ body: 'ok\n' }),
  '/readyz': () => ({ body: 'ok\n' }),
  '/metrics': () => ({ body: 'x 1\n' }),
  // a plain (unsealed) key, as an IR built by hand would carry
  '/ir': () => json({ certificates: [{ secret: 'ns/s', ...pki.gateway, dnsNames: ['gw.example.com'] }] }),
  '/raw': () => ({ body: `oops ${pki.client.keyPem}` }),
  '/boom': () => {
    throw new Error(`cannot load ${pki.client.keyPem}`);
  },
};

test('the admin listener refuses a non-loopback address unless allowed, and then warns', async () => {
  for (const ok of ['127.0.0.1:9090', '127.1.2.3:1', '[::1]:9090', 'localhost:9090', ':9090']) assert.equal(checkAdminAddress(ok, false), undefined, ok);
  for (const bad of ['0.0.0.0:9090', '[::]:9090', '10.0.0.1:9090', 'portico.example:9090']) {
    assert.throws(() => checkAdminAddress(bad, false), /not a loopback address.*--health.*--admin-allow-remote/s, bad);
    assert.match(checkAdminAddress(bad, true)!, /WARNING/);
  }
  await assert.rejects(startAdminServer('0.0.0.0:0', endpoints), /not a loopback address/);
  assert.deepEqual(parseHostPort(':9090', '--admin', '127.0.0.1'), { host: '127.0.0.1', port: 9090 });
  assert.deepEqual(parseHostPort(':9091', '--health'), { host: '0.0.0.0', port: 9091 });
  assert.ok(isLoopback('::ffff:127.0.0.1') && !isLoopback('::ffff:10.0.0.1'));
});

test('admin replies: JSON redacted to fingerprints, every body scrubbed, errors too', async () => {
  const admin = await startAdminServer('127.0.0.1:0', endpoints);
  try {
    const base = `http://127.0.0.1:${admin.address.port}`;
    for (const p of [...Object.keys(endpoints), '/nope']) assertNoKeyMaterial(await (await fetch(base + p)).text(), `GET ${p}`);
    const ir = (await (await fetch(`${base}/ir`)).json()) as { certificates: Record<string, unknown>[] };
    assert.deepEqual(ir.certificates[0], { secret: 'ns/s', fingerprint: fingerprintOf(pki.gateway.certPem), dnsNames: ['gw.example.com'] });
    assert.equal((await fetch(`${base}/boom`)).status, 500);
  } finally {
    await admin.close();
  }
});

test('the health listener serves /healthz, /readyz and /metrics only', async () => {
  const health = await startAdminServer('127.0.0.1:0', endpoints, { role: 'health' });
  try {
    const base = `http://127.0.0.1:${health.address.port}`;
    for (const p of ['/healthz', '/readyz', '/metrics']) assert.equal((await fetch(base + p)).status, 200, p);
    for (const p of ['/ir', '/raw', '/boom', '/status']) {
      const r = await fetch(base + p);
      assert.equal(r.status, 404, p);
      const body = await r.text();
      assert.ok(!body.includes('/ir'), `the 404 does not advertise admin paths: ${body}`);
    }
  } finally {
    await health.close();
  }
});
