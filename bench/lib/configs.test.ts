// Every generated config is accepted by the program that reads it: nginx -t, haproxy -c,
// Portico's own validation and translator (with the IR the scenario needs).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { validate, formatFieldError } from '../../src/api/validate.js';
import { Snapshot } from '../../src/store/snapshot.js';
import type { Resource } from '../../src/api/types.js';
import { ensureCert } from './certs.js';
import type { BenchContext } from './context.js';
import { haproxyConfig } from './haproxy.js';
import { scenarioManifests } from './manifests.js';
import { backendConfig, proxyConfig } from './nginx.js';
import { run } from './proc.js';
import { ROUTES_COUNT, SCENARIOS, portsFrom, routePath } from './scenarios.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-bench-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function context(): Promise<BenchContext> {
  return { runDir: dir, repoDir: process.cwd(), ports: portsFrom(27600), cert: await ensureCert(dir), wwwDir: dir, workers: 1 };
}

test('backend nginx config passes nginx -t', async () => {
  const ctx = await context();
  const d = join(dir, 'backend');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'nginx.conf'), backendConfig(ctx, d));
  const r = await run('nginx', ['-t', '-p', d, '-c', join(d, 'nginx.conf')]);
  assert.equal(r.code, 0, r.stderr);
});

for (const s of SCENARIOS) {
  test(`${s.name}: nginx proxy config passes nginx -t`, async () => {
    const ctx = await context();
    const d = join(dir, `nginx-${s.name}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'nginx.conf'), proxyConfig(ctx, d, s));
    const r = await run('nginx', ['-t', '-p', d, '-c', join(d, 'nginx.conf')]);
    assert.equal(r.code, 0, r.stderr);
  });

  test(`${s.name}: HAProxy config passes haproxy -c`, async () => {
    const ctx = await context();
    const d = join(dir, `haproxy-${s.name}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'haproxy.cfg'), haproxyConfig(ctx, d, s));
    const r = await run('haproxy', ['-c', '-f', join(d, 'haproxy.cfg')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test(`${s.name}: Portico manifests validate and translate to the intended IR`, async () => {
    const ctx = await context();
    const yaml = scenarioManifests(s, {
      listenPort: ctx.ports.portico,
      backendA: ctx.ports.backendA,
      backendB: ctx.ports.backendB,
      certPem: ctx.cert.certPem,
      keyPem: ctx.cert.keyPem,
    });
    const resources = parseAllDocuments(yaml).map((d) => d.toJS() as Resource);
    for (const r of resources) {
      const errors = validate(r);
      assert.deepEqual(errors.map(formatFieldError), [], `${r.kind} ${r.metadata.name}`);
    }
    const { translate } = await import('../../src/translate/index.js');
    const { ir, statuses } = translate(new Snapshot(resources.map((resource) => ({ resource }))));
    for (const st of statuses) {
      for (const c of (st.status as { conditions?: { type: string; status: string; reason: string }[] }).conditions ?? []) {
        assert.equal(c.status, 'True', `${st.kind} ${st.name}: ${c.type} ${c.reason}`);
      }
    }
    assert.equal(ir.ports.length, 1);
    const port = ir.ports[0]!;
    assert.equal(port.address, '127.0.0.1');
    assert.equal(port.port, ctx.ports.portico);
    assert.equal(port.protocol, s.tls ? 'HTTPS' : 'HTTP');
    const routes = port.listeners[0]!.virtualHosts!.flatMap((v) => v.routes);
    if (s.routes) {
      assert.equal(routes.length, ROUTES_COUNT);
      assert.equal(port.listeners[0]!.virtualHosts![0]!.hostname, 'routes.bench.local');
      // The request must hit the last route in precedence order, or the scenario measures nothing.
      assert.equal(routes[ROUTES_COUNT - 1]!.match.path?.value, routePath(ROUTES_COUNT - 1));
    } else if (s.split) {
      assert.equal(routes.length, 1);
      assert.deepEqual(routes[0]!.backends.map((b) => b.weight), [80, 20]);
      assert.equal(routes[0]!.filters[0]!.type, 'RequestHeaderModifier');
    } else {
      assert.equal(routes.length, 1);
    }
  });
}
