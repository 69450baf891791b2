// The file source: manifests on disk (files or folders, recursive; .yaml/.yml/.json;
// multi-document; `kind: List`) turned into store Entries with origin "file:line".
// It watches for change and emits a new entry set, debounced. It never throws on bad
// input and never lets one bad edit take config away: a file that stops parsing keeps
// its last good documents, an object that becomes invalid keeps its last good version.

import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Composer, isMap, isSeq, LineCounter, Parser, type Document } from 'yaml';
import type { Resource } from '../api/types.js';
import { CLUSTER_SCOPED } from '../api/names.js';
import { applyDefaults, KNOWN_KINDS, validate, type FieldError } from '../api/validate.js';
import { keyOf, type Entry } from '../store/snapshot.js';
import { AdaptiveDebounce } from '../store/debounce.js';
import { readBlockYaml } from './yaml-block.js';

export interface FileProblem {
  /** 'error' makes `portico check` fail; 'warning' is printed only (e.g. a kind Portico does not read). */
  severity: 'error' | 'warning';
  file: string;
  line: number;
  kind?: string;
  namespace?: string;
  name?: string;
  /** Field path inside the object, when the problem is one field. */
  path?: string;
  message: string;
}

/** `file:line: Kind ns/name: field: message` — the one way a problem is shown. */
export function formatProblem(p: FileProblem): string {
  const parts = [`${p.file}:${p.line}`];
  if (p.kind) parts.push(`${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name ?? '(unnamed)'}`);
  if (p.path) parts.push(p.path);
  parts.push(p.message);
  return parts.join(': ');
}

export interface FileState {
  entries: Entry[];
  problems: FileProblem[];
}

