// `portico convert` as a command: files, folders and stdin; YAML and JSON; the report on
// stderr and as comments; --strict and --verify exit codes; usage errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { portico } from '../e2e/cli.js';
import { DIR } from './cases.js';

const input = (name: string) => join(DIR, name, 'in.yaml');

test('convert a file: YAML on stdout (report as comments), report table on stderr, exit 0', async () => {
  const r = await portico(['convert', input('canary-precedence')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(DIR, 'canary-precedence', 'out.yaml'), 'utf8'));
  assert.match(r.stderr, /^Conversion report:/);
  assert.match(r.stderr, /default\/web-canary\s+canary-by-cookie\s+APPROXIMATED/);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string } | null).filter(Boolean);
  assert.deepEqual(docs.map((d) => d!.kind), ['Gateway', 'HTTPRoute']);
});

test('convert reads stdin and folders; --output json is a kind: List', async () => {
  const text = readFileSync(input('tls-basic'), 'utf8');
  const r = await portico(['convert', '-', '--output', 'json'], 30_000, text);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { kind: string; items: { kind: string; metadata: { name: string } }[] };
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items.map((i) => `${i.kind}/${i.metadata.name}`), ['Gateway/nginx', 'HTTPRoute/web-app-example-com', 'HTTPRoute/web-app-example-com-http']);
  const folder = await portico(['convert', join(DIR, 'two-classes')]);
  assert.equal(folder.code, 0, folder.stderr);
  assert.equal((folder.stdout.match(/^kind: Gateway$/gm) ?? []).length, 2);
});

test('--strict exits 1 when anything is approximated or not converted, 0 when all converted', async () => {
  const bad = await portico(['convert', input('rate-limits'), '--strict']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /limit-rps\s+NOT CONVERTED/);
  assert.match(bad.stderr, /--strict: not everything converted exactly/);
  const good = await portico(['convert', input('canary-by-header'), '--strict']);
  assert.equal(good.code, 0, good.stderr);
});

test('--verify prints the pass/fail table; exit 1 when a sample differs', async () => {
  const ok = await portico(['convert', input('rewrite-capture-group'), '--verify']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /^Verification \(ingress-nginx semantics vs the converted routes\):/m);
  assert.match(ok.stderr, /PASS +http:\/\/app\.example\.com\/api\/a +default\/api:8080 app\.example\.com\/a/);
  assert.match(ok.stderr, /\d+ passed, 0 failed/);
  const differs = await portico(['convert', input('implementation-specific'), '--verify']);
  assert.equal(differs.code, 1);
  assert.match(differs.stderr, /FAIL +http:\/\/app\.example\.com\/appx +default\/app:80/);
});

test('--http-port/--https-port set the listener ports; --emit-gatewayclass adds the GatewayClass', async () => {
  const r = await portico(['convert', input('tls-basic'), '--http-port', '8080', '--https-port', '8443', '--emit-gatewayclass']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kind: GatewayClass\nmetadata:\n  name: nginx\nspec:\n  controllerName: portico.dev\/gateway-controller/);
  assert.match(r.stdout, /port: 8080/);
  assert.match(r.stdout, /port: 8443/);
  assert.match(r.stdout, /port: 8443\n +statusCode: 308/);
});

test('usage errors exit 2', async () => {
  assert.equal((await portico(['convert'])).code, 2);
  assert.equal((await portico(['convert', input('basic-prefix'), '--output', 'xml'])).code, 2);
  assert.equal((await portico(['convert', input('basic-prefix'), '--http-port', '0'])).code, 2);
  assert.equal((await portico(['convert', '--nope'])).code, 2);
});
