// The file source: manifests on disk (files or folders, recursive; .yaml/.yml/.json;
// multi-document; `kind: List`) turned into store Entries with origin "file:line".
// It watches for change and emits a new entry set, debounced. It never throws on bad
// input and never lets one bad edit take config away: a file that stops parsing keeps
// its last good documents, an object that becomes invalid keeps its last good version.
//
// A reload costs what changed, not what is loaded: the watcher names the files that changed and
// only those are read again (a change it cannot name lists every path again); each document
// claims its key, and only the keys the changed files claimed or claim now are decided again;
// the entries are a version of one VersionedMap (store/versioned-map.ts), which the Snapshot
// takes as it is.

import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Stats } from 'node:fs';
import { CLUSTER_SCOPED } from '../api/names.js';
import type { FieldError } from '../api/validate.js';
import { keyOf, type Entry } from '../store/snapshot.js';
import { VersionedMap } from '../store/versioned-map.js';
import { sortedIndex } from '../store/arrays.js';
import { AdaptiveDebounce } from '../store/debounce.js';
import { checkObject, display, KNOWN, listFiles, manifestName, parseText, reuseUnchanged, textDigest, type FileProblem, type ParsedDoc } from './file-parse.js';

export { formatProblem, listFiles, parseText, type FileProblem, type ParsedDoc } from './file-parse.js';

export interface FileState {
  /** Every object, one entry per key (made on first read: the reload path reads `byKey`). */
  readonly entries: Entry[];
  problems: FileProblem[];
  /**
   * The same entries by store key (keyOf), placed as the Snapshot places them: a version of the
   * loader's map, so `new Snapshot(byKey, previous)` costs what changed since `previous`.
   */
  readonly byKey?: VersionedMap<Entry>;
}

export interface FileSourceOptions {
  /**
   * Quiet period that ends a burst of changes before reloading. Default 200 ms. A change when
   * changes are rare reloads after only `settleMs` (default 5 ms): store/debounce.ts.
   */
  debounceMs?: number;
  settleMs?: number;
  /** Called with every new entry set (only when it differs from the previous one, or problems changed). */
  /** `eventAt`: performance.now() of the first watcher event this state answers (undefined when a retry, not an event, reloaded). */
  onUpdate?: (state: FileState, eventAt?: number) => void;
}

/** Files modified within this long before the previous load are checked by content, not by stat alone. */
const RECENT_MS = 2000;

interface ParsedFile {
  mtimeMs: number;
  size: number;
  ino: number;
  /** sha1 of the text last read: a re-read of an unchanged file is not parsed again. */
  digest: string;
  /** Documents of the last version of the file that parsed cleanly. */
  good: ParsedDoc[];
  /** Syntax problems of the current version (empty when it parses). */
  syntax: FileProblem[];
}

/** A claim without problems: the one array all of them share. */
const NO_PROBLEMS: readonly FileProblem[] = Object.freeze([]);

/** One document's claim on a store key. Which claim gives the key its entry is decided across files (FileLoader.decide). */
interface Claim {
  readonly key: string;
  readonly file: string;
  /** The document's place in its file: with `file`, the order claims are decided in. */
  readonly index: number;
  readonly where: Pick<FileProblem, 'file' | 'line' | 'kind' | 'namespace' | 'name'>;
  /** A valid document: the entry it gives. */
  readonly entry?: Entry;
  /** An invalid one: its field errors (it keeps the key's last good entry, if there is one). */
  readonly errors?: readonly FieldError[];
  /** What the document says once decided: a duplicate, or its errors. */
  problems: readonly FileProblem[];
}

/** What one file gives, from its last good documents. */
interface FileOut {
  readonly good: readonly ParsedDoc[];
  syntax: readonly FileProblem[];
  readonly shown: string;
  /** Per document: its claim on a key, or the problems of a document that claims none. */
  readonly docs: readonly (Claim | FileProblem[])[];
  problems: FileProblem[];
}

const before = (a: Claim, b: Claim) => (a.file === b.file ? a.index < b.index : a.file < b.file);

/** A FileState over one version of the loader's map; `entries` is made when first read. */
function fileState(byKey: VersionedMap<Entry>, problems: FileProblem[]): FileState {
  let entries: Entry[] | undefined;
  const state = {
    get entries() {
      return (entries ??= [...byKey.values()]);
    },
    problems,
  };
  // Not enumerable: states compare (assert.deepEqual) by what they hold, not by the map's versions.
  Object.defineProperty(state, 'byKey', { value: byKey, enumerable: false });
  return state as FileState;
}

