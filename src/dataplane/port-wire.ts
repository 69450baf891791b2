// Ports as the IR delta (./ir-delta.ts) carries them. A port whose listener has 10,000 virtual
// hosts (a hostname per route) crossed whole when one route changed: at 10,000 routes on three
// such listeners that was a 1.4 MB message, ~45 ms to encode in the primary and ~15 ms to frame
// and decode in each worker. So a changed port travels as a patch against the version the worker
// holds: its own fields, and per listener either the index of the previous listener kept as it
// was, or the listener with edits to its virtual hosts (the hunks of an identity diff: the
// translator keeps the VirtualHost object of every unchanged route list, translate/ir.ts), or
// the listener whole. A port the worker has never held travels whole. Either way each virtual
// host's `routes` is a route list id (./route-lists.ts), and this side keeps the lists' reference
// counts: one per virtual host that names a list.

import type { HTTPRouteEntry, Listener, Port, VirtualHost } from '../ir/types.js';
import { encodeForEngine } from '../ir/keys.js';
import { alignDiff, applyEdits, diffLists, editsOf, editSize, hunks } from './router/list-diff.js';
import type { RouteLists } from './route-lists.js';

interface ListenerRec {
  l: Listener;
  /** The listener's text without its virtual hosts (TLS material included). */
  shell: string;
  /** Per virtual host of `l`, in order: the id of the route list its routes are. */
  ids: number[];
}

/** What the primary holds of a port it sent. */
export interface PortPart {
  obj: Port;
  /** The port's text without its listeners. */
  shell: string;
  listeners: ListenerRec[];
}

/**
 * A listener in a patch: the index of the previous version's listener, kept; or the listener,
 * whole, or (`k`, `vh`) its virtual hosts as edits of listener `k`'s. With `m`, listener `k` is
 * the one of port `m` in the version the receiver holds (a listener moved by a Gateway change);
 * `{m, k}` alone keeps it as it was.
 */
type ListenerWire = number | (Partial<Listener> & { m?: string; k?: number; vh?: (number | VirtualHost)[] });

/** Where each listener was in the ports last sent, by name: a listener that moved to another port is patched from there. */
export type ListenersSent = ReadonlyMap<string, { port: string; index: number; rec: ListenerRec }>;

export function listenersSent(parts: ReadonlyMap<string, PortPart>): ListenersSent {
  const out = new Map<string, { port: string; index: number; rec: ListenerRec }>();
  for (const [port, part] of parts) part.listeners.forEach((rec, index) => out.set(rec.l.name, { port, index, rec }));
  return out;
}

/** A port in a patch: its fields without listeners, and its listeners. */
export interface PortPatch {
  p: Omit<Port, 'listeners'>;
  l: ListenerWire[];
}

/** Edits are sent while they stay under this share of a listener's virtual hosts (else the listener travels whole). */
const EDIT_SHARE = 0.5;

/** `{...}` text with one more field. */
function withField(obj: string, field: string, value: string): string {
  return `${obj.slice(0, -1)}${obj.length > 2 ? ',' : ''}"${field}":${value}}`;
}

const vhostText = (v: VirtualHost, id: number): string => encodeForEngine({ ...v, routes: id as unknown as HTTPRouteEntry[] });

function listenerText(rec: ListenerRec): string {
  const vhs = rec.l.virtualHosts;
  if (!vhs) return rec.shell;
  let out = '';
  for (let i = 0; i < vhs.length; i++) out += (i ? ',' : '') + vhostText(vhs[i]!, rec.ids[i]!);
  return withField(rec.shell, 'virtualHosts', `[${out}]`);
}

/** A port whole, as a worker that does not hold it gets it. */
export function portText(part: PortPart): string {
  return withField(part.shell, 'listeners', `[${part.listeners.map(listenerText).join(',')}]`);
}

/**
 * `port` against `old` (what was sent of it before): the new part, and what to send: undefined
 * when the content is the same, a patch of `old` when there is one, else the port whole.
 * References to route lists are counted as they change.
 */
