// Reading manifests from disk, one file at a time: which files (listFiles), their documents
// (parseText: block YAML fast, anything else through the full parser), and each object checked
// and defaulted as the API server would (checkObject). No state: sources/files.ts keeps that.

import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Composer, isMap, isSeq, LineCounter, Parser, type Document } from 'yaml';
import type { Resource } from '../api/types.js';
import { CLUSTER_SCOPED } from '../api/names.js';
import { applyDefaults, KNOWN_KINDS, validate, type FieldError } from '../api/validate.js';
import { readBlockYaml } from './yaml-block.js';
import { compactEndpointSlice } from './compact-endpoints.js';

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

export const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
export const KNOWN = new Set(KNOWN_KINDS);

export interface ParsedDoc {
  line: number;
  value: unknown;
  /** Validation and defaulting, done once per parsed document (unchanged files are not re-checked). */
  checked?: { errors: readonly FieldError[]; resource?: Resource };
  /**
   * A digest of the document's own text (not for `kind: List` items): an unchanged document of a
   * changed file is recognised by it. A digest, not the text: the text would keep every file read.
   */
  source?: string;
}

export function display(file: string): string {
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

/** Whether a file found in a listed folder is a manifest listFiles would pick up (by its name alone). */
export function manifestName(path: string): boolean {
  const n = basename(path);
  return !n.startsWith('.') && n !== 'node_modules' && EXTENSIONS.has(extname(n).toLowerCase());
}

export function textDigest(text: string): string {
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
 * Documents of a re-read file whose text did not change keep the checked object of the last
 * read (at their new line): editing one document of a multi-document file then changes one
 * resource, not all of them, and translate/incremental.ts sees exactly that.
 */
export function reuseUnchanged(docs: ParsedDoc[], before: readonly ParsedDoc[] | undefined): ParsedDoc[] {
  if (!before?.length) return docs;
  const bySource = new Map<string, ParsedDoc>();
  for (const d of before) if (d.source !== undefined && d.checked) bySource.set(d.source, d);
  if (bySource.size === 0) return docs;
  return docs.map((d) => {
    const old = d.source === undefined ? undefined : bySource.get(d.source);
    return old ? { ...d, value: old.value, checked: old.checked } : d;
  });
}

/** No errors: one array for every valid document (an empty one each is 12,000 arrays at 10,000 routes). */
const NO_ERRORS: readonly FieldError[] = Object.freeze([]);

/** Validates one object and, when valid, gives it the namespace, CRD defaults and generation the API server would. */
export function checkObject(o: Record<string, unknown>, kind: string, meta: Record<string, unknown>): { errors: readonly FieldError[]; resource?: Resource } {
  const found = validate(o);
  if (found.length > 0) return { errors: found };
  const errors = NO_ERRORS;
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
  // EndpointSlices are most of what the store holds at scale: see compact-endpoints.ts.
  if (kind === 'EndpointSlice') return { errors, resource: compactEndpointSlice(defaulted) as unknown as Resource };
  return { errors, resource: defaulted as unknown as Resource };
}