/**
 * Loads paths, again and again. Keeps per-file and per-object "last good" memory between calls,
 * which is what makes an edit that breaks a file or an object harmless to the running config,
 * and per-file claims, which is what makes a reload cost what changed.
 */
export class FileLoader {
  private readonly files = new Map<string, ParsedFile>();
  private readonly outs = new Map<string, FileOut>();
  /** The files in `outs`, sorted: the order problems are listed in and duplicates are decided by. */
  private readonly order: string[] = [];
  /** Per store key, the documents that name it, in file order. */
  private readonly claims = new Map<string, Claim[]>();
  /** The entries of the last load: also each key's last good version. */
  private current = VersionedMap.of(new Map<string, Entry>());
  /** Problems of listing the paths (a named path missing, a folder unreadable), from the last full listing. */
  private listProblems: FileProblem[] = [];
  private problems: FileProblem[] = [];
  /** Paths given by name (resolved): one that comes or goes is a change of the listing. */
  private readonly named: Set<string>;
  /** When the last load() began (0 before the first): see RECENT_MS. */
  private loadedAt = 0;
  /**
   * Files that read empty on the last load although they held documents: most often a write
   * caught between its truncate and its data. Their documents stay for one more load (which
   * reads them again); empty again then, they are gone. FileSource reloads after its debounce
   * period to settle it.
   */
  emptied = new Set<string>();
  /** Folders seen on the last full listing (the watcher follows them). */
  dirs = new Set<string>();

  /** `stdin`: the text read from standard input, when `paths` includes '-'. */
  constructor(
    private readonly paths: readonly string[],
    private readonly stdin?: string,
  ) {
    this.named = new Set(paths.filter((p) => p !== '-').map((p) => resolve(p)));
  }

  /**
   * Loads. `changed`: absolute paths a watcher saw change since the last load (files, or entries
   * of a watched folder): only those are read again. Without it, on the first load, and when one
   * of them is a folder or a path given by name that came or went, every path is listed again.
   */
  async load(changed?: Iterable<string>): Promise<FileState> {
    const startedAt = Date.now();
    const emptiedBefore = this.emptied;
    this.emptied = new Set();
    const touched = new Set<string>();
    const targeted = changed !== undefined && this.loadedAt > 0 && (await this.readOnly(changed, emptiedBefore, touched));
    if (!targeted) await this.readAll(emptiedBefore, touched);
    this.loadedAt = startedAt;
    return this.assemble(touched, !targeted);
  }

  /**
   * Reads the named paths (and files read empty last time) again; false when the listing must be
   * redone instead. Synchronously: a few files, and each thread-pool round trip of an async read
   * costs more than the read itself when the machine is busy.
   */
  private async readOnly(changed: Iterable<string>, emptiedBefore: ReadonlySet<string>, touched: Set<string>): Promise<boolean> {
    for (const p of new Set([...changed, ...emptiedBefore])) {
      const known = this.files.has(p);
      if (this.dirs.has(p) || (this.named.has(p) && !known)) return false;
      // Not ours: a sibling of a file given by name, a temp file, an editor's swap file.
      if (!known && (!this.dirs.has(dirname(p)) || basename(p).startsWith('.') || basename(p) === 'node_modules')) continue;
      let st: Stats;
      try {
        st = statSync(p);
      } catch {
        if (this.named.has(p)) return false; // the listing reports a named path that is gone
        if (known) (this.files.delete(p), touched.add(p));
        continue;
      }
      if (st.isDirectory()) return false; // a new folder: list it (and watch it)
      if (!st.isFile() || (!known && !manifestName(p))) {
        if (known) (this.files.delete(p), touched.add(p));
        continue;
      }
      await this.read(p, st, emptiedBefore, true);
      touched.add(p);
    }
    return true;
  }

