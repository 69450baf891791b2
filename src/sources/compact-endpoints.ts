// EndpointSlices are most of what a source holds at scale (100,000 endpoints at 10,000 routes in
// the bench: ~17 MB of parsed objects, more than every route together), and nearly every endpoint
// says the same few things about its conditions. A slice the store keeps is made smaller here,
// without changing what any reader sees:
//
// - `conditions` objects of booleans only are one shared, frozen object per distinct value
//   (at most 27: ready/serving/terminating each true, false or absent);
// - an endpoint of only `addresses` and `conditions` is made again as an object of exactly those
//   two fields (a parsed `{}` reserves room for four);
// - one of a single address keeps the address without an array of its own (OneAddress).
//
// The store's resources are immutable (DESIGN.md), which is what makes sharing safe.

import type { EndpointSlice } from '../api/types.js';

type Endpoint = EndpointSlice['endpoints'][number];
type Conditions = NonNullable<Endpoint['conditions']>;

const CONDITION_KEYS = new Set(['ready', 'serving', 'terminating']);
const shared = new Map<string, Conditions>();

function sharedConditions(c: unknown): Conditions | undefined {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return undefined;
  let key = '';
  for (const [k, v] of Object.entries(c)) {
    if (!CONDITION_KEYS.has(k) || typeof v !== 'boolean') return undefined;
    key += `${k}=${v};`;
  }
  let s = shared.get(key);
  if (s === undefined) shared.set(key, (s = Object.freeze({ ...(c as Conditions) })));
  return s;
}

/**
 * An endpoint of one address and shared conditions, nearly every endpoint there is: the one-entry
 * `addresses` array was 56 of its 96 bytes (5.6 MB at 100,000 endpoints). It reads as the plain
 * object does: `addresses` is a getter (a new array per read; the translator reads each endpoint
 * once per rebuild of its Service) and JSON.stringify gives the object as it was written.
 */
class OneAddress {
  constructor(
    readonly address: string,
    readonly conditions: Conditions,
  ) {}
  get addresses(): string[] {
    return [this.address];
  }
  toJSON(): { addresses: string[]; conditions: Conditions } {
    return { addresses: [this.address], conditions: this.conditions };
  }
}

function compactEndpoint(e: Endpoint): Endpoint {
  if (typeof e !== 'object' || e === null) return e;
  const conditions = sharedConditions(e.conditions);
  if (conditions === undefined) return e;
  const keys = Object.keys(e);
  if (keys.length === 2 && keys[0] === 'addresses') {
    const a: unknown = e.addresses;
    if (Array.isArray(a) && a.length === 1 && typeof a[0] === 'string') return new OneAddress(a[0], conditions) as unknown as Endpoint;
    return { addresses: e.addresses, conditions };
  }
  return { ...e, conditions };
}

/** `slice` with its endpoints made compact (a new top-level object when anything changed; `slice` itself is left as it is). */
export function compactEndpointSlice<T extends { endpoints?: unknown }>(slice: T): T {
  const list = slice.endpoints;
  if (!Array.isArray(list) || list.length === 0) return slice;
  return { ...slice, endpoints: list.map(compactEndpoint) };
}
