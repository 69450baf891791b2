// KubeConfig: what a kubeconfig file or the Pod's service account becomes per request. File
// paths in a kubeconfig are relative to it, *-data fields are base64, a token file is read
// again once it is a minute old, and an exec plugin's credential is kept until it expires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '../../src/sources/kubeconfig.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-kubeconfig-'));
writeFileSync(path.join(dir, 'ca.crt'), 'CA PEM');
writeFileSync(path.join(dir, 'client.key'), 'KEY PEM');

async function applied(kc: KubeConfig): Promise<https.RequestOptions & { headers: Record<string, string> }> {
  const o: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(o);
  return o as https.RequestOptions & { headers: Record<string, string> };
}

test('a kubeconfig file: current context, relative file paths, base64 data, TLS server name', async () => {
  const file = path.join(dir, 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: https://other:6443}
- name: main
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: ca.crt
    tls-server-name: kubernetes.default
users:
- name: admin
  user:
    client-certificate-data: ${Buffer.from('CERT PEM').toString('base64')}
    client-key: client.key
contexts:
- name: a
  context: {cluster: other, user: admin}
- name: b
  context: {cluster: main, user: admin, namespace: team}
current-context: b
`,
  );
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  assert.equal(kc.getCurrentCluster()?.server, 'https://10.0.0.1:6443');
  assert.equal(kc.getCurrentContext()?.namespace, 'team');
  const o = await applied(kc);
  assert.equal(String(o.ca), 'CA PEM');
  assert.equal(String(o.cert), 'CERT PEM');
  assert.equal(String(o.key), 'KEY PEM');
  assert.equal(o.servername, 'kubernetes.default');
  assert.equal(o.rejectUnauthorized, undefined, 'verified unless insecure-skip-tls-verify');
  assert.equal(o.headers.authorization, undefined);
});

test('a bearer token, basic auth, insecure-skip-tls-verify', async () => {
  const kc = new KubeConfig();
  kc.loadFromString(`clusters: [{name: c, cluster: {server: 'https://k:443', insecure-skip-tls-verify: true}}]
users: [{name: t, user: {token: abc}}, {name: p, user: {username: u, password: pw}}]
contexts: [{name: t, context: {cluster: c, user: t}}, {name: p, context: {cluster: c, user: p}}]
current-context: t`);
  let o = await applied(kc);
  assert.equal(o.headers.authorization, 'Bearer abc');
  assert.equal(o.rejectUnauthorized, false);
  kc.currentContext = 'p';
  o = await applied(kc);
  assert.equal(o.headers.authorization, `Basic ${Buffer.from('u:pw').toString('base64')}`);
});

test('in-cluster: the service account token and CA; both files are read again once a minute old, not per request', async (t) => {
  const sa = mkdtempSync(path.join(dir, 'sa-'));
  writeFileSync(path.join(sa, 'token'), 'first\n');
  writeFileSync(path.join(sa, 'ca.crt'), 'SA CA');
  const env = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = 'fd00::1';
  process.env.KUBERNETES_SERVICE_PORT = '443';
  t.after(() => {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', env.host], ['KUBERNETES_SERVICE_PORT', env.port]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const kc = new KubeConfig();
  kc.loadFromCluster(sa);
  assert.equal(kc.getCurrentCluster()?.server, 'https://[fd00::1]:443');
  let o = await applied(kc);
  assert.equal(o.headers.authorization, 'Bearer first');
  assert.equal(String(o.ca), 'SA CA');
  writeFileSync(path.join(sa, 'token'), 'rotated\n');
  writeFileSync(path.join(sa, 'ca.crt'), 'SA CA 2');
  o = await applied(kc);
  assert.equal(o.headers.authorization, 'Bearer first', 'not read again within the minute');
  assert.equal(String(o.ca), 'SA CA');
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 61_000 });
  o = await applied(kc);
  assert.equal(o.headers.authorization, 'Bearer rotated');
  assert.equal(String(o.ca), 'SA CA 2');
});

test('an exec plugin: run once, its credential kept until it expires', async () => {
  const count = path.join(dir, 'exec-count');
  writeFileSync(count, '');
  const plugin = path.join(dir, 'plugin.sh');
  // Prints a token that expires in an hour, and counts its runs; KUBERNETES_EXEC_INFO must be set.
  writeFileSync(
    plugin,
    `#!/bin/sh
echo run >> "${count}"
case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) exit 3 ;; esac
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"'"$PREFIX"'-token","expirationTimestamp":"${new Date(Date.now() + 3600_000).toISOString()}"}}'
`,
  );
  chmodSync(plugin, 0o755);
  const kc = new KubeConfig();
  kc.loadFromString(`clusters: [{name: c, cluster: {server: 'https://k:443'}}]
users: [{name: e, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, env: [{name: PREFIX, value: exec}]}}}]
contexts: [{name: e, context: {cluster: c, user: e}}]
current-context: e`);
  assert.equal((await applied(kc)).headers.authorization, 'Bearer exec-token');
  assert.equal((await applied(kc)).headers.authorization, 'Bearer exec-token');
  assert.equal(readFileSync(count, 'utf8').trim().split('\n').length, 1, 'one run while the credential is valid');
});

test('an auth-provider without a cached token is an error that says what to do', async () => {
  const kc = new KubeConfig();
  kc.loadFromString(`clusters: [{name: c, cluster: {server: 'https://k:443'}}]
users: [{name: o, user: {auth-provider: {name: oidc, config: {client-id: x}}}}]
contexts: [{name: o, context: {cluster: c, user: o}}]
current-context: o`);
  await assert.rejects(applied(kc), /auth-provider "oidc" has no cached token; use an exec credential plugin/);
});
