// yaml-block.ts against the `yaml` package it stands in for: on every manifest in the repository,
// on hand-written edge cases and on random documents, it either gives up or gives the very same
// values and lines.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineCounter, parseAllDocuments, stringify } from 'yaml';
import { readBlockYaml, resolvePlain } from './yaml-block.js';

/** What files.ts's full path gives for each non-empty document: value and line, or undefined on any error. */
function reference(text: string): { line: number; value: unknown }[] | undefined {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true });
  if (!Array.isArray(docs)) return [];
  const out = [];
  for (const d of docs) {
    if (d.errors.length) return undefined;
    if (d.contents === null) continue;
    const value = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    out.push({ line: lc.linePos(d.contents.range[0]).line, value });
  }
  return out;
}

/** Same as the reference or gave up; returns whether it answered. */
function agrees(text: string, what: string): boolean {
  const got = readBlockYaml(text);
  if (got === undefined) return false;
  const want = reference(text);
  assert.ok(want, `${what}: the fast reader accepted text the full parser rejects:\n${text.slice(0, 400)}`);
  assert.deepEqual(got.map((d) => ({ line: d.line, value: d.value })), want, `${what}:\n${text.slice(0, 400)}`);
  return true;
}

function* yamlFiles(dir: string): Generator<string> {
  for (const n of readdirSync(dir)) {
    if (n === 'node_modules' || n.startsWith('.')) continue;
    const p = join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) yield* yamlFiles(p);
    else if (/\.ya?ml$/.test(n) && st.size < 2_000_000) yield p;
  }
}

test('every YAML file in the repository: the same documents and lines as the yaml package, or a fallback', () => {
  const root = join(import.meta.dirname, '../..');
  let read = 0;
  let total = 0;
  for (const dir of ['examples', 'test', 'deploy', 'conformance', 'bench']) {
    for (const f of yamlFiles(join(root, dir))) {
      total++;
      if (agrees(readFileSync(f, 'utf8'), f)) read++;
    }
  }
  // Most manifests are plain block YAML: if this falls, the fast path stopped being the common one.
  assert.ok(total > 50 && read > total / 2, `read ${read} of ${total} files`);
});

test('edge cases: same values, or a fallback', () => {
  const cases = [
    'a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 1.50\ng: .5\nh: 1e3\ni: .inf\nj: -.Inf\nk: .nan\nl: 1_000\nm: 0b11\nn: 012\n',
    'a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nul\ng: true\nh: False\ni: TRUE\nj: yes\nk: on\nl: tRue\n',
    "a: 'it''s'\nb: \"x y\"\nc: 'a # b' # c\nd: a # b\ne: a#b\nf: http://x:80/y\ng: ''\nh: \"\"\n",
    'a: [] # none\nb: {}\nc: [ ]\nd: [a, b]\ne: {x: 1}\n',
    'ports:\n- name: a\n  port: 1\n- name: b\nnext: 1\n',
    'a:\n  - x\n  -\n    y: 1\n  - - z\n',
    'a:\n  -\n  - b\n',
    'a: b: c\n', 'a: x:\n', 'a:\tb\n', '- a\n', 'a: 1\na: 2\n', 'a: 1\n b: 2\n', 'a: |\n  x\n', 'a: >\n  x\n',
    'a: &x 1\nb: *x\n', 'a: !!str 1\n', '%YAML 1.2\n---\na: 1\n', '--- a: 1\n', 'a: 1\n...\n', '"a": 1\n', '? a\n: 1\n',
    'a: "x\\ny"\n', "a: 'x\n  y'\n", 'a: x\n  y\n', '  a: 1\n', 'true: 1\n', 'null: 1\n', '1: x\n', '__proto__: 1\n',
    'kind: List\nitems:\n- kind: A\n', 'a: 1\r\nb: 2\r\n', '\ufeffa: 1\n', '# only\n---\n---\na: 1\n---\n# c\nb: 2\n',
    'a:\n  b:\n    c: 1\n  d: 2\ne: 3\n', 'a:\n- b: 1\n  c:\n  - 2\n  d: 3\n', 'a: -\n', 'a: - b\n', 'a: :b\n', 'a: b:c\n',
    'a: "unterminated\n', 'a: 1 #c\n#x\nb: 2', '- x\n', 'a', '', '---\n', 'a: 1\n---\nb\n', 'a: [\n  1]\n',
  ];
  for (const c of cases) agrees(c, JSON.stringify(c));
  // The common shapes are read, not passed on.
  assert.ok(readBlockYaml('ports:\n- name: a\n  port: 1\n- name: b\nnext: 1\n'));
  assert.ok(readBlockYaml('a: [] # none\nb: {}\n'));
  assert.ok(readBlockYaml("c: 'a # b' # c\n"));
});

test('resolvePlain: the core schema of the yaml package', () => {
  for (const s of ['0', '-0', '007', '+12', '0o7', '0o8', '0x', '0xFF', '1.', '.', '-.5', '1e', '1E+2', '.NaN', '.nAn', '+.INF', 'Infinity', 'NaN', '~', '', 'Nul', 'FALSE', 'fAlse'])
    assert.deepEqual(resolvePlain(s), reference(`a: ${s}\n`)?.[0]?.value && (reference(`a: ${s}\n`)![0]!.value as { a: unknown }).a, s);
});

test('random documents written by the yaml package read the same', () => {
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const words = ['a', 'name', 'true', 'null', '1', '-2', '0x10', '1.5', 'x y', 'a: b', '#c', "it's", '- x', 'http://h:1', '', ' s ', 'v1', '10.0.0.1', 'é', '[x]', '{}', 'No', '.inf'];
  const keys = ['a', 'b', 'apiVersion', 'kind', 'metadata', 'name', 'spec', 'x.y/z', 'k-1', '_u'];
  const value = (depth: number): unknown => {
    const r = rnd(depth > 3 ? 3 : 6);
    if (r === 0) return words[rnd(words.length)];
    if (r === 1) return rnd(3) === 0 ? null : rnd(2) === 0 ? rnd(100000) - 500 : rnd(1000) / 8;
    if (r === 2) return rnd(2) === 0;
    if (r === 3) return Array.from({ length: rnd(4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = rnd(5); i > 0; i--) o[keys[rnd(keys.length)]!] = value(depth + 1);
    return o;
  };
  let read = 0;
  for (let i = 0; i < 400; i++) {
    const docs = Array.from({ length: 1 + rnd(3) }, () => ({ kind: 'K', spec: value(0) }));
    const opts = [{}, { indentSeq: false }, { indent: 4 }, { defaultStringType: 'QUOTE_SINGLE' as const }, { defaultStringType: 'QUOTE_DOUBLE' as const }][rnd(5)]!;
    const text = docs.map((d) => (rnd(4) === 0 ? '# comment\n' : '') + stringify(d, opts)).join('---\n');
    if (agrees(text, `random ${i}`)) read++;
  }
  assert.ok(read > 100, `read ${read} of 400`);
});
