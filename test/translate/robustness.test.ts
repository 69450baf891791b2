// Bad input never crashes translate(): every golden input, mutated at random places into
// values of the wrong shape (null, numbers, strings, empty lists/objects), must still
// translate. Deterministic PRNG, so a failure names a reproducible seed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
/** More rounds / another seed for a deeper local run: PORTICO_FUZZ_ROUNDS=200 PORTICO_FUZZ_SEED=7 */
const ROUNDS = Number(process.env.PORTICO_FUZZ_ROUNDS ?? 8);
const JUNK: unknown[] = [null, 0, -1, 70000, 'x', '', [], {}, [null], [{}], true];

function docs(file: string): Resource[] {
  return YAML.parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))
    .map((d) => d.toJS() as Resource)
    .filter((d) => d && d.kind !== ('GoldenOptions' as string));
}

/** Every (container, key) pair except kind and metadata.name, so the object keeps its identity. */
function slots(root: unknown): [Record<string, unknown>, string][] {
  const out: [Record<string, unknown>, string][] = [];
  const walk = (v: unknown, path: string): void => {
    if (!v || typeof v !== 'object') return;
    for (const k of Object.keys(v)) {
      const p = `${path}.${k}`;
      if (p === '.kind' || p === '.metadata' || p === '.metadata.name') {
        if (p === '.metadata') walk((v as Record<string, unknown>)[k], p);
        continue;
      }
      out.push([v as Record<string, unknown>, k]);
      walk((v as Record<string, unknown>)[k], p);
    }
  };
  walk(root, '');
  return out;
}

test('translate() survives malformed objects from every golden case', () => {
  const base = docs('_base.yaml');
  const cases = readdirSync(DIR).filter((f) => f.endsWith('.in.yaml')).sort();
  let seed = Number(process.env.PORTICO_FUZZ_SEED ?? 12345);
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  let runs = 0;
  for (const c of cases) {
    const input = docs(c);
    for (let round = 0; round < ROUNDS; round++) {
      const startSeed = seed;
      const mutated = structuredClone(input);
      for (let k = 0; k < 3; k++) {
        const target = mutated[rnd(mutated.length)];
        const s = slots(target);
        if (s.length === 0) continue;
        const [obj, key] = s[rnd(s.length)]!;
        obj[key] = structuredClone(JUNK[rnd(JUNK.length)]);
      }
      try {
        const r = translate(new Snapshot([...base, ...mutated].map((resource) => ({ resource }))));
        JSON.stringify(r);
      } catch (err) {
        assert.fail(`${c} round ${round} (seed ${startSeed}) threw: ${(err as Error).stack}`);
      }
      runs++;
    }
  }
  assert.ok(runs > 500);
});

test('a route that throws while being read is reported on its parents, and the rest still translates', () => {
  const base = docs('_base.yaml');
  const gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'default' },
    spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
  } as Resource;
  const good = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'good', namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'foo', port: 80 }] }] },
  } as Resource;
  // A getter that throws stands for any object shape the translator did not anticipate.
  const spec = { parentRefs: [{ name: 'gw' }] };
  Object.defineProperty(spec, 'rules', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  const bad = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'bad', namespace: 'default' }, spec } as Resource;
  const r = translate(new Snapshot([...base, gateway, good, bad].map((resource) => ({ resource }))));
  const status = (name: string) => r.statuses.find((s) => s.kind === 'HTTPRoute' && s.name === name)!.status as {
    parents: { conditions: { type: string; status: string; reason: string; message: string }[] }[];
  };
  const badAccepted = status('bad').parents[0]!.conditions.find((c) => c.type === 'Accepted')!;
  assert.equal(badAccepted.status, 'False');
  assert.equal(badAccepted.reason, 'UnsupportedValue');
  assert.match(badAccepted.message, /boom/);
  assert.equal(status('good').parents[0]!.conditions.find((c) => c.type === 'Accepted')!.status, 'True');
  const routes = r.ir.ports[0]!.listeners[0]!.virtualHosts![0]!.routes;
  assert.deepEqual(routes.map((x) => x.source.name), ['good']);
});
