// Reading a golden case: testdata/<case>.in.yaml -> the entries and translate() options it
// holds (golden.test.ts, and incremental.test.ts, which replays random changes on every case).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { Resource } from '../../src/api/types.js';
import type { Entry } from '../../src/store/snapshot.js';
import type { TranslateOptions } from '../../src/translate/types.js';
import { strictErrors } from './strict.js';

/** A document of this kind in a case sets translate() options instead of being a resource. */
interface GoldenOptions {
  kind: 'GoldenOptions';
  controllerName?: string;
  /** "namespace/name" -> address returned by addressFor. */
  addresses?: Record<string, string>;
  /** IPs addressUsable() refuses. */
  unusableAddresses?: string[];
  /** IR Port names the data plane could not bind -> the error (portUnavailable). */
  portUnavailable?: Record<string, string>;
  /** TranslateOptions.dataPlanes: per-gateway for provisioned data planes. */
  dataPlanes?: 'shared' | 'per-gateway';
}

export function load(file: string): { entries: Entry[]; options: TranslateOptions } {
  const text = readFileSync(file, 'utf8');
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  const entries: Entry[] = [];
  const options: TranslateOptions = {};
  const errors: string[] = [];
  docs.forEach((d, i) => {
    if (d.errors.length) errors.push(...d.errors.map((e) => `${file} doc ${i}: ${e.message}`));
    const js = d.toJS() as unknown;
    if (js === null || js === undefined) return;
    if ((js as { kind?: string }).kind === 'GoldenOptions') {
      const o = js as GoldenOptions;
      if (o.controllerName) options.controllerName = o.controllerName;
      const addrs = o.addresses;
      if (addrs) options.addressFor = (ns, name) => addrs[`${ns}/${name}`] ?? '0.0.0.0';
      const unusable = o.unusableAddresses;
      if (unusable) options.addressUsable = (ip) => !unusable.includes(ip);
      if (o.portUnavailable) options.portUnavailable = new Map(Object.entries(o.portUnavailable));
      if (o.dataPlanes) options.dataPlanes = o.dataPlanes;
      return;
    }
    errors.push(...strictErrors(js, `${file} doc ${i}`));
    entries.push({ resource: js as Resource, origin: file });
  });
  assert.deepEqual(errors, [], 'input must parse strictly');
  return { entries, options };
}

