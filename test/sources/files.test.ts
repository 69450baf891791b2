import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, rename, unlink, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FileSource, formatProblem, loadPaths, FileLoader, type FileState } from '../../src/sources/files.js';

const svc = (name: string, port = 80, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  ports:
  - port: ${port}${extra}
`;

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'portico-files-'));
}
const names = (s: FileState) => s.entries.map((e) => `${e.resource.kind}/${e.resource.metadata.namespace ?? ''}/${e.resource.metadata.name}`);

test('multi-document YAML, JSON, kind: List and nested folders, with file:line origins', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(dir, 'a.yaml'), `# leading comment\n${svc('one')}---\n${svc('two')}\n---\n`);
  await writeFile(join(dir, 'sub', 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } }, null, 2));
  await writeFile(
    join(dir, 'sub', 'deeper', 'list.yml'),
    `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c1, namespace: x}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c2, namespace: x}\n`,
  );
  await writeFile(join(dir, 'notes.txt'), 'not a manifest');
  const s = await loadPaths([dir]);
  assert.deepEqual(s.problems, []);
  assert.deepEqual(names(s).sort(), ['ConfigMap/x/c1', 'ConfigMap/x/c2', 'Namespace//ns1', 'Service/default/one', 'Service/default/two']);
  const origin = (n: string) => s.entries.find((e) => e.resource.metadata.name === n)!.origin;
  const rel = relative(process.cwd(), dir);
  const shown = rel.startsWith('..') ? dir : rel;
  assert.equal(origin('one'), `${join(shown, 'a.yaml')}:2`);
  assert.equal(origin('two'), `${join(shown, 'a.yaml')}:10`);
  assert.equal(origin('c2'), `${join(shown, 'sub', 'deeper', 'list.yml')}:7`);
  assert.equal(origin('ns1'), `${join(shown, 'sub', 'b.json')}:1`);
  // Namespaced objects without a namespace land in "default"; generation is stamped like the API server does.
  const one = s.entries.find((e) => e.resource.metadata.name === 'one')!.resource;
  assert.equal(one.metadata.namespace, 'default');
  assert.equal(one.metadata.generation, 1);
});

test('invalid objects and bad YAML are reported as file:line: Kind ns/name: field: message, never thrown', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'bad.yaml'), `${svc('ok')}---\n${svc('bad', 0)}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\n- just\n- a list of strings\n`);
  await writeFile(join(dir, 'broken.yaml'), 'kind: Service\nmetadata: {name: x\n  bad: [\n');
  const s = await loadPaths([dir, join(dir, 'missing.yaml')]);
  assert.deepEqual(names(s), ['Service/default/ok']);
  const lines = s.problems.map(formatProblem);
  const shownDir = s.entries[0]!.origin!.replace(/\/bad\.yaml:\d+$/, '');
  assert.ok(lines.includes(`${shownDir}/bad.yaml:9: Service default/bad: spec.ports[0].port: must be at least 1 and at most 65535 (got 0)`), lines.join('\n'));
  assert.ok(lines.some((l) => /bad\.yaml:17: Deployment default\/d: ignored: Portico does not read kind Deployment/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /broken\.yaml:\d+: YAML syntax/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /missing\.yaml:0: cannot read: ENOENT/.test(l)), lines.join('\n'));
  assert.equal(s.problems.find((p) => p.kind === 'Deployment')!.severity, 'warning');
});

test('duplicates: the first definition wins and the second is reported', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.yaml'), svc('same', 80));
  await writeFile(join(dir, 'b.yaml'), svc('same', 81));
  const s = await loadPaths([dir]);
  assert.equal(s.entries.length, 1);
  assert.equal((s.entries[0]!.resource.spec as any).ports[0].port, 80);
  assert.match(formatProblem(s.problems[0]!), /b\.yaml:1: Service default\/same: duplicate object: already defined at .*a\.yaml:1/);
});

test('last good: a file that stops parsing keeps its documents; an object that becomes invalid keeps its last version', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, 'm.yaml');
  const loader = new FileLoader([dir]);
  await writeFile(f, `${svc('a', 80)}---\n${svc('b', 90)}`);
  let s = await loader.load();
  assert.deepEqual(names(s), ['Service/default/a', 'Service/default/b']);

  // Object b becomes invalid; a changes validly: a moves on, b stays at its last good version.
  await writeFile(f, `${svc('a', 81)}---\n${svc('b', 99999)}`);
  s = await loader.load();
  const port = (n: string) => (s.entries.find((e) => e.resource.metadata.name === n)!.resource.spec as any).ports[0].port;
  assert.equal(port('a'), 81);
  assert.equal(port('b'), 90);
  assert.match(formatProblem(s.problems[0]!), /Service default\/b: spec\.ports\[0\]\.port: must be at most 65535.*\(keeping the last good version\)/);

  // The whole file stops parsing: both objects keep their last good documents.
  await writeFile(f, `${svc('a', 82)}---\nkind: [unclosed\n`);
  s = await loader.load();
  assert.equal(port('a'), 81);
  assert.equal(port('b'), 90);
  assert.match(s.problems.map(formatProblem).join('\n'), /m\.yaml:\d+: YAML syntax: .*keeping the last good version/);

  // Fixed: new content, no problems.
  await writeFile(f, `${svc('a', 83)}---\n${svc('b', 91)}`);
  s = await loader.load();
  assert.equal(port('a'), 83);
  assert.equal(port('b'), 91);
  assert.deepEqual(s.problems, []);

  // Deleted: its objects go away.
  await unlink(f);
  s = await loader.load();
  assert.deepEqual(s.entries, []);
});

