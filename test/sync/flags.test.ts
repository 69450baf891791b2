// `portico dataplane` flags: what src/provision puts in the Deployment is what the command accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseDataplaneArgs } from '../../src/cli/dataplane.js';

const DIR = new URL('../provision/testdata/', import.meta.url);

function deploymentArgs(): string[][] {
  const out: string[][] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (o.name === 'dataplane' && Array.isArray(o.args)) out.push(o.args as string[]);
    Object.values(o).forEach(walk);
  };
  for (const f of readdirSync(DIR).filter((f) => f.endsWith('.out.yaml'))) walk(YAML.parse(readFileSync(new URL(f, DIR), 'utf8')));
  return out;
}

test('every provisioned Deployment\'s args parse (provision golden files)', () => {
  const all = deploymentArgs();
  assert.ok(all.length >= 5, `found ${all.length} Deployments`);
  for (const args of all) {
    assert.equal(args[0], 'dataplane');
    const f = parseDataplaneArgs(args.slice(1), {});
    assert.ok(!('error' in f) && !('help' in f), `${args.join(' ')}: ${JSON.stringify(f)}`);
    assert.equal(f.credentials, '/var/run/portico/sync');
    assert.equal(f.drainTimeoutMs, 35_000);
    assert.match(f.health ?? '', /^0\.0\.0\.0:\d+$/);
    assert.match(f.controller.host, /^portico-sync\.portico-system\.svc$/);
  }
});

test('defaults, and errors that name the flag', () => {
  const f = parseDataplaneArgs(['--controller=sync.portico-system.svc:18000', '--gateway=ns/gw'], { POD_NAME: 'gw-abc' });
  assert.ok(!('error' in f) && !('help' in f));
  assert.deepEqual(
    { ...f, path: undefined },
    { controller: { host: 'sync.portico-system.svc', port: 18000 }, gateway: 'ns/gw', credentials: '/var/run/portico/sync', drainTimeoutMs: 35_000, drainDelayMs: 5000, workers: 1, pod: 'gw-abc', accessLog: false, logLevel: 'info', path: undefined },
  );
  const err = (args: string[]) => {
    const r = parseDataplaneArgs(args, {});
    return 'error' in r ? r.error : '';
  };
  assert.match(err(['--gateway=ns/gw']), /--controller/);
  assert.match(err(['--controller=:18000', '--gateway=ns/gw']), /--controller/);
  assert.match(err(['--controller=h:1', '--gateway=gw']), /--gateway must be NAMESPACE\/NAME/);
  assert.match(err(['--controller=h:1', '--gateway=ns/gw', '--drain-timeout=2s', '--drain-delay=5s']), /--drain-delay/);
  assert.match(err(['--controller=h:1', '--gateway=ns/gw', '--drain-timeout=soon']), /--drain-timeout "soon"/);
  assert.match(err(['--controller=h:1', '--gateway=ns/gw', '--log-level=loud']), /--log-level/);
  assert.match(err(['--controller=h:1', '--gateway=ns/gw', '--kubeconfig=x']), /kubeconfig/);
});
