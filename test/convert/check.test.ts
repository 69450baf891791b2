// `portico check` accepts everything `portico convert` emits: for every golden case, the
// converted objects plus what a cluster would already hold (the backend Services, the TLS
// Secrets, the CA ConfigMaps, a GatewayClass for Portico) load without a manifest error and
// every object is Accepted/ResolvedRefs/Programmed. In-process for every case (the same
// loadPaths + translate + condition check the command runs), and through the real CLI for
// a few, exit code included.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { DEFAULT_CONTROLLER_NAME } from '../../src/api/names.js';
import { loadPaths, formatProblem } from '../../src/sources/files.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { isBad, rowsOf } from '../../src/cli/report.js';
import { CASES, clusterObjectsFor, convertCase } from './cases.js';
import { portico } from '../e2e/cli.js';

async function writeCase(dir: string, resources: Resource[]): Promise<void> {
  await writeFile(join(dir, 'converted.yaml'), resources.map((r) => `---\n${stringify(r)}`).join(''));
  await writeFile(join(dir, 'cluster.yaml'), clusterObjectsFor(resources).map((r) => `---\n${stringify(r)}`).join(''));
}

for (const name of CASES) {
  test(`portico check accepts convert's output: ${name}`, async () => {
    const { result } = await convertCase(name);
    const dir = await mkdtemp(join(tmpdir(), 'portico-convert-check-'));
    try {
      await writeCase(dir, result.resources);
      const state = await loadPaths([dir]);
      assert.deepEqual(state.problems.map(formatProblem), []);
      // Each IngressClass was its own ingress-nginx with its own address: several Gateways are
      // checked as provisioned data planes (portico check --dataplane provisioned) so their ports do not collide.
      const gateways = result.resources.filter((r) => r.kind === 'Gateway').length;
      const tr = translate(new Snapshot(state.entries), { controllerName: DEFAULT_CONTROLLER_NAME, addressFor: () => '0.0.0.0', dataPlanes: gateways > 1 ? 'per-gateway' : 'shared' });
      const bad = tr.statuses.flatMap((s) => rowsOf(s).filter(isBad).map((r) => `${s.kind} ${s.namespace ?? ''}/${s.name}: ${JSON.stringify(r)}`));
      assert.deepEqual(bad, []);
      const kinds = new Set(tr.statuses.map((s) => s.kind));
      for (const r of result.resources) if (r.kind !== 'ReferenceGrant') assert.ok(kinds.has(r.kind), `${r.kind} has no status: not handled by Portico`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('portico check (the CLI) exits 0 on convert output with TLS, canary, gRPC, passthrough and backend TLS', { timeout: 60_000 }, async () => {
  for (const name of ['canary-precedence', 'cross-namespace-tls-secret', 'backend-protocol-grpcs', 'ssl-passthrough', 'backend-protocol-https-proxy-ssl']) {
    const { result } = await convertCase(name);
    const dir = await mkdtemp(join(tmpdir(), 'portico-convert-check-'));
    try {
      await writeCase(dir, result.resources);
      const r = await portico(['check', dir]);
      assert.equal(r.code, 0, `${name}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^OK: \d+ objects checked/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
