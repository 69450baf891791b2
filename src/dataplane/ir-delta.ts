// IR deltas between the primary and its node:cluster workers. Sending the whole IR on every
// apply costs an encode in the primary and a decode plus a full rebuild in every worker (at
// 10,000 routes and 100,000 endpoints about 10 MB each time). Instead the primary sends only
// the ports and clusters that differ from what it sent before, plus the order of names; the
// worker keeps its decoded objects for everything else, so an unchanged cluster or port is the
// same object as before and RuntimeConfig reuses what it compiled from it (config.ts).
//
// Parts are compared by their encoded text (ir/keys.ts encodeForEngine, key material
// included), and an object the primary already encoded (same identity: translate/incremental.ts
// shares unchanged clusters; or every property the same value) is not encoded again. Each message names the version it applies
// to; a worker that holds another version (just forked, or replaced) answers "resync" and gets
// the whole state, which the primary assembles from its cached texts without encoding again.

import type { Cluster, IR, Port } from '../ir/types.js';
import { decodeForEngine, encodeForEngine } from '../ir/keys.js';

interface Part<T> {
  obj: T;
  text: string;
}

/** What a delta message carries (after decodeForEngine). */
interface Delta {
  version: number;
  /** The version this delta applies to; 0: the whole state, applies to anything. */
  base: number;
  /** IR fields other than ports and clusters (none today), always sent whole. */
  rest: Record<string, unknown>;
  ports: string[];
  clusters: string[];
  set: { ports: Record<string, Port>; clusters: Record<string, Cluster> };
}

export interface EncodedDelta {
  text: string;
  version: number;
  /** Parts sent (for logs and tests). */
  changedPorts: number;
  changedClusters: number;
}

/** Same own properties (sealed ones included), each the same value: the encoding is the same too. */
function shallowSame(a: object, b: object): boolean {
  const ka = Object.getOwnPropertyNames(a);
  const kb = Object.getOwnPropertyNames(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k] || !Object.hasOwn(b, k)) return false;
  return true;
}

function partsOf<T extends { name: string }>(items: Iterable<T>, prev: Map<string, Part<T>>, changed: string[]): Map<string, Part<T>> {
  const out = new Map<string, Part<T>>();
  for (const obj of items) {
    const old = prev.get(obj.name);
    if (old && old.obj === obj) {
      out.set(obj.name, old);
      continue;
    }
    // A new cluster object around the same endpoints array (translate/backends.ts keeps it
    // while the Service's slices are unchanged): no need to encode it to know.
    if (old && shallowSame(old.obj, obj)) {
      out.set(obj.name, { obj, text: old.text });
      continue;
    }
    const text = encodeForEngine(obj);
    if (old && old.text === text) {
      // Equal content: keep the old text, remember the new object so next time is an identity hit.
      out.set(obj.name, { obj, text: old.text });
      continue;
    }
    out.set(obj.name, { obj, text });
    changed.push(obj.name);
  }
  return out;
}

/** The primary's side: remembers what it last sent. */
export class DeltaEncoder {
  private ports = new Map<string, Part<Port>>();
  private clusters = new Map<string, Part<Cluster>>();
  private rest = '{}';
  private version = 0;

  /** The delta from the last encoded IR to `ir`. */
  encode(ir: IR): EncodedDelta {
    const changedPorts: string[] = [];
    const changedClusters: string[] = [];
    const base = this.version;
    const { ports: _p, clusters: _c, ...rest } = ir;
    this.rest = encodeForEngine(rest);
    this.ports = partsOf(ir.ports, this.ports, changedPorts);
    this.clusters = partsOf(Object.values(ir.clusters), this.clusters, changedClusters);
    this.version++;
    return { text: this.message(base, changedPorts, changedClusters), version: this.version, changedPorts: changedPorts.length, changedClusters: changedClusters.length };
  }

  /** The whole last encoded state, for a worker that holds nothing (or something else); undefined before the first encode. */
  full(): string | undefined {
    if (this.version === 0) return undefined;
    return this.message(0, [...this.ports.keys()], [...this.clusters.keys()]);
  }

  private message(base: number, ports: string[], clusters: string[]): string {
    const set = (names: string[], parts: Map<string, Part<{ name: string }>>) => names.map((n) => `${JSON.stringify(n)}:${parts.get(n)!.text}`).join(',');
    return (
      `{"version":${this.version},"base":${base},"rest":${this.rest},"ports":${JSON.stringify([...this.ports.keys()])},"clusters":${JSON.stringify([...this.clusters.keys()])},` +
      `"set":{"ports":{${set(ports, this.ports)}},"clusters":{${set(clusters, this.clusters)}}}}`
    );
  }
}

/** The worker's side: the IR it serves, patched by each delta. */
export class DeltaDecoder {
  private ir: IR | undefined;
  private version = 0;

  /** The IR after `text`, or 'resync' when it applies to a version this side does not hold. */
  apply(text: string): IR | 'resync' {
    const d = decodeForEngine<Delta>(text);
    const prev = d.base === 0 ? undefined : this.ir;
    if (d.base !== 0 && (d.base !== this.version || !prev)) return 'resync';
    const prevPorts = new Map(prev?.ports.map((p) => [p.name, p]));
    const ports: Port[] = [];
    for (const n of d.ports) {
      const p = d.set.ports[n] ?? prevPorts.get(n);
      if (!p) return 'resync';
      ports.push(p);
    }
    const clusters: Record<string, Cluster> = {};
    for (const n of d.clusters) {
      const c = d.set.clusters[n] ?? prev?.clusters[n];
      if (!c) return 'resync';
      clusters[n] = c;
    }
    this.ir = { ...d.rest, ports, clusters } as IR;
    this.version = d.version;
    return this.ir;
  }
}
