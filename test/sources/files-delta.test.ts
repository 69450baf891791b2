// The file loader reading only what the watcher named (FileLoader.load(changed)): on real files,
// after edits, additions, deletions, renames and folders coming and going, it holds exactly what
// a fresh full load of the same tree holds, and the Snapshot patched from its map equals a fresh
// one. Bad edits keep their last good version and say so by file, object and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLoader, FileSource, formatProblem, loadPaths, type FileState } from '../../src/sources/files.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { lcg } from '../lcg.js';

const svc = (name: string, port = 80) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  ports:
  - port: ${port}
`;

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'portico-files-delta-'));
}

/** What a state holds, in an order that does not depend on history: entries by key, problems as printed. */
const view = (s: FileState) => ({
  entries: [...s.byKey!].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, e]) => ({ k, origin: e.origin, resource: e.resource })),
  problems: s.problems.map(formatProblem),
});

test('reading only the named paths ends where a fresh full load does, through edits, additions, deletions, renames and folders', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rand = lcg(17);
  // Several documents per file over few names: the same object in two files (a duplicate) is common.
  const content = () =>
    Array.from({ length: 1 + rand(3) }, () => svc(`s${rand(8)}`, 80 + rand(5))).join('---\n');
  const files = new Set<string>();
  const loader = new FileLoader([dir]);
  let snapshot = new Snapshot((await loader.load()).byKey!);
  let relists = 0;
  for (let step = 0; step < 120; step++) {
    const changed: string[] = [];
    const op = rand(10);
    const existing = [...files];
    const pick = () => existing[rand(existing.length)]!;
    const fresh = () => join(rand(4) === 0 ? join(dir, 'sub') : dir, `f${rand(12)}.yaml`);
    const inSub = (f: string) => f.startsWith(join(dir, 'sub'));
    const subExists = existing.some(inSub) || files.has('sub');
    if (op < 4 || existing.length === 0) {
      const f = op < 2 && existing.length > 0 ? pick() : fresh();
      if (inSub(f) && !subExists) {
        await mkdir(join(dir, 'sub'), { recursive: true });
        changed.push(join(dir, 'sub')); // the folder's watcher names the new folder
      }
      await writeFile(f, content());
      files.add(f);
      changed.push(f);
    } else if (op < 6) {
      const f = pick();
      await unlink(f);
      files.delete(f);
      changed.push(f);
    } else if (op < 8) {
      // An editor-style save, or a move to another name.
      const from = pick();
      const to = rand(2) === 0 ? from : join(dir, `f${rand(12)}.yaml`);
      const temp = join(dir, '.save.tmp');
      await writeFile(temp, content());
      await rename(temp, to);
      if (to !== from) (await unlink(from).catch(() => undefined), files.delete(from));
      files.add(to);
      changed.push(temp, from, to);
    } else if (op === 8 && subExists) {
      await rm(join(dir, 'sub'), { recursive: true, force: true });
      for (const f of existing) if (inSub(f)) files.delete(f);
      changed.push(join(dir, 'sub'));
    } else {
      // Nothing on disk changed: nothing moves (the same map version, the same problems).
      const before = await loader.load([]);
      const again = await loader.load([join(dir, existing[0] ? existing[0] : 'none.yaml')]);
      assert.equal(again.byKey, before.byKey, `step ${step}: no new version without a change`);
      assert.equal(again.problems, before.problems);
      continue;
    }
    const dirsBefore = loader.dirs;
    const state = await loader.load(changed);
    if (loader.dirs !== dirsBefore) relists++;
    const full = await loadPaths([dir]);
    assert.deepEqual(view(state), view(full), `step ${step}: op ${op}, changed ${changed.join(' ')}`);
    // The Snapshot made from the map's new version is the one a fresh Snapshot is.
    const next = new Snapshot(state.byKey!, snapshot);
    const want = new Snapshot(full.entries);
    for (const kind of ['Service']) assert.deepEqual(next.entries(kind), want.entries(kind).map((e) => state.byKey!.get(`Service/default/${e.resource.metadata.name}`)));
    assert.deepEqual(next.list('Service'), want.list('Service'), `step ${step}`);
    snapshot = next;
  }
  assert.ok(relists > 0 && relists < 60, `a folder coming or going lists again, a file alone does not (${relists} of 120)`);
});

test('a path the watcher did not name is not read; a load without names (no filename in the event) reads everything', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.yaml'), svc('a', 80));
  await writeFile(join(dir, 'b.yaml'), svc('b', 80));
  const loader = new FileLoader([dir]);
  await loader.load();
  const port = (s: FileState, n: string) => (s.byKey!.get(`Service/default/${n}`)!.resource.spec as { ports: { port: number }[] }).ports[0]!.port;
  await writeFile(join(dir, 'a.yaml'), svc('a', 81));
  await writeFile(join(dir, 'b.yaml'), svc('b', 81));
  let s = await loader.load([join(dir, 'b.yaml')]);
  assert.equal(port(s, 'b'), 81);
  assert.equal(port(s, 'a'), 80, 'a.yaml was not named: not read');
  s = await loader.load();
  assert.equal(port(s, 'a'), 81, 'read when every path is read again');
  assert.deepEqual(view(s), view(await loadPaths([dir])));
});

test('the watching source reads everything again when an event names no file', async (t) => {
  const dir = await tmp();
  await writeFile(join(dir, 'a.yaml'), svc('a', 80));
  const updates: FileState[] = [];
  const src = new FileSource([dir], { debounceMs: 20, onUpdate: (s) => updates.push(s) });
  t.after(async () => {
    src.close();
    await rm(dir, { recursive: true, force: true });
  });
  await src.start();
  // Written behind the watcher's back (its watch closed), then an event without a filename, as
  // some platforms send: only a full read can find the change.
  for (const w of (src as unknown as { watchers: Map<string, { close(): void }> }).watchers.values()) w.close();
  (src as unknown as { watchers: Map<string, unknown> }).watchers.clear();
  await writeFile(join(dir, 'a.yaml'), svc('a', 82));
  await writeFile(join(dir, 'new.yaml'), svc('n', 80));
  (src as unknown as { onEvent(dir: string, filename: string | undefined): void }).onEvent(dir, undefined);
  const end = Date.now() + 5000;
  while (!updates.some((u) => u.byKey!.size === 2) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const last = updates.at(-1)!;
  assert.deepEqual(view(last), view(await loadPaths([dir])));
  assert.equal((last.byKey!.get('Service/default/a')!.resource.spec as { ports: { port: number }[] }).ports[0]!.port, 82);
});

test('a bad edit read alone keeps the last good version, says where and what, and the rest keeps serving', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const m = join(dir, 'm.yaml');
  await writeFile(m, `${svc('a', 80)}---\n${svc('b', 90)}`);
  await writeFile(join(dir, 'other.yaml'), svc('other', 70));
  const loader = new FileLoader([dir]);
  const first = await loader.load();
  const other = first.byKey!.get('Service/default/other');

  // One object invalid: it keeps its last version, the problem names file:line, the object, the field and the bound.
  await writeFile(m, `${svc('a', 81)}---\n${svc('b', 99999)}`);
  let s = await loader.load([m]);
  const port = (n: string) => (s.byKey!.get(`Service/default/${n}`)!.resource.spec as { ports: { port: number }[] }).ports[0]!.port;
  assert.equal(port('a'), 81);
  assert.equal(port('b'), 90);
  assert.deepEqual(
    s.problems.map(formatProblem),
    [`${m}:9: Service default/b: spec.ports[0].port: must be at most 65535 and at least 1 (got 99999) (keeping the last good version)`],
  );
  assert.match(s.problems[0]!.file, /m\.yaml$/);
  assert.equal(s.byKey!.get('Service/default/other'), other, 'another file keeps its very entry');

  // The file stops parsing: both objects keep their last good documents.
  await writeFile(m, `${svc('a', 82)}---\nkind: [unclosed\n`);
  s = await loader.load([m]);
  assert.equal(port('a'), 81);
  assert.equal(port('b'), 90);
  assert.match(s.problems.map(formatProblem).join('\n'), /m\.yaml:\d+: YAML syntax: .*\(keeping the last good version of .*m\.yaml\)/);

  // Fixed: new content, no problems, and what a fresh load gives.
  await writeFile(m, `${svc('a', 83)}---\n${svc('b', 91)}`);
  s = await loader.load([m]);
  assert.deepEqual(s.problems, []);
  assert.deepEqual(view(s), view(await loadPaths([dir])));

  // A new file duplicating an object of another: reported at the later file, the first keeps serving.
  await writeFile(join(dir, 'z.yaml'), svc('other', 71));
  s = await loader.load([join(dir, 'z.yaml')]);
  assert.equal(s.byKey!.get('Service/default/other'), other);
  assert.match(s.problems.map(formatProblem).join('\n'), /z\.yaml:1: Service default\/other: duplicate object: already defined at .*other\.yaml:1; this copy is ignored/);
  // The first copy goes: the second takes the key, its problem goes.
  await unlink(join(dir, 'other.yaml'));
  s = await loader.load([join(dir, 'other.yaml')]);
  assert.match(s.byKey!.get('Service/default/other')!.origin!, /z\.yaml:1$/);
  assert.deepEqual(s.problems, []);
  assert.deepEqual(view(s), view(await loadPaths([dir])));
});

test('a folder added and removed, and a file given by name that goes and comes back', async (t) => {
  const dir = await tmp();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const named = join(dir, 'named.yaml');
  await mkdir(join(dir, 'tree'));
  await writeFile(named, svc('named'));
  const loader = new FileLoader([join(dir, 'tree'), named]);
  await loader.load();
  await mkdir(join(dir, 'tree', 'sub', 'deeper'), { recursive: true });
  await writeFile(join(dir, 'tree', 'sub', 'deeper', 'x.yaml'), svc('x'));
  let s = await loader.load([join(dir, 'tree', 'sub')]);
  assert.ok(s.byKey!.has('Service/default/x'));
  assert.ok(loader.dirs.has(join(dir, 'tree', 'sub', 'deeper')), 'the new folders are watched');
  await rm(join(dir, 'tree', 'sub'), { recursive: true });
  s = await loader.load([join(dir, 'tree', 'sub')]);
  assert.ok(!s.byKey!.has('Service/default/x'));
  assert.ok(!loader.dirs.has(join(dir, 'tree', 'sub')));
  await unlink(named);
  s = await loader.load([named]);
  assert.ok(!s.byKey!.has('Service/default/named'));
  assert.match(s.problems.map(formatProblem).join('\n'), /named\.yaml:0: cannot read: ENOENT/);
  await writeFile(named, svc('named', 81));
  s = await loader.load([named]);
  assert.ok(s.byKey!.has('Service/default/named'));
  assert.deepEqual(s.problems, []);
  assert.deepEqual(view(s), view(await loadPaths([join(dir, 'tree'), named])));
});