test('watch: changes are debounced into one update; editor-style rename saves and new subfolders are seen', async (t) => {
  const dir = await tmp();
  const updates: FileState[] = [];
  const src = new FileSource([dir], { debounceMs: 150, onUpdate: (s) => updates.push(s) });
  t.after(async () => {
    src.close();
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(join(dir, 'a.yaml'), svc('a'));
  const first = await src.start();
  assert.deepEqual(names(first), ['Service/default/a']);

  const waitFor = async (pred: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out waiting for an update');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  // A burst of writes: the first changes after a quiet spell reload at once (store/debounce.ts:
  // up to 3 firings within its burst window), the rest of the burst collapses into one more
  // update with the final state.
  for (let p = 81; p <= 85; p++) {
    await writeFile(join(dir, 'a.yaml'), svc('a', p));
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor(() => updates.length >= 1 && (updates.at(-1)!.entries[0]!.resource.spec as any).ports[0].port === 85);
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(updates.length <= 4, `${updates.length} updates for a burst of 5 writes`);
  assert.equal((updates.at(-1)!.entries[0]!.resource.spec as any).ports[0].port, 85);
  const afterBurst = updates.length;

  // Editor-style save: write a temp file then rename it over the original.
  await writeFile(join(dir, '.a.yaml.swp'), svc('a', 86));
  await rename(join(dir, '.a.yaml.swp'), join(dir, 'a.yaml'));
  await waitFor(() => updates.length > afterBurst);
  assert.equal((updates[afterBurst]!.entries[0]!.resource.spec as any).ports[0].port, 86);

  // A new subfolder, then a file inside it.
  await mkdir(join(dir, 'sub'));
  await new Promise((r) => setTimeout(r, 300));
  await writeFile(join(dir, 'sub', 'b.yaml'), svc('b'));
  await waitFor(() => updates.some((u) => u.entries.length === 2));

  // A bad edit produces an update that still carries the last good object.
  const n = updates.length;
  await writeFile(join(dir, 'sub', 'b.yaml'), svc('b', -1));
  await waitFor(() => updates.length > n);
  const last = updates.at(-1)!;
  assert.deepEqual(names(last), ['Service/default/a', 'Service/default/b']);
  assert.match(formatProblem(last.problems[0]!), /sub\/b\.yaml:1: Service default\/b: spec\.ports\[0\]\.port: must be at least 1/);
});

test('watching a single file follows editor-style saves', async (t) => {
  const dir = await tmp();
  const f = join(dir, 'one.yaml');
  await writeFile(f, svc('x', 80));
  await writeFile(join(dir, 'other.yaml'), svc('other'));
  const updates: FileState[] = [];
  const src = new FileSource([f], { debounceMs: 50, onUpdate: (s) => updates.push(s) });
  t.after(async () => {
    src.close();
    await rm(dir, { recursive: true, force: true });
  });
  assert.deepEqual(names(await src.start()), ['Service/default/x']);
  await writeFile(join(dir, 'tmp'), svc('x', 81));
  await rename(join(dir, 'tmp'), f);
  const end = Date.now() + 5000;
  while (updates.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal((updates[0]!.entries[0]!.resource.spec as any).ports[0].port, 81);
  assert.equal(updates[0]!.entries.length, 1);
});

test('hostile input: binary noise, alias bombs, deep nesting and odd scalars are problems, not crashes', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const noise = Buffer.alloc(4096);
  let x = 12345;
  for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  await writeFile(join(dir, 'noise.yaml'), noise);
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  await writeFile(join(dir, 'bomb.yaml'), bomb.join('\n') + '\n');
  await writeFile(join(dir, 'deep.json'), '['.repeat(5000) + ']'.repeat(5000));
  await writeFile(join(dir, 'scalars.yaml'), '42\n---\n"just a string"\n---\n~\n---\nkind: Service\nmetadata: 7\n');
  await writeFile(join(dir, 'dupkeys.yaml'), 'kind: Service\nkind: Secret\nmetadata: {name: a}\n');
  await writeFile(join(dir, 'ok.yaml'), svc('survivor'));
  const started = Date.now();
  const s = await loadPaths([dir]);
  assert.ok(Date.now() - started < 20_000);
  assert.deepEqual(names(s), ['Service/default/survivor']);
  const text = s.problems.map(formatProblem).join('\n');
  for (const f of ['noise.yaml', 'bomb.yaml', 'scalars.yaml', 'dupkeys.yaml']) assert.match(text, new RegExp(f.replace('.', '\\.')), `${f} not reported:\n${text}`);
});

test('a same-size rewrite that keeps the mtime (one clock tick) is still seen; unchanged files are not parsed again', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, 'a.yaml');
  // A whole second, now: both versions get exactly this mtime, as two saves in one tick do.
  const tick = Math.floor(Date.now() / 1000);
  await writeFile(f, svc('a', 80));
  await utimes(f, tick, tick);
  const loader = new FileLoader([dir]);
  const first = await loader.load();
  const before = await stat(f);
  await writeFile(f, svc('a', 81));
  await utimes(f, tick, tick);
  const after = await stat(f);
  assert.deepEqual([after.mtimeMs, after.size, after.ino], [before.mtimeMs, before.size, before.ino], 'only the bytes differ');
  const second = await loader.load();
  assert.equal((second.entries[0]!.resource.spec as { ports: { port: number }[] }).ports[0]!.port, 81);
  // Nothing changed since: the same entry objects come back (no re-parse).
  const third = await loader.load();
  assert.equal(third.entries[0], second.entries[0]);
  assert.notEqual(second.entries[0], first.entries[0]);
});

test('editing one document of a multi-document file changes that resource only: the others keep their object', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, 'many.yaml');
  await writeFile(f, [svc('a', 80), svc('b', 80), svc('c', 80)].join('---\n'));
  const loader = new FileLoader([dir]);
  const before = await loader.load();
  // b changes and moves down a line (a comment above it): a and c are the same text, at new lines for c.
  await writeFile(f, [svc('a', 80), `# moved\n${svc('b', 81)}`, svc('c', 80)].join('---\n'));
  await utimes(f, new Date(), new Date(Date.now() + 5000));
  const after = await loader.load();
  const by = (s: FileState, n: string) => s.entries.find((e) => e.resource.metadata.name === n)!;
  assert.equal(by(after, 'a'), by(before, 'a'));
  assert.equal(by(after, 'c').resource, by(before, 'c').resource);
  assert.notEqual(by(after, 'c').origin, by(before, 'c').origin);
  assert.notEqual(by(after, 'b').resource, by(before, 'b').resource);
  assert.equal((by(after, 'b').resource.spec as any).ports[0].port, 81);
});

