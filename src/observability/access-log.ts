// The HTTP/gRPC access log: one line per request, JSON by default, written by the front ends
// (http1/connection.ts, http2/server.ts) when the exchange ends. Nothing here runs when the log
// is off: the front ends test `opts.logger` (null) and build no record.
//
// Names come from the IR objects the router already resolved (the listener, the route's source,
// the cluster); the splits of `namespace/gateway/listener` and `kind/namespace/name` are cached
// per IR object, so a line costs its record and its serialisation, nothing more.

import { randomBytes } from 'node:crypto';
import type { Listener, RouteSource } from '../ir/types.js';
import { LOCAL_REASONS } from './metrics/dataplane.js';

/** Serialisable (it travels to workers in PORTICO_ENGINE_OPTIONS). */
export interface AccessLogFormat {
  /** Only these fields, in this order (JSON). Default: every field of ACCESS_LOG_FIELDS. */
  fields?: string[];
  /** A text line instead of JSON: `%field%` is replaced by the field's value ("-" when empty). */
  format?: string;
  /** Fraction of requests logged, 0..1 (default 1). */
  sample?: number;
}

/** Every field a line can carry, in the default order. Request and response headers are never logged (no Authorization, no Cookie). */
export const ACCESS_LOG_FIELDS = [
  'time', 'gateway', 'listener', 'route', 'rule', 'backend', 'endpoint', 'method', 'authority', 'path', 'protocol',
  'status', 'bytes_received', 'bytes_sent', 'duration_ms', 'upstream_duration_ms', 'upstream_status', 'retries',
  'local_reason', 'request_id', 'trace_id', 'client',
] as const;
export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

/** One request's figures; the front end fills it when the exchange ends. */
export interface AccessRecord {
  /** Wall clock (ms since epoch) when the request head was complete. */
  start: number;
  listener: Listener | undefined;
  source: RouteSource | undefined;
  backend: string;
  endpoint: string;
  method: string;
  authority: string;
  path: string;
  protocol: string;
  status: number;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  /** -1 = no upstream exchange. */
  upstreamMs: number;
  upstreamStatus: number;
  retries: number;
  /** LOCAL_REASONS index, -1 = the upstream answered. */
  local: number;
  requestId: string;
  traceId: string;
  client: string;
}

const gwCache = new WeakMap<Listener, [string, string]>();
/** [`namespace/gateway`, listener] of an IR listener name (cached per listener). Also for the L4 lines. */
export function gatewayOf(l: Listener): [string, string] {
  let g = gwCache.get(l);
  if (!g) {
    const i = l.name.lastIndexOf('/');
    gwCache.set(l, (g = i < 0 ? ['', l.name] : [l.name.slice(0, i), l.name.slice(i + 1)]));
  }
  return g;
}
const routeCache = new WeakMap<RouteSource, string>();
function routeOf(s: RouteSource): string {
  let r = routeCache.get(s);
  if (r === undefined) routeCache.set(s, (r = `${s.kind}/${s.namespace}/${s.name}`));
  return r;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

// ISO 8601 time: the part up to the second is computed once per second, the milliseconds appended.
let isoSecond = -1;
let isoPrefix = '';
export function isoTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20); // "2026-12-01T15:46:55."
  }
  const m = ms - sec * 1000;
  return isoPrefix + (m < 10 ? '00' : m < 100 ? '0' : '') + Math.floor(m) + 'Z';
}

// Printable ASCII without '"' and '\\' needs no escaping (IR names, ids, most paths): quoted as is.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const jsonString = (v: string): string => (PLAIN.test(v) ? '"' + v + '"' : JSON.stringify(v));

function value(r: AccessRecord, f: AccessLogField): string | number | null {
  switch (f) {
    case 'time': return isoTime(r.start);
    case 'gateway': return r.listener ? gatewayOf(r.listener)[0] : null;
    case 'listener': return r.listener ? gatewayOf(r.listener)[1] : null;
    case 'route': return r.source ? routeOf(r.source) : null;
    case 'rule': return r.source ? r.source.rule : null;
    case 'backend': return r.backend || null;
    case 'endpoint': return r.endpoint || null;
    case 'method': return r.method;
    case 'authority': return r.authority;
    case 'path': return r.path;
    case 'protocol': return r.protocol;
    case 'status': return r.status;
    case 'bytes_received': return r.bytesReceived;
    case 'bytes_sent': return r.bytesSent;
    case 'duration_ms': return round(r.durationMs);
    case 'upstream_duration_ms': return r.upstreamMs >= 0 ? round(r.upstreamMs) : null;
    case 'upstream_status': return r.upstreamStatus > 0 ? r.upstreamStatus : null;
    case 'retries': return r.retries;
    case 'local_reason': return r.local >= 0 ? LOCAL_REASONS[r.local]! : null;
    case 'request_id': return r.requestId || null;
    case 'trace_id': return r.traceId || null;
    case 'client': return r.client || null;
  }
}