export function encodePort(port: Port, old: PortPart | undefined, lists: RouteLists, sent: ListenersSent): { part: PortPart; wire: string | undefined; patch: boolean } {
  const { listeners: _l, ...fields } = port;
  const shell = encodeForEngine(fields);
  let same = old !== undefined && shell === old.shell && port.listeners.length === old.listeners.length;
  const oldAt = new Map<string, number>();
  old?.listeners.forEach((r, i) => oldAt.set(r.l.name, i));
  /** Old listeners whose references moved to the new part (kept, or edited); the others' go. */
  const carried = new Set<number>();
  const recs: ListenerRec[] = [];
  const wires: string[] = [];
  /** Listeners patched from another port's: whole else. */
  let moved = false;
  port.listeners.forEach((l, i) => {
    const k = oldAt.get(l.name);
    /** The receiver's listener `k` of this port, as it is (at another place: the patch says so). */
    const keep = (): void => {
      wires.push(String(k));
      if (k !== i) same = false;
    };
    if (k === undefined) {
      const from = sent.get(l.name);
      if (from && from.port !== port.name) {
        const r = movedListener(l, from, lists);
        if (r) {
          recs.push(r.rec);
          wires.push(r.wire);
          moved = true;
          same = false;
          return;
        }
      }
    }
    const prev = k === undefined ? undefined : old!.listeners[k];
    if (prev && prev.l === l) {
      carried.add(k!);
      recs.push(prev);
      keep();
      return;
    }
    const { virtualHosts: vhs, ...rest } = l;
    const lshell = encodeForEngine(rest);
    if (!vhs) {
      const rec = { l, shell: lshell, ids: [] };
      recs.push(rec);
      if (prev && !prev.l.virtualHosts && prev.shell === lshell) {
        carried.add(k!);
        keep();
      } else {
        wires.push(lshell);
        same = false;
      }
      return;
    }
    const edited = prev?.l.virtualHosts ? editVHosts(prev, vhs, lists, true) : undefined;
    if (edited) {
      carried.add(k!);
      recs.push({ l, shell: lshell, ids: edited.ids });
      if (edited.edits.length === 0 && lshell === prev!.shell) keep();
      else {
        wires.push(withField(withField(lshell, 'k', String(k)), 'vh', `[${edited.edits.join(',')}]`));
        same = false;
      }
      return;
    }
    // Whole: each virtual host's list made against the one its hostname had (edits, not all ids).
    const before = new Map<string, number>();
    prev?.l.virtualHosts?.forEach((v, j) => before.set(v.hostname, prev.ids[j]!));
    const ids = vhs.map((v) => lists.listFor(v.routes, before.get(v.hostname)));
    for (const id of ids) lists.ref(id);
    const rec = { l, shell: lshell, ids };
    recs.push(rec);
    const text = listenerText(rec);
    // A translation that shared nothing with the last (new objects, equal content): nothing to send.
    if (prev && text === listenerText(prev)) keep();
    else {
      wires.push(text);
      same = false;
    }
  });
  old?.listeners.forEach((r, k) => {
    if (!carried.has(k)) for (const id of r.ids) lists.unref(id);
  });
  const part: PortPart = { obj: port, shell, listeners: recs };
  if (same) return { part, wire: undefined, patch: false };
  if (!old && !moved) return { part, wire: portText(part), patch: false };
  return { part, wire: `{"p":${shell},"l":[${wires.join(',')}]}`, patch: true };
}

/**
 * A listener that was on another port in the version the receiver holds: kept or edited from
 * there (its references counted afresh: that port's part lets go of its own); undefined when it
 * changed too much to be worth it.
 */
function movedListener(l: Listener, from: { port: string; index: number; rec: ListenerRec }, lists: RouteLists): { rec: ListenerRec; wire: string } | undefined {
  const at = (obj: string) => withField(withField(obj, 'm', JSON.stringify(from.port)), 'k', String(from.index));
  if (from.rec.l === l) {
    for (const id of from.rec.ids) lists.ref(id);
    return { rec: from.rec, wire: at('{}') };
  }
  const { virtualHosts: vhs, ...rest } = l;
  if (!vhs || !from.rec.l.virtualHosts) return undefined;
  const edited = editVHosts(from.rec, vhs, lists, false);
  if (!edited) return undefined;
  for (const id of edited.ids) lists.ref(id);
  const lshell = encodeForEngine(rest);
  return { rec: { l, shell: lshell, ids: edited.ids }, wire: withField(at(lshell), 'vh', `[${edited.edits.join(',')}]`) };
}

/**
 * `vhs` as edits of `prev`'s virtual hosts, by identity: the new ids (with `count`, references
 * counted for what came and went) and the edits as texts, [at, remove, count, ...virtual hosts] per hunk;
 * undefined when they would not be much smaller than the whole.
 */
function editVHosts(prev: ListenerRec, vhs: readonly VirtualHost[], lists: RouteLists, count: boolean): { ids: number[]; edits: string[] } | undefined {
  const old = prev.l.virtualHosts!;
  const d = diffLists(old, vhs);
  if (!d) return undefined;
  const hs = hunks(d);
  if (editSize(hs) > vhs.length * EDIT_SHARE) return undefined;
  // The list a removed virtual host's hostname had is the base of the list that replaces it.
  const removed = new Map<string, number>();
  for (const h of hs) for (let o = h.at; o < h.at + h.remove; o++) removed.set(old[o]!.hostname, prev.ids[o]!);
  const ids = alignDiff(
    d,
    prev.ids,
    (n) => {
      const id = lists.listFor(vhs[n]!.routes, removed.get(vhs[n]!.hostname));
      if (count) lists.ref(id);
      return id;
    },
  );
  if (count) for (const id of removed.values()) lists.unref(id);
  return { ids, edits: editsOf(hs, (n) => vhostText(vhs[n]!, ids[n]!)).map(String) };
}

/**
 * The worker's side of a patch: the port, from the version it holds (`prev`) and `routes` (a list
 * id to the array it holds); undefined when something the patch names is not there.
 */
export function applyPortPatch(
  patch: PortPatch,
  prev: Port | undefined,
  prevPorts: ReadonlyMap<string, Port>,
  routes: (id: number) => HTTPRouteEntry[] | undefined,
): Port | undefined {
  const listeners: Listener[] = [];
  const resolve = (v: VirtualHost): boolean => {
    const r = routes(v.routes as unknown as number);
    if (r) v.routes = r;
    return r !== undefined;
  };
  for (const w of patch.l) {
    if (typeof w === 'number') {
      const l = prev?.listeners[w];
      if (!l) return undefined;
      listeners.push(l);
      continue;
    }
    const { m, k, vh, ...l } = w;
    const from = k === undefined ? undefined : (m === undefined ? prev : prevPorts.get(m))?.listeners[k];
    if (m !== undefined && vh === undefined) {
      if (!from) return undefined;
      listeners.push(from);
      continue;
    }
    if (vh) {
      const base = from?.virtualHosts;
      const out = base && applyEdits(base, vh, (v: VirtualHost) => (resolve(v) ? v : undefined));
      if (!out) return undefined;
      l.virtualHosts = out;
    } else for (const v of l.virtualHosts ?? []) if (!resolve(v)) return undefined;
    listeners.push(l as Listener);
  }
  return { ...patch.p, listeners };
}