export interface FileSourceOptions {
  /**
   * Quiet period that ends a burst of changes before reloading. Default 200 ms. A change when
   * changes are rare reloads after only `settleMs` (default 5 ms): store/debounce.ts.
   */
  debounceMs?: number;
  settleMs?: number;
  /** Called with every new entry set (only when it differs from the previous one, or problems changed). */
  onUpdate?: (state: FileState) => void;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const KNOWN = new Set(KNOWN_KINDS);

export interface ParsedDoc {
  line: number;
  value: unknown;
  /** Validation and defaulting, done once per parsed document (unchanged files are not re-checked). */
  checked?: { errors: FieldError[]; resource?: Resource };
  /**
   * A digest of the document's own text (not for `kind: List` items): an unchanged document of a
   * changed file is recognised by it. A digest, not the text: the text would keep every file read.
   */
  source?: string;
}
/** Files modified within this long before the previous load are checked by content, not by stat alone. */
const RECENT_MS = 2000;

interface Contribution {
  good: ParsedDoc[];
  shown: string;
  keys: string[];
  entries: Entry[];
}

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

function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Every manifest file under `paths`, sorted, so the same tree always loads in the same order. */
export async function listFiles(paths: readonly string[], problems: FileProblem[], dirs?: Set<string>): Promise<string[]> {
  const out = new Set<string>();
  async function visit(p: string, explicit: boolean): Promise<void> {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      if (explicit) problems.push({ severity: 'error', file: display(p), line: 0, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    if (st.isDirectory()) {
      dirs?.add(p);
      let names: string[];
      try {
        names = await readdir(p);
      } catch (e) {
        problems.push({ severity: 'error', file: display(p), line: 0, message: `cannot list folder: ${(e as Error).message}` });
        return;
      }
      for (const n of names.sort()) {
        if (n.startsWith('.') || n === 'node_modules') continue;
        await visit(join(p, n), false);
      }
    } else if (st.isFile() && (explicit || EXTENSIONS.has(extname(p).toLowerCase()))) {
      out.add(p);
    }
  }
  for (const p of paths) await visit(resolve(p), true);
  return [...out].sort();
}

function textDigest(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

export function parseText(text: string, file: string): { docs: ParsedDoc[]; syntax: FileProblem[] } {
  // Plain block YAML (nearly every manifest) is read by yaml-block.ts, ~20x faster; anything it
  // does not handle, errors included, goes through the full parser below.
  const block = readBlockYaml(text);
  if (block) return { docs: block.map((d) => ({ line: d.line, value: d.value, source: textDigest(text.slice(d.start, d.end)) })), syntax: [] };
  const lc = new LineCounter();
  const docs: ParsedDoc[] = [];
  const syntax: FileProblem[] = [];
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  // Documents one at a time (parseAllDocuments holds every document's syntax tree at once:
  // at 10,000 routes and 100,000 endpoints that peak, ~500 MB, stayed in the process's RSS).
  const parsed = new Composer({ prettyErrors: false, uniqueKeys: true }).compose(new Parser(lc.addNewLine).parse(text)) as Iterable<Document.Parsed>;
  try {
    for (const doc of parsed) addParsed(doc);
  } catch (e) {
    return { docs: [], syntax: [{ severity: 'error', file, line: 1, message: `cannot parse: ${(e as Error).message}` }] };
  }
  return { docs, syntax };

  function addParsed(doc: Document.Parsed): void {
    if (doc.errors.length > 0) {
      for (const err of doc.errors)
        syntax.push({ severity: 'error', file, line: lineOf(err.pos?.[0]), message: `YAML syntax: ${err.message.split('\n')[0]}` });
      return;
    }
    const contents = doc.contents;
    if (contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      syntax.push({ severity: 'error', file, line: lineOf(contents.range?.[0]), message: `cannot read document: ${(e as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return;
    const docLine = lineOf(contents.range?.[0]);
    // `kind: List` (kubectl's envelope) and a bare top-level array both hold objects as items.
    const isList = typeof value === 'object' && !Array.isArray(value) && /List$/.test(String((value as Record<string, unknown>).kind ?? '')) && Array.isArray((value as Record<string, unknown>).items);
    if (isList || Array.isArray(value)) {
      const items = (isList ? (value as { items: unknown[] }).items : (value as unknown[])) ?? [];
      const seq = isList && isMap(contents) ? contents.get('items', true) : contents;
      items.forEach((item, i) => {
        const node = isSeq(seq) ? seq.items[i] : undefined;
        const range = node && typeof node === 'object' && 'range' in node ? (node as { range?: [number, number, number] }).range : undefined;
        docs.push({ line: range ? lineOf(range[0]) : docLine, value: item });
      });
    } else {
      docs.push({ line: docLine, value, source: textDigest(text.slice(doc.range[0], doc.range[2])) });
    }
  }
}

/**
 * Loads paths once. Keeps per-file and per-object "last good" memory between calls, which
 * is what makes an edit that breaks a file or an object harmless to the running config.
 */
export class FileLoader {
  private readonly files = new Map<string, ParsedFile>();
  /** When the last load() began (0 before the first): see RECENT_MS. */
  private loadedAt = 0;
  private lastGood = new Map<string, Entry>();
  /** Per file, what its documents added on the last load when each gave one clean entry. */
  private contributed = new Map<string, Contribution>();
  /**
   * Files that read empty on the last load although they held documents: most often a write
   * caught between its truncate and its data. Their documents stay for one more load; empty
   * again then, they are gone. FileSource reloads after its debounce period to settle it.
   */
  emptied = new Set<string>();
  /** Folders seen on the last load (the watcher follows them). */
  dirs = new Set<string>();

  /** `stdin`: the text read from standard input, when `paths` includes '-'. */
  constructor(
    private readonly paths: readonly string[],
    private readonly stdin?: string,
  ) {}

  async load(): Promise<FileState> {
    const startedAt = Date.now();
    const emptiedBefore = this.emptied;
    this.emptied = new Set();
    const problems: FileProblem[] = [];
    const dirs = new Set<string>();
    const list = await listFiles(
      this.paths.filter((p) => p !== '-'),
      problems,
      dirs,
    );
    this.dirs = dirs;
    for (const f of [...this.files.keys()]) if (!list.includes(f) && f !== '-') this.files.delete(f);
    if (this.stdin !== undefined && this.paths.includes('-') && !this.files.has('-')) {
      const { docs, syntax } = parseText(this.stdin, 'stdin');
      this.files.set('-', { mtimeMs: 0, size: 0, ino: 0, digest: '', good: docs, syntax });
    }

    for (const f of list) {
      const shown = display(f);
      let st;
      try {
        st = await stat(f);
      } catch {
        this.files.delete(f);
        continue;
      }
      const prev = this.files.get(f);
      const stamp = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
      const sameStat = prev !== undefined && prev.mtimeMs === st.mtimeMs && prev.size === st.size && prev.ino === st.ino;
      // File times are coarse (a clock tick of a few ms): a same-size rewrite within the tick of
      // the version last read keeps its mtime. Only a file stamped well before the last load
      // cannot hide a change that way; recent ones are read again and compared by content.
      if (sameStat && st.mtimeMs < this.loadedAt - RECENT_MS) continue;
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch (e) {
        this.files.set(f, { ...stamp, digest: '', good: prev?.good ?? [], syntax: [{ severity: 'error', file: shown, line: 0, message: `cannot read: ${(e as Error).message}` }] });
        continue;
      }
      if (text.length === 0 && prev !== undefined && prev.good.length > 0 && !emptiedBefore.has(f)) {
        this.emptied.add(f); // keep `prev` as it is, stamp included: the next load reads it again
        continue;
      }
      const digest = createHash('sha1').update(text).digest('base64');
      if (prev !== undefined && prev.digest === digest) {
        this.files.set(f, { ...prev, ...stamp });
        continue;
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
    this.loadedAt = startedAt;

    const entries = new Map<string, Entry>();
    const nextGood = new Map<string, Entry>();
    const contributed = new Map<string, Contribution>();
    for (const [f, pf] of [...this.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const shown = f === '-' ? 'stdin' : display(f);
      problems.push(...pf.syntax);
      // A file whose documents are the ones of the last load, which then gave one clean entry
      // each: the same entries again, without checking 10,000 documents one by one.
      const last = this.contributed.get(f);
      if (last && last.good === pf.good && last.shown === shown && last.keys.every((k) => !entries.has(k))) {
        for (let i = 0; i < last.keys.length; i++) {
          entries.set(last.keys[i]!, last.entries[i]!);
          nextGood.set(last.keys[i]!, last.entries[i]!);
        }
        contributed.set(f, last);
        continue;
      }
      const problemsBefore = problems.length;
      const keys: string[] = [];
      for (const doc of pf.good) {
        const k = this.addDoc(shown, doc, entries, nextGood, problems);
        if (k !== undefined) keys.push(k);
      }
      // Every document added one entry and said nothing: remember them.
      if (keys.length === pf.good.length && problems.length === problemsBefore) contributed.set(f, { good: pf.good, shown, keys, entries: keys.map((k) => entries.get(k)!) });
    }
    this.contributed = contributed;
    this.lastGood = nextGood;
    return { entries: [...entries.values()], problems };
  }

  /** The key of the entry `doc` added, if it added one. */
  private addDoc(file: string, doc: ParsedDoc, entries: Map<string, Entry>, nextGood: Map<string, Entry>, problems: FileProblem[]): string | undefined {
    const v = doc.value;
    const origin = `${file}:${doc.line}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push({ severity: 'error', file, line: doc.line, message: 'a manifest must be an object with apiVersion, kind and metadata' });
      return;
    }
    const o = v as Record<string, unknown>;
    const kind = typeof o.kind === 'string' ? o.kind : undefined;
    const meta = typeof o.metadata === 'object' && o.metadata !== null ? (o.metadata as Record<string, unknown>) : {};
    const name = typeof meta.name === 'string' ? meta.name : undefined;
    const ns = kind && CLUSTER_SCOPED.has(kind) ? undefined : typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
    const where = { file, line: doc.line, kind, namespace: ns, name };
    if (kind && !KNOWN.has(kind)) {
      problems.push({ severity: 'warning', ...where, message: `ignored: Portico does not read kind ${kind}` });
      return;
    }
    doc.checked ??= check(o, kind!, meta);
    const errors = doc.checked.errors;
    const key = kind && name ? keyOf(kind, ns, name) : undefined;
    if (errors.length > 0) {
      const kept = key ? this.lastGood.get(key) : undefined;
      const suffix = kept ? ' (keeping the last good version)' : '';
      for (const e of errors) problems.push({ severity: 'error', ...where, path: e.path || undefined, message: e.message + suffix });
      if (kept && key && !entries.has(key)) {
        entries.set(key, kept);
        nextGood.set(key, kept);
      }
      return;
    }
    const k = key!;
    const first = entries.get(k);
    if (first) {
      problems.push({ severity: 'error', ...where, message: `duplicate object: already defined at ${first.origin}; this copy is ignored` });
      return;
    }
    // Reuse the previous Entry when nothing about it changed, so consumers can compare by identity.
    const prev = this.lastGood.get(k);
    const entry: Entry = prev && prev.resource === doc.checked.resource && prev.origin === origin ? prev : { resource: doc.checked.resource!, origin };
    entries.set(k, entry);
    nextGood.set(k, entry);
    return k;
  }
}

/**
 * Documents of a re-read file whose text did not change keep the checked object of the last
 * read (at their new line): editing one document of a multi-document file then changes one
 * resource, not all of them, and translate/incremental.ts sees exactly that.
 */
function reuseUnchanged(docs: ParsedDoc[], before: readonly ParsedDoc[] | undefined): ParsedDoc[] {
  if (!before?.length) return docs;
  const bySource = new Map<string, ParsedDoc>();
  for (const d of before) if (d.source !== undefined && d.checked) bySource.set(d.source, d);
  if (bySource.size === 0) return docs;
  return docs.map((d) => {
    const old = d.source === undefined ? undefined : bySource.get(d.source);
    return old ? { ...d, value: old.value, checked: old.checked } : d;
  });
}

/** Validates one object and, when valid, gives it the namespace, CRD defaults and generation the API server would. */
function check(o: Record<string, unknown>, kind: string, meta: Record<string, unknown>): { errors: FieldError[]; resource?: Resource } {
  const errors = validate(o);
  if (errors.length > 0) return { errors };
  let withNs = o;
  if (CLUSTER_SCOPED.has(kind)) {
    if (meta.namespace !== undefined) {
      const { namespace: _dropped, ...rest } = meta;
      withNs = { ...o, metadata: rest };
    }
  } else if (typeof meta.namespace !== 'string' || meta.namespace === '') {
    withNs = { ...o, metadata: { ...meta, namespace: 'default' } };
  }
  // Its own top level: applyDefaults shares what it did not change, and generation is set below.
  const defaulted = { ...(applyDefaults(withNs) as Record<string, unknown>) };
  const m = defaulted.metadata as Record<string, unknown>;
  if (m.generation === undefined) defaulted.metadata = { ...m, generation: 1 };
  return { errors, resource: defaulted as unknown as Resource };
}

/** One-shot load: what `portico check` uses. A path '-' reads `stdin` (the text of standard input). */
export async function loadPaths(paths: readonly string[], stdin?: string): Promise<FileState> {
  return new FileLoader(paths, stdin).load();
}

/** Entries are reused when unchanged (see FileLoader), so identity is enough to tell whether anything moved. */
function sameState(a: FileState | undefined, b: FileState): boolean {
  if (!a || a.entries.length !== b.entries.length) return false;
  for (let i = 0; i < a.entries.length; i++) if (a.entries[i] !== b.entries[i]) return false;
  return JSON.stringify(a.problems) === JSON.stringify(b.problems);
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
          this.schedule();
        });
        this.watchers.set(d, w);
      } catch {
        // The folder vanished between listing and watching; the next reload sorts it out.
      }
    }
  }

  private onEvent(dir: string, filename: string | undefined): void {
    if (filename && !this.loader.dirs.has(dir)) {
      // A parent folder watched for an explicitly named file: ignore its siblings.
      const named = this.paths.some((p) => resolve(p) === join(dir, filename) || basename(resolve(p)) === filename);
      if (!named) return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.debounce.trigger();
  }

  private async reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = (async () => {
      try {
        const state = await this.loader.load();
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
            this.options.onUpdate?.(state);
          } catch {
            // A consumer's failure is its own; the source keeps watching.
          }
        }
      } catch {
        // load() reports problems instead of throwing; anything else is retried on the next change.
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