test('a file read empty (a write caught between truncate and data) keeps its documents for one load; emptied for real, they go', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, 'one.yaml');
  await writeFile(f, svc('a'));
  const loader = new FileLoader([dir]);
  assert.equal((await loader.load()).entries.length, 1);
  await writeFile(f, '');
  assert.equal((await loader.load()).entries.length, 1, 'kept while it may be mid-write');
  assert.deepEqual([...loader.emptied], [f]);
  assert.equal((await loader.load()).entries.length, 0, 'still empty: gone');

  // The watching source settles it by itself, without another event.
  await writeFile(f, svc('b'));
  const updates: FileState[] = [];
  const src = new FileSource([dir], { debounceMs: 50, onUpdate: (s) => updates.push(s) });
  t.after(() => src.close());
  assert.equal((await src.start()).entries.length, 1);
  await writeFile(f, '');
  const end = Date.now() + 5000;
  while (!updates.some((u) => u.entries.length === 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.ok(updates.some((u) => u.entries.length === 0), 'the emptied file was dropped');
});

test('reloads reuse the entries of unchanged files, and a new file duplicating one of their objects is still reported', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'b.yaml'), `${svc('one')}---\n${svc('two')}`);
  await writeFile(join(dir, 'c.yaml'), svc('three'));
  const loader = new FileLoader([dir]);
  const first = await loader.load();
  const second = await loader.load();
  assert.deepEqual(second.problems, []);
  assert.deepEqual(names(second), names(first));
  for (let i = 0; i < first.entries.length; i++) assert.equal(second.entries[i], first.entries[i]);
  // a.yaml sorts first: its copy of Service one wins, b.yaml's is the duplicate (as on a first load).
  await writeFile(join(dir, 'a.yaml'), svc('one', 81));
  const third = await loader.load();
  assert.deepEqual(names(third), ['Service/default/one', 'Service/default/two', 'Service/default/three']);
  assert.equal((third.entries[0]!.resource as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port, 81);
  assert.equal(third.problems.length, 1);
  assert.match(formatProblem(third.problems[0]!), /b\.yaml.*duplicate object/);
  assert.equal(third.entries[2], first.entries[2]);
  // a.yaml gone: b.yaml's Service one is back, the same object as before.
  await unlink(join(dir, 'a.yaml'));
  const fourth = await loader.load();
  assert.deepEqual(fourth.problems, []);
  assert.deepEqual(names(fourth), names(first));
  assert.equal(fourth.entries[0]!.resource, first.entries[0]!.resource);
  assert.deepEqual(fourth, await loadPaths([dir]));
  // Editing one document of a file whose entries came from the last load keeps the other's entry.
  assert.equal((await loader.load()).entries[0], fourth.entries[0]);
  await writeFile(join(dir, 'b.yaml'), `${svc('one')}---\n${svc('two', 82)}`);
  const fifth = await loader.load();
  assert.equal(fifth.entries[0], fourth.entries[0]);
  assert.notEqual(fifth.entries[1], fourth.entries[1]);
});