  /** Lists every path again; reads each file whose stat changed or that changed recently. */
  private async readAll(emptiedBefore: ReadonlySet<string>, touched: Set<string>): Promise<void> {
    const problems: FileProblem[] = [];
    const dirs = new Set<string>();
    const list = await listFiles(
      this.paths.filter((p) => p !== '-'),
      problems,
      dirs,
    );
    this.dirs = dirs;
    this.listProblems = problems;
    const listed = new Set(list);
    for (const f of [...this.files.keys()]) if (!listed.has(f) && f !== '-') (this.files.delete(f), touched.add(f));
    if (this.stdin !== undefined && this.paths.includes('-') && !this.files.has('-')) {
      const { docs, syntax } = parseText(this.stdin, 'stdin');
      this.files.set('-', { mtimeMs: 0, size: 0, ino: 0, digest: '', good: docs, syntax });
      touched.add('-');
    }
    for (const f of list) {
      let st: Stats;
      try {
        st = await stat(f);
      } catch {
        if (this.files.delete(f)) touched.add(f);
        continue;
      }
      const prev = this.files.get(f);
      const sameStat = prev !== undefined && prev.mtimeMs === st.mtimeMs && prev.size === st.size && prev.ino === st.ino;
      // File times are coarse (a clock tick of a few ms): a same-size rewrite within the tick of
      // the version last read keeps its mtime. Only a file stamped well before the last load
      // cannot hide a change that way; recent ones are read again and compared by content.
      if (sameStat && st.mtimeMs < this.loadedAt - RECENT_MS && !emptiedBefore.has(f)) continue;
      await this.read(f, st, emptiedBefore);
      touched.add(f);
    }
  }

  /** Reads one file into `files`: parsed again only when its text changed. */
  private async read(f: string, st: Stats, emptiedBefore: ReadonlySet<string>, sync = false): Promise<void> {
    const shown = display(f);
    const prev = this.files.get(f);
    const stamp = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
    let text: string;
    try {
      text = sync ? readFileSync(f, 'utf8') : await readFile(f, 'utf8');
    } catch (e) {
      this.files.set(f, { ...stamp, digest: '', good: prev?.good ?? [], syntax: [{ severity: 'error', file: shown, line: 0, message: `cannot read: ${(e as Error).message}` }] });
      return;
    }
    if (text.length === 0 && prev !== undefined && prev.good.length > 0 && !emptiedBefore.has(f)) {
      this.emptied.add(f); // keep `prev` as it is, stamp included: the next load reads it again
      return;
    }
    const digest = textDigest(text);
    if (prev !== undefined && prev.digest === digest) {
      this.files.set(f, { ...prev, ...stamp });
      return;
    }
    const { docs: parsed, syntax } = parseText(text, shown);
    const docs = reuseUnchanged(parsed, prev?.good);
    if (syntax.length > 0) {
      // Keep the last version that parsed; on a first load, keep the documents that did parse.
      const good = prev && prev.good.length > 0 ? prev.good : docs;
      const keep = prev?.good.length ? ` (keeping the last good version of ${shown})` : '';
      this.files.set(f, { ...stamp, digest, good, syntax: syntax.map((s) => ({ ...s, message: s.message + keep })) });
    } else {
      this.files.set(f, { ...stamp, digest, good: docs, syntax: [] });
    }
  }

  /** The new state from the files in `touched`: their claims made again, the keys they claim decided again. */
  private assemble(touched: ReadonlySet<string>, relisted: boolean): FileState {
    const keys = new Set<string>();
    const again = new Set<string>(); // files whose problem list is made again
    let problemsMoved = relisted && (this.listProblems.length > 0 || this.problems.length > 0);
    for (const f of touched) {
      const pf = this.files.get(f);
      const out = this.outs.get(f);
      const shown = f === '-' ? 'stdin' : display(f);
      if (out && pf && out.good === pf.good && out.shown === shown) {
        if (out.syntax !== pf.syntax) (out.syntax = pf.syntax), again.add(f);
        continue;
      }
      if (out) {
        for (const d of out.docs) if (!Array.isArray(d)) (this.unclaim(d as Claim), keys.add((d as Claim).key));
        if (out.problems.length > 0) problemsMoved = true;
      }
      if (!pf) {
        if (out) (this.outs.delete(f), this.order.splice(sortedIndex(this.order, f), 1));
        continue;
      }
      const docs = pf.good.map((doc, i) => this.claimOf(f, shown, i, doc));
      for (const d of docs) if (!Array.isArray(d)) (this.claim(d as Claim), keys.add((d as Claim).key));
      if (!out) this.order.splice(sortedIndex(this.order, f), 0, f);
      this.outs.set(f, { good: pf.good, syntax: pf.syntax, shown, docs, problems: [] });
      again.add(f);
    }
    const changes: [string, Entry | undefined][] = [];
    for (const k of keys) {
      const entry = this.decide(k, again);
      if (entry !== this.current.get(k)) changes.push([k, entry]);
    }
    for (const f of again) {
      const out = this.outs.get(f)!;
      const had = out.problems.length;
      out.problems = [...out.syntax];
      for (const d of out.docs) out.problems.push(...(Array.isArray(d) ? d : (d as Claim).problems));
      if (had > 0 || out.problems.length > 0) problemsMoved = true;
    }
    if (problemsMoved) {
      this.problems = [...this.listProblems];
      for (const f of this.order) this.problems.push(...this.outs.get(f)!.problems);
    }
    this.current = this.current.with(changes);
    return fileState(this.current, this.problems);
  }

