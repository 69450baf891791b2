// Session persistence keys: derived from the seed (same seed, same key, so every worker and
// replica agrees), distinct per rule, sealed in the IR (never printed), carried by the engine transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { Resource } from '../../src/api/types.js';
import type { HTTPRouteEntry, IR } from '../../src/ir/types.js';
import { decodeForEngine, encodeForEngine } from '../../src/ir/keys.js';
import { redact } from '../../src/ir/redact.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const file = join(dir, 'httproute-session-persistence.in.yaml');
const read = (f: string) => YAML.parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as Resource).filter((r) => r);
const docs = [...read(join(dir, '_base.yaml')), ...read(file)];
const entries = (ir: IR): HTTPRouteEntry[] => ir.ports[0]!.listeners[0]!.virtualHosts[0]!.routes.filter((r) => r.session);


const keys = (seed: string): Map<string, string> => {
  const ir = translate(new Snapshot(docs.map((resource) => ({ resource, origin: file }))), { sessionSeed: seed }).ir;
  return new Map(entries(ir).map((e) => [`${e.source.rule}/${e.source.match}`, e.session!.sessionKey]));
};

test('the key derives from the seed: same seed, same keys; another seed, other keys', () => {
  const a = keys('seed-one');
  assert.deepEqual(keys('seed-one'), a);
  const b = keys('seed-two');
  for (const [k, v] of a) {
    assert.match(v, /^[0-9a-f]{64}$/);
    assert.notEqual(b.get(k), v, k);
  }

});

test('one key per rule: the matches of a rule share it, other rules differ', () => {
  const k = keys('s');
  assert.equal(k.get('0/0'), k.get('0/1'));
  assert.equal(k.get('0/0'), k.get('0/2'));
  assert.notEqual(k.get('0/0'), k.get('1/0'));
  assert.notEqual(k.get('1/0'), k.get('2/0'));
});

test('the key is sealed: not in JSON, YAML-able copies or redact(); the engine transport carries it', () => {
  const ir = translate(new Snapshot(docs.map((resource) => ({ resource, origin: file }))), { sessionSeed: 'secret-seed' }).ir;
  const key = entries(ir)[0]!.session!.sessionKey;
  assert.ok(!JSON.stringify(ir).includes(key));
  assert.ok(!JSON.stringify(redact(ir)).includes(key));
  assert.ok(!JSON.stringify(structuredClone(ir)).includes(key));
  const wire = encodeForEngine(ir);
  assert.ok(wire.includes(key));
  const back = decodeForEngine(wire);
  assert.equal(entries(back)[0]!.session!.sessionKey, key);
  assert.ok(!JSON.stringify(back).includes(key), 'sealed again on the other side');
});
