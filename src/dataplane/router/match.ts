// Per-entry match conditions, shared by the reference and the compiled matcher so both
// agree on what a header, query or regex condition means; they differ only in how they find
// the candidate entries for a path.

import type { HTTPMatch } from '../../ir/types.js';

/** What a matcher needs from a request. Headers are flat: [lowerName, value, lowerName, value, ...]. */
export interface MatchRequest {
  method: string;
  /** Path without the query string, as received. */
  path: string;
  /** Raw query string after '?', '' when absent. */
  query: string;
  headers: string[];
}

/** The value of a request header (several occurrences joined with ','), undefined when absent. */
export function headerValue(headers: string[], lname: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === lname) out = out === undefined ? headers[i + 1] : out + ',' + headers[i + 1];
  }
  return out;
}

/** First value of a query parameter, percent-decoded; undefined when absent. */
export function queryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  let start = 0;
  while (start <= query.length) {
    let amp = query.indexOf('&', start);
    if (amp < 0) amp = query.length;
    const eq = query.indexOf('=', start);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (decode(query.slice(start, keyEnd)) === name) {
      return keyEnd === amp ? '' : decode(query.slice(keyEnd + 1, amp));
    }
    start = amp + 1;
  }
  return undefined;
}

function decode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Regexes from the IR are matched against the whole value; an invalid one never matches. */
export function fullRegex(src: string): RegExp | null {
  try {
    return new RegExp('^(?:' + src + ')$');
  } catch {
    return null;
  }
}

/** PathPrefix on segment boundaries: "/foo" matches "/foo", "/foo/", "/foo/bar", not "/foobar". A trailing "/" in the prefix is ignored. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = normalizePrefix(prefix);
  if (p === '/') return true;
  if (!path.startsWith(p)) return false;
  return path.length === p.length || path.charCodeAt(p.length) === 47;
}

export function normalizePrefix(prefix: string): string {
  let p = prefix;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p === '' ? '/' : p;
}

export type Check = (req: MatchRequest) => boolean;

/** Everything but the path: method, headers, query params. null when the match has none. */
export function compileRestCheck(m: HTTPMatch): Check | null {
  const parts: Check[] = [];
  if (m.method !== undefined) {
    const method = m.method;
    parts.push((r) => r.method === method);
  }
  for (const h of m.headers ?? []) {
    const name = h.name.toLowerCase();
    if (h.type === 'Exact') {
      const v = h.value;
      parts.push((r) => headerValue(r.headers, name) === v);
    } else {
      const re = fullRegex(h.value);
      parts.push(re ? (r) => {
        const v = headerValue(r.headers, name);
        return v !== undefined && re.test(v);
      } : () => false);
    }
  }
  for (const q of m.queryParams ?? []) {
    const name = q.name;
    if (q.type === 'Exact') {
      const v = q.value;
      parts.push((r) => queryValue(r.query, name) === v);
    } else {
      const re = fullRegex(q.value);
      parts.push(re ? (r) => {
        const v = queryValue(r.query, name);
        return v !== undefined && re.test(v);
      } : () => false);
    }
  }
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0]!;
  return (r) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(r)) return false;
    return true;
  };
}

/** The whole match, path included: what the reference matcher evaluates per entry. */
export function compileFullCheck(m: HTTPMatch): Check {
  const rest = compileRestCheck(m);
  let path: Check | null = null;
  const p = m.path;
  if (p) {
    if (p.type === 'Exact') path = (r) => r.path === p.value;
    else if (p.type === 'PathPrefix') path = (r) => prefixMatches(p.value, r.path);
    else {
      const re = fullRegex(p.value);
      path = re ? (r) => re.test(r.path) : () => false;
    }
  }
  if (path && rest) return (r) => path!(r) && rest(r);
  return path ?? rest ?? (() => true);
}
