// A Gateway's config as keyed, hashed entries (Ports by name, Clusters by name), the form the
// stream carries: the server builds it from an IR slice, the client keeps it as a map and
// turns it back into an IR. Hashes let the server tell what changed (and, later, send only
// that: issue 15) and let the client check that what it assembled is what the server meant.

import { createHash } from 'node:crypto';
import { encodeForEngine } from '../ir/keys.js';
import type { Cluster, IR, Port } from '../ir/types.js';
import { SyncError } from './errors.js';
import type { SnapshotMessage, SyncEntry } from './protocol.js';

export interface ConfigEntries {
  /** Port names in IR order. */
  portOrder: string[];
  ports: Map<string, SyncEntry<Port>>;
  clusters: Map<string, SyncEntry<Cluster>>;
  /** configHash() of the above. */
  hash: string;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** Content hash of one entry: its JSON with key material (a rotated key is a change). */
export function entryHash(value: Port | Cluster): string {
  return sha(encodeForEngine(value));
}

/** Hash of a whole config: port order, then every port and cluster name with its entry hash, clusters sorted. */
export function configHash(portOrder: readonly string[], ports: ReadonlyMap<string, SyncEntry<Port>>, clusters: ReadonlyMap<string, SyncEntry<Cluster>>): string {
  const h = createHash('sha256');
  for (const name of portOrder) h.update(`P ${name} ${ports.get(name)?.hash ?? '-'}\n`);
  for (const name of [...clusters.keys()].sort()) h.update(`C ${name} ${clusters.get(name)!.hash}\n`);
  return h.digest('hex').slice(0, 32);
}

export function entriesOf(ir: IR): ConfigEntries {
  const ports = new Map(ir.ports.map((p) => [p.name, { hash: entryHash(p), value: p }]));
  const clusters = new Map(Object.entries(ir.clusters).map(([name, c]) => [name, { hash: entryHash(c), value: c }]));
  const portOrder = ir.ports.map((p) => p.name);
  return { portOrder, ports, clusters, hash: configHash(portOrder, ports, clusters) };
}

/** The full snapshot message of `entries` (every entry, no base). */
export function fullSnapshot(gateway: string, epoch: string, version: number, e: ConfigEntries): SnapshotMessage {
  return {
    type: 'snapshot',
    gateway,
    epoch,
    version,
    portOrder: e.portOrder,
    ports: Object.fromEntries(e.ports),
    clusters: Object.fromEntries(e.clusters),
    hash: e.hash,
  };
}

/**
 * The client side: `previous` (what it holds) updated by `msg`. A full snapshot replaces it;
 * a delta (`base` set) starts from it. Throws SYNC_SNAPSHOT_INCONSISTENT when the result does
 * not match the message's hash or a listed port has no entry; `previous` is never changed.
 */
export function assemble(previous: ConfigEntries | undefined, msg: SnapshotMessage): ConfigEntries {
  const delta = msg.base !== undefined;
  if (delta && !previous) throw new SyncError('SYNC_SNAPSHOT_INCONSISTENT', `delta on version ${msg.base} but no config is held`);
  const ports = new Map(delta ? previous!.ports : []);
  const clusters = new Map(delta ? previous!.clusters : []);
  const merge = <T>(into: Map<string, SyncEntry<T>>, from: Record<string, SyncEntry<T> | null>): void => {
    for (const [name, e] of Object.entries(from)) {
      if (e === null) into.delete(name);
      else if (typeof e !== 'object' || typeof e.hash !== 'string' || typeof e.value !== 'object' || e.value === null)
        throw new SyncError('SYNC_SNAPSHOT_INCONSISTENT', `entry ${name} has no hash or value`);
      else into.set(name, e);
    }
  };
  merge(ports, msg.ports);
  merge(clusters, msg.clusters);
  for (const name of ports.keys()) if (!msg.portOrder.includes(name)) ports.delete(name);
  for (const name of msg.portOrder) if (!ports.has(name)) throw new SyncError('SYNC_SNAPSHOT_INCONSISTENT', `port ${name} is listed but has no entry`);
  const hash = configHash(msg.portOrder, ports, clusters);
  if (hash !== msg.hash) throw new SyncError('SYNC_SNAPSHOT_INCONSISTENT', `assembled config hash ${hash} differs from the snapshot's ${msg.hash}`);
  return { portOrder: [...msg.portOrder], ports, clusters, hash };
}

/** The IR the entries describe (ports in order, clusters sorted by name). */
export function irOf(e: ConfigEntries): IR {
  const clusters: Record<string, Cluster> = {};
  for (const name of [...e.clusters.keys()].sort()) clusters[name] = e.clusters.get(name)!.value;
  return { ports: e.portOrder.map((n) => e.ports.get(n)!.value), clusters };
}
