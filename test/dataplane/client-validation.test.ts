// Gateway spec.tls.frontend on real sockets: an HTTPS listener with AllowValidOnly serves only
// clients whose certificate its CA signed; AllowInsecureFallback asks but serves everyone; a
// listener without validation on the same port is unaffected; the CA follows the listener the
// SNI selected; an apply can turn validation on for an open port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { ClientValidation, IR, Listener } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';
import { cluster, echoBackend, freePort, httpPort, listener, route, to, type Backend } from './helpers.js';

type Cert = { certPem: string; keyPem: string } | undefined;

describe('frontend client certificate validation', () => {
  let backend: Backend, engine: Engine, port: number;
  const tlsListener = (name: string, hostname: string | undefined, v?: ClientValidation): Listener => ({
    ...listener(name, [route({}, [to('a')])], hostname),
    protocol: 'HTTPS',
    tls: { mode: 'Terminate', certificates: [{ secret: 'default/gw', ...pki.gateway, dnsNames: ['gw.example.com'] }], ...(v ? { clientValidation: v } : {}) },
  });
  const irWith = (listeners: Listener[]): IR => ({ ports: [httpPort(port, listeners, 'HTTPS')], clusters: { a: cluster('a', [backend.port]) } });

  before(async () => {
    backend = await echoBackend('a');
    port = await freePort();
    engine = createEngine({});
    await engine.apply(
      irWith([
        tlsListener('strict', 'strict.example.org', { caPem: pki.caPem, mode: 'AllowValidOnly' }),
        tlsListener('other-ca', 'other.example.org', { caPem: pki.otherCaPem, mode: 'AllowValidOnly' }),
        tlsListener('fallback', 'fallback.example.org', { caPem: pki.caPem, mode: 'AllowInsecureFallback' }),
        tlsListener('open', undefined),
      ]),
    );
  });
  after(async () => {
    await engine.close(100);
    await backend.close();
  });

  /** Status of GET / over HTTP/1.1, or the error code when the connection failed. */
  const get = (sni: string, cert: Cert): Promise<number | string> =>
    new Promise((resolve) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: '/', servername: sni, headers: { host: sni }, rejectUnauthorized: false, agent: false, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end();
    });

  test('AllowValidOnly: a certificate the CA signed passes; none, or another CA\'s, gets no response', async () => {
    assert.equal(await get('strict.example.org', pki.client), 200);
    assert.equal(typeof (await get('strict.example.org', undefined)), 'string');
    assert.equal(typeof (await get('strict.example.org', pki.otherClient)), 'string');
  });

  test('the CA is the one of the listener the SNI selected', async () => {
    assert.equal(await get('other.example.org', pki.otherClient), 200);
    assert.equal(typeof (await get('other.example.org', pki.client)), 'string');
  });

  test('AllowInsecureFallback serves valid, invalid and absent certificates alike', async () => {
    assert.equal(await get('fallback.example.org', pki.client), 200);
    assert.equal(await get('fallback.example.org', pki.otherClient), 200);
    assert.equal(await get('fallback.example.org', undefined), 200);
  });

  test('a listener without validation on the same port serves clients without a certificate', async () => {
    assert.equal(await get('anything.example.org', undefined), 200);
  });

  test('HTTP/2 (ALPN h2) is held to the same rule', async () => {
    const h2 = (cert: Cert): Promise<number | string> =>
      new Promise((resolve) => {
        const s = http2.connect(`https://127.0.0.1:${port}`, { servername: 'strict.example.org', rejectUnauthorized: false, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        s.on('close', () => resolve('closed')); // first resolve wins: after a response this is a no-op
        const st = s.request({ ':path': '/', ':authority': 'strict.example.org' });
        st.on('response', (h) => {
          st.resume();
          st.on('end', () => {
            s.close();
            resolve(Number(h[':status']));
          });
        });
        st.on('error', (e: NodeJS.ErrnoException) => {
          s.destroy();
          resolve(e.code ?? e.message);
        });
      });
    assert.equal(await h2(pki.client), 200);
    assert.equal(typeof (await h2(undefined)), 'string');
  });

  test('an apply turns validation on and off for the open port', async () => {
    const base = [tlsListener('open', undefined)];
    await engine.apply(irWith(base));
    assert.equal(await get('x.example.org', undefined), 200);
    await engine.apply(irWith([tlsListener('open', undefined, { caPem: pki.caPem, mode: 'AllowValidOnly' })]));
    assert.equal(typeof (await get('x.example.org', undefined)), 'string');
    assert.equal(await get('x.example.org', pki.client), 200);
    await engine.apply(irWith(base));
    assert.equal(await get('x.example.org', undefined), 200);
  });
});