  /** Which claim gives key `k` its entry (the first in file order; an invalid one keeps the last good entry); each claim's problems. */
  private decide(k: string, again: Set<string>): Entry | undefined {
    const kept = this.current.get(k);
    let entry: Entry | undefined;
    for (const c of this.claims.get(k) ?? []) {
      again.add(c.file);
      if (c.entry) {
        if (entry) c.problems = [{ severity: 'error', ...c.where, message: `duplicate object: already defined at ${entry.origin}; this copy is ignored` }];
        else ((entry = c.entry), (c.problems = NO_PROBLEMS));
      } else {
        const suffix = kept ? ' (keeping the last good version)' : '';
        c.problems = c.errors!.map((e) => ({ severity: 'error', ...c.where, path: e.path || undefined, message: e.message + suffix }));
        if (kept && !entry) entry = kept;
      }
    }
    return entry;
  }

  private claim(c: Claim): void {
    const list = this.claims.get(c.key);
    if (!list) return void this.claims.set(c.key, [c]);
    let i = list.length;
    while (i > 0 && before(c, list[i - 1]!)) i--;
    list.splice(i, 0, c);
  }

  private unclaim(c: Claim): void {
    const list = this.claims.get(c.key);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.claims.delete(c.key);
  }

  /** Document `doc` of file `f`: its claim on a key, or the problems of a document that claims none. */
  private claimOf(f: string, file: string, index: number, doc: ParsedDoc): Claim | FileProblem[] {
    const v = doc.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return [{ severity: 'error', file, line: doc.line, message: 'a manifest must be an object with apiVersion, kind and metadata' }];
    }
    const o = v as Record<string, unknown>;
    const kind = typeof o.kind === 'string' ? o.kind : undefined;
    const meta = typeof o.metadata === 'object' && o.metadata !== null ? (o.metadata as Record<string, unknown>) : {};
    const name = typeof meta.name === 'string' ? meta.name : undefined;
    const ns = kind && CLUSTER_SCOPED.has(kind) ? undefined : typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
    const where = { file, line: doc.line, kind, namespace: ns, name };
    if (kind && !KNOWN.has(kind)) return [{ severity: 'warning', ...where, message: `ignored: Portico does not read kind ${kind}` }];
    doc.checked ??= checkObject(o, kind!, meta);
    const { errors, resource } = doc.checked;
    // Checked once, the document is read here only for kind, name and namespace, which the
    // resource carries as well: the parsed value it was defaulted from (every HTTPRoute's spec
    // again, 8.5 MB at 10,000 routes) need not stay beside it.
    if (resource) doc.value = resource;
    const key = kind && name ? keyOf(kind, ns, name) : undefined;
    if (!key) return errors.map((e) => ({ severity: 'error', ...where, path: e.path || undefined, message: e.message }));
    if (errors.length > 0) return { key, file: f, index, where, errors, problems: NO_PROBLEMS };
    // Reuse the previous Entry when nothing about it changed, so consumers can compare by identity.
    const origin = [file, doc.line].join(':'); // one flat string, kept per object (store/snapshot.ts keyOf)
    const prev = this.current.get(key);
    const entry: Entry = prev && prev.resource === resource && prev.origin === origin ? prev : { resource: resource!, origin };
    return { key, file: f, index, where, entry, problems: NO_PROBLEMS };
  }
}

/** One-shot load: what `portico check` uses. A path '-' reads `stdin` (the text of standard input). */
export async function loadPaths(paths: readonly string[], stdin?: string): Promise<FileState> {
  return new FileLoader(paths, stdin).load();
}

/**
 * The loader's map gets a new version only when an entry moved, so the versions tell. (Not
 * `entries`: reading them from an older version gives it a Map of its own, O(size), and the next
 * Snapshot would no longer find its changes by walking the versions.)
 */
