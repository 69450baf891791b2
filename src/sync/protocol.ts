// The messages of the config stream (protocol portico-sync/1, negotiated by ALPN). Each is one
// frame (./frames.ts). The stream carries per-Gateway IR snapshots and their acknowledgements,
// nothing else. README.md in this folder describes the exchange.

import type { Cluster, Port } from '../ir/types.js';
import { SyncError } from './errors.js';

/** ALPN protocol name; a new incompatible message set gets a new name. */
export const SYNC_ALPN = 'portico-sync/1';

/** One keyed part of a config: a Port (by Port.name) or a Cluster (by Cluster.name), with its content hash. */
export interface SyncEntry<T> {
  /** sha256 (hex, 32 chars) of the entry's encoded JSON, key material included. */
  hash: string;
  value: T;
}

/** Data plane -> controller, first message: which Gateway's config it wants. */
export interface HelloMessage {
  type: 'hello';
  /** `namespace/name`; must be the Gateway the TLS-PSK identity authenticated. */
  gateway: string;
  /** The pod (POD_NAME), for the controller's record of who acknowledged what. */
  pod?: string;
  /** What the data plane serves now (after a reconnect): the server may skip an identical snapshot. */
  have?: { epoch: string; version: number; hash: string };
  /** The data plane takes `delta` messages: after the whole state, only what changed. */
  deltas?: boolean;
}

/**
 * Controller -> data plane that said `deltas` in its hello: the Gateway's config at `version`, as
 * an IR delta (dataplane/ir-delta.ts, the form the primary sends its workers): the whole state
 * first (its `base` is 0), then only the ports, virtual hosts, route entries and clusters that
 * changed, each applying to the delta before it. A data plane that cannot apply one (it missed
 * one) answers `resync` and gets the whole state again. At 10,000 routes a route change is a few
 * hundred bytes instead of the Gateway's whole config (~10 MB with its endpoints), and the data
 * plane keeps its objects, and so its compiled routes, for everything else.
 */
export interface DeltaMessage {
  type: 'delta';
  gateway: string;
  epoch: string;
  version: number;
  /** The IR delta, decoded (keys sealed again by the frame reader). */
  d: Record<string, unknown>;
}

/** Data plane -> controller: the last delta applied to something it does not hold; send the whole state. */
export interface ResyncMessage {
  type: 'resync';
  epoch: string;
  version: number;
}

/**
 * Controller -> data plane: the Gateway's config at `version`. A full snapshot (no `base`) lists
 * every entry; the client replaces its map. Reserved for deltas (issue 15): `base` names the
 * version the message applies to, `ports`/`clusters` then hold only changed entries and `null`
 * for removed ones, and the client applies them to its map only if it holds `base`.
 */
export interface SnapshotMessage {
  type: 'snapshot';
  gateway: string;
  /** The server instance that numbers versions; versions compare only within one epoch. */
  epoch: string;
  /** Increases by one each time this Gateway's config changes. */
  version: number;
  base?: number;
  /** Every Port name of the config, in IR order (complete, also in a delta). */
  portOrder: string[];
  ports: Record<string, SyncEntry<Port> | null>;
  clusters: Record<string, SyncEntry<Cluster> | null>;
  /** configHash() over the complete config: the client checks what it assembled against it. */
  hash: string;
}

/** Data plane -> controller: `version` is applied (ports it could not bind are listed). */
export interface AckMessage {
  type: 'ack';
  epoch: string;
  version: number;
  unbound: { port: string; error: string }[];
}

/** Data plane -> controller: `version` was refused; the previous config keeps serving. */
export interface NackMessage {
  type: 'nack';
  epoch: string;
  version: number;
  code: string;
  message: string;
}

/** Controller -> data plane, every few seconds: the stream is alive. */
export interface PingMessage {
  type: 'ping';
}

/** Controller -> data plane, before it closes the stream for a reason the client should log. */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

export type ClientMessage = HelloMessage | AckMessage | NackMessage | ResyncMessage;
export type ServerMessage = SnapshotMessage | DeltaMessage | PingMessage | ErrorMessage;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function bad(what: string): never {
  throw new SyncError('SYNC_BAD_MESSAGE', what);
}

/** Checks a message from a data plane (the server trusts nothing it has not checked). */
export function parseClientMessage(m: unknown): ClientMessage {
  if (!isObj(m)) bad('message is not an object');
  switch (m.type) {
    case 'hello':
      if (!str(m.gateway)) bad('hello without gateway');
      if (m.pod !== undefined && !str(m.pod)) bad('hello: pod is not a string');
      if (m.have !== undefined && !(isObj(m.have) && str(m.have.epoch) && num(m.have.version) && str(m.have.hash))) bad('hello: bad have');
      if (m.deltas !== undefined && typeof m.deltas !== 'boolean') bad('hello: deltas is not a boolean');
      return m as unknown as HelloMessage;
    case 'resync':
      if (!str(m.epoch) || !num(m.version)) bad('bad resync');
      return m as unknown as ResyncMessage;
    case 'ack':
      if (!str(m.epoch) || !num(m.version) || !Array.isArray(m.unbound)) bad('bad ack');
      return m as unknown as AckMessage;
    case 'nack':
      if (!str(m.epoch) || !num(m.version) || !str(m.code) || !str(m.message)) bad('bad nack');
      return m as unknown as NackMessage;
    default:
      return bad(`unknown message type ${JSON.stringify(m.type)}`);
  }
}

/** Checks the envelope of a message from the controller (the IR inside is checked by ./validate.ts). */
export function parseServerMessage(m: unknown): ServerMessage {
  if (!isObj(m)) bad('message is not an object');
  switch (m.type) {
    case 'snapshot':
      if (!str(m.gateway) || !str(m.epoch) || !num(m.version) || !str(m.hash)) bad('snapshot: bad header');
      if (m.base !== undefined && !num(m.base)) bad('snapshot: bad base');
      if (!Array.isArray(m.portOrder) || !m.portOrder.every(str) || !isObj(m.ports) || !isObj(m.clusters)) bad('snapshot: bad entries');
      return m as unknown as SnapshotMessage;
    case 'delta':
      if (!str(m.gateway) || !str(m.epoch) || !num(m.version) || !isObj(m.d)) bad('delta: bad header');
      return m as unknown as DeltaMessage;
    case 'ping':
      return { type: 'ping' };
    case 'error':
      return { type: 'error', code: String(m.code), message: String(m.message) };
    default:
      return bad(`unknown message type ${JSON.stringify(m.type)}`);
  }
}
