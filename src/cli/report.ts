// How the CLI shows what the translator decided: condition tables (`portico check`), a
// one-line-per-object summary (`portico run`), and objects with the .status Kubernetes
// would store (`portico check --output yaml`).

import { stringify } from 'yaml';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus } from '../translate/types.js';
import { ALL_KINDS, CLUSTER_SCOPED, ROUTE_KINDS } from '../api/names.js';

export interface ConditionRow {
  /** '' for the object's own conditions; "listener http", "parent Gateway default/gw/http", … */
  scope: string;
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** Conditions that must be True for an object to be working. */
const MUST_BE_TRUE = new Set(['Accepted', 'ResolvedRefs', 'Programmed']);

export function isBad(r: ConditionRow): boolean {
  return MUST_BE_TRUE.has(r.type) && r.status !== 'True';
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function conditionRows(scope: string, conds: unknown): ConditionRow[] {
  return asArray(conds)
    .filter(isRec)
    .map((c) => ({ scope, type: String(c.type ?? ''), status: String(c.status ?? ''), reason: String(c.reason ?? ''), message: String(c.message ?? '') }));
}

function refLabel(ref: unknown, defaultNs: string | undefined, defaultKind: string): string {
  if (!isRec(ref)) return '?';
  const kind = typeof ref.kind === 'string' ? ref.kind : defaultKind;
  const ns = typeof ref.namespace === 'string' ? ref.namespace : defaultNs;
  let s = `${kind} ${ns ? `${ns}/` : ''}${String(ref.name)}`;
  if (ref.sectionName) s += `/${String(ref.sectionName)}`;
  if (ref.port) s += `:${String(ref.port)}`;
  return s;
}

export function rowsOf(os: ObjectStatus): ConditionRow[] {
  const st = os.status;
  const rows = conditionRows('', st.conditions);
  for (const l of asArray(st.listeners).filter(isRec)) rows.push(...conditionRows(`listener ${String(l.name)}`, l.conditions));
  for (const p of asArray(st.parents).filter(isRec)) rows.push(...conditionRows(`parent ${refLabel(p.parentRef, os.namespace, 'Gateway')}`, p.conditions));
  for (const a of asArray(st.ancestors).filter(isRec)) rows.push(...conditionRows(`ancestor ${refLabel(a.ancestorRef, os.namespace, 'Gateway')}`, a.conditions));
  return rows;
}

export function objectLabel(kind: string, namespace: string | undefined, name: string): string {
  return `${kind} ${namespace && !CLUSTER_SCOPED.has(kind) ? `${namespace}/` : ''}${name}`;
}

function table(header: string[], rows: string[][], indent: string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The `portico check` table for one object. */
export function renderConditions(os: ObjectStatus, origin?: string): string {
  const rows = rowsOf(os);
  const head = `${objectLabel(os.kind, os.namespace, os.name)}${origin ? `  (${origin})` : ''}`;
  if (rows.length === 0) return `${head}\n  (no conditions)`;
  const hasScope = rows.some((r) => r.scope);
  const header = [...(hasScope ? ['SCOPE'] : []), 'TYPE', 'STATUS', 'REASON', 'MESSAGE'];
  const cells = rows.map((r) => [...(hasScope ? [r.scope || '(object)'] : []), r.type, isBad(r) ? `${r.status} ✗` : r.status, r.reason, r.message]);
  return `${head}\n${table(header, cells, '  ')}`;
}

/** One block per object for `portico run`, keyed by its label: an ok line, or FAIL with the failing conditions beneath. */
export function summaryBlocks(statuses: readonly ObjectStatus[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const os of statuses) {
    const rows = rowsOf(os);
    const bad = rows.filter(isBad);
    const label = objectLabel(os.kind, os.namespace, os.name);
    if (bad.length === 0) {
      const own = [...new Set(rows.filter((r) => r.status === 'True' && MUST_BE_TRUE.has(r.type)).map((r) => r.type))];
      out.set(label, `  ok    ${label}${own.length ? `: ${own.join(', ')}` : ''}`);
    } else {
      const lines = [`  FAIL  ${label}`];
      for (const r of bad) lines.push(`          ${r.scope ? `${r.scope}: ` : ''}${r.type}=${r.status} ${r.reason}: ${r.message}`);
      out.set(label, lines.join('\n'));
    }
  }
  return out;
}

export function renderSummary(statuses: readonly ObjectStatus[]): string {
  return [...summaryBlocks(statuses).values()].join('\n');
}

/**
 * What `portico run` prints after a build: everything the first time (failures only, past
 * `limit` objects), then only what changed since `previous`.
 */
export function renderSummaryChange(previous: Map<string, string> | undefined, next: Map<string, string>, limit = 40): string {
  const out: string[] = [];
  if (!previous) {
    let hidden = 0;
    for (const b of next.values()) {
      if (next.size <= limit || b.startsWith('  FAIL')) out.push(b);
      else hidden++;
    }
    if (hidden > 0) out.push(`  ok    ${hidden} more object${hidden === 1 ? '' : 's'}`);
    return out.join('\n');
  }
  let same = 0;
  for (const [label, b] of next) {
    if (previous.get(label) === b) same++;
    else out.push(b);
  }
  for (const label of previous.keys()) if (!next.has(label)) out.push(`  gone  ${label}`);
  out.push(`  (${same} object${same === 1 ? '' : 's'} unchanged)`);
  return out.join('\n');
}

/**
 * `portico run`'s summary from one build to the next (renderSummaryChange's output), costing what
 * changed: translate/incremental.ts hands back the same status object, in the same place, for an
 * object whose status did not change, so only the run of statuses between the longest common
 * start and end of the two lists (by identity) is looked at. A status that is a new object with the
 * same block still counts as unchanged.
 */
export class RunSummary {
  private last: readonly ObjectStatus[] | undefined;

  constructor(private readonly limit = 40) {}

  /** What to print for `statuses`; undefined when they are the very list of the last call. */
  update(statuses: readonly ObjectStatus[]): string | undefined {
    const last = this.last;
    if (last === statuses) return undefined;
    this.last = statuses;
    if (statuses.length === 0) return '  (no Gateway API objects for this controller)';
    if (!last) return renderSummaryChange(undefined, summaryBlocks(readerOrder(statuses)), this.limit);
    let start = 0;
    const common = Math.min(last.length, statuses.length);
    while (start < common && last[start] === statuses[start]) start++;
    let end = 0;
    while (end < common - start && last[last.length - 1 - end] === statuses[statuses.length - 1 - end]) end++;
    // Between the ends, a status object in both lists is unchanged (translate/incremental.ts hands
    // back the same object while it is): only the others are rendered and compared.
    const was = last.slice(start, last.length - end);
    const is = statuses.slice(start, statuses.length - end);
    const inIs = new Set(is);
    const inWas = new Set(was);
    const changedWas = was.filter((os) => !inIs.has(os));
    const before = summaryBlocks(changedWas);
    const after = summaryBlocks(readerOrder(is.filter((os) => !inWas.has(os))));
    const out: string[] = [];
    let moved = 0;
    for (const [label, b] of after) {
      if (before.get(label) === b) continue;
      out.push(b);
      moved++;
    }
    const gone = readerOrder(changedWas).filter((os) => !after.has(objectLabel(os.kind, os.namespace, os.name)));
    for (const os of gone) out.push(`  gone  ${objectLabel(os.kind, os.namespace, os.name)}`);
    const same = statuses.length - moved;
    out.push(`  (${same} object${same === 1 ? '' : 's'} unchanged)`);
    return out.join('\n');
  }
}

/** Gateways and routes in the snapshot the translator gave no status (not handled by this controller). */
export function unmanaged(snapshot: Snapshot, statuses: readonly ObjectStatus[]): string[] {
  const have = new Set(statuses.map((s) => `${s.kind}/${s.namespace ?? ''}/${s.name}`));
  const out: string[] = [];
  for (const kind of ['Gateway', ...ROUTE_KINDS]) {
    for (const e of snapshot.entries(kind)) {
      const m = e.resource.metadata;
      if (!have.has(`${kind}/${m.namespace ?? ''}/${m.name}`)) out.push(`${objectLabel(kind, m.namespace, m.name)}${e.origin ? `  (${e.origin})` : ''}`);
    }
  }
  return out;
}

/** Copies `status`, giving every condition a lastTransitionTime (as the status writer would). */
export function stampConditions(status: unknown, time: string): unknown {
  if (Array.isArray(status)) return status.map((x) => stampConditions(x, time));
  if (!isRec(status)) return status;
  const out: Rec = {};
  for (const [k, v] of Object.entries(status)) {
    if (k === 'conditions' && Array.isArray(v)) out[k] = v.map((c) => (isRec(c) && c.lastTransitionTime === undefined ? { ...c, lastTransitionTime: time } : c));
    else out[k] = stampConditions(v, time);
  }
  return out;
}

/** Multi-document YAML of each object that has a status, with that status. */
export function renderYaml(snapshot: Snapshot, statuses: readonly ObjectStatus[], now: Date): string {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const docs: string[] = [];
  for (const os of statuses) {
    const r = snapshot.get<Rec>(os.kind, os.namespace, os.name);
    if (!r) continue;
    docs.push(stringify({ ...r, status: stampConditions(os.status, time) }, { lineWidth: 0 }));
  }
  return docs.map((d) => `---\n${d}`).join('');
}

/** GatewayClasses, then Gateways, then routes, then policies (the order a reader follows), by namespace and name within a kind. */
export function readerOrder(statuses: readonly ObjectStatus[]): ObjectStatus[] {
  const rank = (k: string) => {
    const i = (ALL_KINDS as readonly string[]).indexOf(k);
    return i < 0 ? ALL_KINDS.length : i;
  };
  return [...statuses].sort(
    (a, b) => rank(a.kind) - rank(b.kind) || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name),
  );
}