function sameState(a: FileState | undefined, b: FileState): boolean {
  if (!a) return false;
  if (a.byKey !== undefined && b.byKey !== undefined) {
    if (a.byKey !== b.byKey) return false;
  } else {
    if (a.entries.length !== b.entries.length) return false;
    for (let i = 0; i < a.entries.length; i++) if (a.entries[i] !== b.entries[i]) return false;
  }
  return a.problems === b.problems || JSON.stringify(a.problems) === JSON.stringify(b.problems);
}

/** Loads, then watches: a change reloads (debounced: store/debounce.ts) and emits when anything changed. */
export class FileSource {
  private readonly loader: FileLoader;
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly debounce: AdaptiveDebounce;
  private readonly debounceMs: number;
  private emptyCheck: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private last: FileState | undefined;
  /** What the watchers named since the last load began; `relist`: a change they could not name (read everything). */
  private changed = new Set<string>();
  private relist = false;
  /** When the first of those events came (performance.now()). */
  private eventAt: number | undefined;

  constructor(
    private readonly paths: readonly string[],
    private readonly options: FileSourceOptions = {},
  ) {
    this.loader = new FileLoader(paths);
    const debounceMs = (this.debounceMs = options.debounceMs ?? 200);
    this.debounce = new AdaptiveDebounce(() => void this.reload(), {
      settleMs: Math.min(options.settleMs ?? 5, debounceMs),
      debounceMs,
      burstWindowMs: Math.max(500, debounceMs * 2),
      maxDelayMs: Math.max(1000, debounceMs * 5),
    });
  }

  /** First load; starts watching. */
  async start(): Promise<FileState> {
    const state = await this.loader.load();
    this.last = state;
    this.syncWatchers();
    return state;
  }

  close(): void {
    this.closed = true;
    this.debounce.cancel();
    clearTimeout(this.emptyCheck);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private syncWatchers(): void {
    if (this.closed) return;
    // Watch folders (not files): editors save by writing a new file and renaming it over
    // the old one, which a watch on the old file's inode would miss.
    const want = new Set<string>(this.loader.dirs);
    for (const p of this.paths) {
      const abs = resolve(p);
      if (!this.loader.dirs.has(abs)) want.add(dirname(abs));
    }
    for (const [d, w] of this.watchers) if (!want.has(d)) (w.close(), this.watchers.delete(d));
    for (const d of want) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: true }, (_event, filename) => this.onEvent(d, filename ? String(filename) : undefined));
        w.on('error', () => {
          w.close();
          this.watchers.delete(d);
          this.relist = true;
          this.schedule();
        });
        this.watchers.set(d, w);
      } catch {
        // The folder vanished between listing and watching; the next reload sorts it out.
      }
    }
  }

  private onEvent(dir: string, filename: string | undefined): void {
    if (!filename) {
      this.relist = true; // the platform did not say what changed
      return this.schedule();
    }
    if (!this.loader.dirs.has(dir)) {
      // A parent folder watched for an explicitly named file: ignore its siblings.
      const named = this.paths.some((p) => resolve(p) === join(dir, filename) || basename(resolve(p)) === filename);
      if (!named) return;
    }
    this.changed.add(join(dir, filename));
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.eventAt ??= performance.now();
    this.debounce.trigger();
  }

  private async reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return;
    }
    const changed = this.relist ? undefined : this.changed;
    const eventAt = this.eventAt;
    this.changed = new Set();
    this.relist = false;
    this.eventAt = undefined;
    this.loading = (async () => {
      try {
        // Only what the watchers named (FileLoader.load); files read empty last time are read again too.
        const state = await this.loader.load(changed);
        if (this.closed) return;
        if (this.loader.emptied.size > 0) {
          // A file read empty mid-write: look again once the write had time to finish.
          clearTimeout(this.emptyCheck);
          this.emptyCheck = setTimeout(() => void this.reload(), this.debounceMs);
        }
        this.syncWatchers();
        if (!sameState(this.last, state)) {
          this.last = state;
          try {
            this.options.onUpdate?.(state, eventAt);
          } catch {
            // A consumer's failure is its own; the source keeps watching.
          }
        }
      } catch {
        // load() reports problems instead of throwing; anything else is retried, every path read, on the next change.
        this.relist = true;
      }
    })();
    await this.loading;
    this.loading = undefined;
    if (this.again) {
      this.again = false;
      this.schedule();
    }
  }
}
