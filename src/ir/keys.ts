// Key material in the IR, and the one way it crosses a process boundary.
//
// A field named `keyPem` holds a PEM private key (listener certificates, the backend client
// certificate of UpstreamTLS). The translator attaches it with sealKey(): a non-enumerable
// own property, so the engine reads `certificate.keyPem` as before, while JSON.stringify,
// YAML, util.inspect/console.log, object spreads and structuredClone all leave it out. An IR
// that is printed, logged, dumped on the admin API or posted to a worker by accident
// therefore carries no key. (People see fingerprints: ./redact.ts.)
//
// The engine's own transport (node:cluster workers, and the config stream to data-plane pods,
// src/sync/) is the only
// place that asks for the keys: encodeForEngine() writes them into the message and
// decodeForEngine() seals them again on the other side. Nothing else calls these two.

import type { IR } from './types.js';

/** Attaches `keyPem` to `holder` as a non-enumerable property (see the file comment); returns `holder`. */
export function sealKey<T extends object>(holder: T, keyPem: string): T & { keyPem: string } {
  Object.defineProperty(holder, 'keyPem', { value: keyPem, enumerable: false, writable: false, configurable: true });
  return holder as T & { keyPem: string };
}

/**
 * Attaches a session persistence key (IR SessionPersistence.sessionKey) the same way:
 * non-enumerable, carried only by encodeForEngine().
 */
export function sealSessionKey<T extends object>(holder: T, key: string): T & { sessionKey: string } {
  Object.defineProperty(holder, 'sessionKey', { value: key, enumerable: false, writable: false, configurable: true });
  return holder as T & { sessionKey: string };
}

const sealed = (v: unknown, field: string): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof Object.getOwnPropertyDescriptor(v, field)?.value === 'string';
const hasKey = (v: unknown): v is { keyPem: string } => sealed(v, 'keyPem');
const hasSessionKey = (v: unknown): v is { sessionKey: string } => sealed(v, 'sessionKey');

/**
 * The IR (or a message carrying parts of it: the config stream, src/sync/) as the engine's
 * transport sends it: JSON, key material included. Never log or serve the result.
 */
export function encodeForEngine(value: IR | object): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    hasKey(v) ? { ...v, keyPem: v.keyPem } : hasSessionKey(v) ? { ...v, sessionKey: v.sessionKey } : v,
  );
}

/** Reads what encodeForEngine() wrote; every `keyPem` is sealed again. `T` is what the caller encoded. */
export function decodeForEngine<T = IR>(text: string): T {
  // A plain parse then one walk: a JSON.parse reviver calls back for every value and made
  // decoding a 10 MB IR (10,000 routes, 100,000 endpoints) ~7x slower.
  const v: unknown = JSON.parse(text);
  if (typeof v === 'object' && v !== null) reseal(v);
  return v as T;
}

function reseal(v: object): void {
  if (Array.isArray(v)) {
    for (const x of v) if (typeof x === 'object' && x !== null) reseal(x);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'object' && x !== null) reseal(x);
  }
  if (typeof o.keyPem === 'string') sealKey(o, o.keyPem);
  if (typeof o.sessionKey === 'string') sealSessionKey(o, o.sessionKey);
}
