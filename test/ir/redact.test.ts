// Key material stays inside the engine (issue 10, defect 1): the translator seals keys in the
// IR, the engine's transport alone carries them, and what people see (redact) has the
// certificate's fingerprint and no key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import YAML from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { validate } from '../../src/api/validate.js';
import { decodeForEngine, encodeForEngine, sealKey } from '../../src/ir/keys.js';
import { certificateFingerprint, redact, REDACTED_KEY, scrubSecrets } from '../../src/ir/redact.js';
import type { IR } from '../../src/ir/types.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { pki } from '../fixtures/pki.js';
import { assertNoKeyMaterial, fingerprintOf, tlsGatewayObjects } from '../fixtures/secrets.js';

function translated(): IR {
  const objs = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    ...tlsGatewayObjects({ namespace: 'default', gatewayClassName: 'portico', ports: { https: 8443, tls: 8444, http: 8080 }, backend: { address: '127.0.0.1', port: 9443 } }),
  ];
  return translate(new Snapshot(objs.map((o) => ({ resource: o as unknown as Resource, origin: 'test' }))), { addressFor: () => '127.0.0.1' }).ir;
}

/** Every object in the IR that carries a certificate: listener certificates and backend client certificates. */
function holders(ir: IR): { certPem: string; keyPem: string }[] {
  const out: { certPem: string; keyPem: string }[] = [];
  for (const p of ir.ports) for (const l of p.listeners) out.push(...(l.tls?.certificates ?? []));
  for (const c of Object.values(ir.clusters)) if (c.tls?.clientCertificate) out.push(c.tls.clientCertificate);
  return out;
}

test('the translator seals keys: the engine reads them, JSON, YAML, inspect, spreads and structuredClone do not', () => {
  const ir = translated();
  const certs = holders(ir);
  assert.deepEqual(
    certs.map((c) => c.keyPem).sort(),
    // The backend client certificate twice: the HTTP route's cluster and the TLSRoute's re-encrypting one.
    [pki.gateway.keyPem, pki.gateway.keyPem, pki.client.keyPem, pki.client.keyPem].sort(),
    'HTTPS and TLS listener certificates and the backend client certificate each carry their key',
  );
  assertNoKeyMaterial(JSON.stringify(ir), 'JSON.stringify(ir)');
  assertNoKeyMaterial(YAML.stringify(ir), 'YAML.stringify(ir)');
  assertNoKeyMaterial(inspect(ir, { depth: Infinity }), 'util.inspect(ir)');
  assertNoKeyMaterial(JSON.stringify(structuredClone(ir)), 'structuredClone(ir)');
  assert.equal({ ...certs[0]! }.keyPem, undefined, 'a spread copy has no key');
});

test('encodeForEngine/decodeForEngine carry the keys across a process boundary, sealed again on arrival', () => {
  const ir = translated();
  const wire = encodeForEngine(ir);
  assert.ok(wire.includes('PRIVATE KEY'), 'the engine transport carries the key');
  const back = decodeForEngine(wire);
  assert.deepEqual(holders(back).map((c) => c.keyPem), holders(ir).map((c) => c.keyPem));
  assertNoKeyMaterial(JSON.stringify(back), 'JSON.stringify(decoded ir)');
  // an IR built by hand (tests) with a plain keyPem travels too
  const literal = { ports: [], clusters: {}, x: { certPem: 'c', keyPem: 'k' } } as unknown as IR;
  assert.equal((decodeForEngine(encodeForEngine(literal)) as unknown as { x: { keyPem: string } }).x.keyPem, 'k');
});

test('redact: every certificate shown by its SHA-256 fingerprint, no key and no PEM', () => {
  const ir = translated();
  const shown = JSON.stringify(redact(ir), null, 2);
  assertNoKeyMaterial(shown, 'redact(ir)');
  assert.ok(!shown.includes('"certPem"') && !shown.includes('"keyPem"'), shown);
  const gw = fingerprintOf(pki.gateway.certPem);
  const client = fingerprintOf(pki.client.certPem);
  assert.match(gw, /^sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(certificateFingerprint(pki.gateway.certPem), gw);
  assert.equal(shown.split(gw).length - 1, 2, 'the HTTPS and the TLS listener certificate');
  assert.ok(shown.includes(client), 'the backend client certificate');
  // also when an IR carries a plain (unsealed) keyPem, as one built by hand would
  const literal = { certificates: [{ secret: 'ns/s', ...pki.gateway, dnsNames: [] }] };
  assert.deepEqual(redact(literal), { certificates: [{ secret: 'ns/s', fingerprint: gw, dnsNames: [] }] });
  assert.deepEqual(literal.certificates[0]!.keyPem, pki.gateway.keyPem, 'the input is not changed');
});

test('scrubSecrets: PEM private keys (whole, cut short, base64) replaced, the rest kept', () => {
  const pem = pki.gateway.keyPem;
  assert.equal(scrubSecrets(`before ${pem} after`), `before ${REDACTED_KEY}\n after`);
  assert.equal(scrubSecrets(`'${pem.slice(0, 80)}…' is not base64`), `'${REDACTED_KEY}`);
  const rsa = '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----';
  assert.equal(scrubSecrets(`x ${rsa} y`), `x ${REDACTED_KEY} y`);
  assertNoKeyMaterial(scrubSecrets(`data: ${Buffer.from(pem).toString('base64')} end`), 'scrubbed base64');
  assert.equal(scrubSecrets('nothing to see'), 'nothing to see');
  assert.equal(scrubSecrets(pki.caPem), pki.caPem, 'certificates are public and kept');
});

test('a Secret with a PEM where base64 belongs: the validation message does not quote it', () => {
  const [, , , , , , , , , bad] = tlsGatewayObjects({
    namespace: 'default', gatewayClassName: 'portico', ports: { https: 1, tls: 2, http: 3 }, backend: { address: '127.0.0.1', port: 4 }, withMalformedSecret: true,
  });
  const errors = validate(bad as unknown as Resource);
  assert.ok(errors.length > 0, 'rejected');
  assertNoKeyMaterial(JSON.stringify(errors), 'validation errors');
  assert.match(JSON.stringify(errors), /characters, not shown/);
  const asString = validate({ ...(bad as object), data: undefined, stringData: pki.gateway.keyPem } as unknown as Resource);
  assertNoKeyMaterial(JSON.stringify(asString), 'validation errors (stringData not a map)');
});

test('sealKey leaves the holder usable as before', () => {
  const c = sealKey({ secret: 'a/b', certPem: 'C' }, 'K');
  assert.equal(c.keyPem, 'K');
  assert.deepEqual(Object.keys(c), ['secret', 'certPem']);
});
