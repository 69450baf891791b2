// RequestHeaderModifier / ResponseHeaderModifier on flat header arrays [name, value, ...].
// Names compare case-insensitively; `set` replaces every occurrence, `add` appends one more
// value, `remove` drops all occurrences (spec order: set, add, remove are independent lists).

import type { HeaderModifier } from '../../ir/types.js';
import { lower } from '../http1/parser.js';

/** `name` equals `lname` (lower-case) ignoring ASCII case, without allocating. */
function sameName(name: string, lname: string): boolean {
  if (name.length !== lname.length) return false;
  if (name === lname) return true;
  for (let i = 0; i < lname.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lname.charCodeAt(i)) return false;
  }
  return true;
}

export function applyHeaderModifier(headers: string[], mod: HeaderModifier): void {
  // The translator gives lower-case names; lower() only scans them then (no new string).
  if (mod.set) {
    for (const { name, value } of mod.set) {
      const lname = lower(name);
      let done = false;
      for (let i = 0; i < headers.length; i += 2) {
        if (!sameName(headers[i]!, lname)) continue;
        if (!done) {
          headers[i + 1] = value;
          done = true;
        } else {
          headers.splice(i, 2);
          i -= 2;
        }
      }
      if (!done) headers.push(lname, value);
    }
  }
  if (mod.add) for (const { name, value } of mod.add) headers.push(lower(name), value);
  if (mod.remove) {
    for (const name of mod.remove) {
      const lname = lower(name);
      for (let i = headers.length - 2; i >= 0; i -= 2) if (sameName(headers[i]!, lname)) headers.splice(i, 2);
    }
  }
}

/** Response header lines ("Name: value\r\n"...) to a flat array and back, for when a filter must edit them. */
export function linesToFlat(lines: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < lines.length) {
    const end = lines.indexOf('\r\n', pos);
    const colon = lines.indexOf(':', pos);
    out.push(lines.slice(pos, colon), lines.slice(colon + 1, end).trim());
    pos = end + 2;
  }
  return out;
}

export function flatToLines(headers: string[]): string {
  let s = '';
  for (let i = 0; i < headers.length; i += 2) s += headers[i] + ': ' + headers[i + 1] + '\r\n';
  return s;
}