export class AccessLogger {
  private readonly sample: number;
  private readonly fields: AccessLogField[];
  private readonly parts: (string | AccessLogField)[] | null;
  /** `{"time":`, `,"gateway":`, ...: each JSON key with its separator, once. */
  private readonly keys: string[];

  constructor(private readonly sink: (line: string) => void, fmt: AccessLogFormat = {}) {
    this.sample = fmt.sample === undefined ? 1 : Math.max(0, Math.min(1, fmt.sample));
    this.fields = fmt.fields ? checkFields(fmt.fields) : [...ACCESS_LOG_FIELDS];
    this.parts = fmt.format !== undefined ? compileFormat(fmt.format) : null;
    this.keys = this.fields.map((f, i) => (i === 0 ? '{' : ',') + JSON.stringify(f) + ':');
  }

  /** Decided when the request starts (so an unsampled request costs nothing more). */
  sampled(): boolean {
    return this.sample >= 1 || (this.sample > 0 && Math.random() < this.sample);
  }

  write(r: AccessRecord): void {
    this.sink(this.line(r));
  }

  line(r: AccessRecord): string {
    if (this.parts) {
      let s = '';
      for (let i = 0; i < this.parts.length; i++) {
        const p = this.parts[i]!;
        if (i % 2 === 0) s += p;
        else {
          const v = value(r, p as AccessLogField);
          s += v === null || v === '' ? '-' : String(v);
        }
      }
      return s;
    }
    // JSON by concatenation: no intermediate object; strings escaped by JSON.stringify.
    const fields = this.fields;
    const keys = this.keys;
    let out = '';
    for (let i = 0; i < fields.length; i++) {
      const v = value(r, fields[i]!);
      out += keys[i]! + (v === null ? 'null' : typeof v === 'number' ? String(v) : jsonString(v));
    }
    return out + '}';
  }
}

const KNOWN = new Set<string>(ACCESS_LOG_FIELDS);

function checkFields(fields: string[]): AccessLogField[] {
  for (const f of fields) if (!KNOWN.has(f)) throw new Error(`access log: unknown field "${f}" (fields: ${ACCESS_LOG_FIELDS.join(', ')})`);
  return fields as AccessLogField[];
}

/** "%method% %path% %status%" -> [text, field, text, field, ..., text]. */
export function compileFormat(format: string): (string | AccessLogField)[] {
  const parts: string[] = [];
  const re = /%([a-z_]+)%/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    if (!KNOWN.has(m[1]!)) throw new Error(`access log: unknown field "%${m[1]}%" in the format (fields: ${ACCESS_LOG_FIELDS.join(', ')})`);
    parts.push(format.slice(last, m.index), m[1]!);
    last = m.index + m[0].length;
  }
  parts.push(format.slice(last));
  return parts;
}

// ------------------------------------------------------------------ request ids and trace ids

export const REQUEST_ID_OFF = 0;
export const REQUEST_ID_PRESERVE = 1;
export const REQUEST_ID_GENERATE = 2;
export type RequestIdMode = 'off' | 'preserve' | 'generate';
export const requestIdMode = (m: RequestIdMode | undefined): number =>
  m === 'off' ? REQUEST_ID_OFF : m === 'preserve' ? REQUEST_ID_PRESERVE : REQUEST_ID_GENERATE;

// A per-process random prefix and a counter: 32 hex digits, unique per process, no crypto call per request.
const PREFIX = randomBytes(10).toString('hex');
let counter = 0;
export function newRequestId(): string {
  counter = (counter + 1) % 0x1000000000000;
  return PREFIX + counter.toString(16).padStart(12, '0');
}

/**
 * The request's `x-request-id` (flat [name, value, ...] headers): the client's, or with
 * REQUEST_ID_GENERATE a new one, appended to `headers` so the backend receives it.
 */
export function requestId(headers: string[], mode: number): string {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!;
    if (n.length === 12 && n === 'x-request-id') return headers[i + 1]!;
  }
  if (mode !== REQUEST_ID_GENERATE) return '';
  const id = newRequestId();
  headers.push('x-request-id', id);
  return id;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
/** The trace id of a valid W3C `traceparent` (not all zeros, version not ff), '' otherwise. */
export function traceIdOf(headers: string[]): string {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'traceparent') {
      const v = headers[i + 1]!;
      const m = TRACEPARENT.exec(v);
      if (!m || v.startsWith('ff') || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return '';
      return m[1]!;
    }
  }
  return '';
}
