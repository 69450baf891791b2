// Request path normalisation, run on every request before route matching (both front ends,
// through makePlan): what a route rule matches is exactly what the backend receives.
//
//   1. percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded and every other
//      escape has its hex digits upper-cased (RFC 3986 6.2.2.1-2); "%2e%2e" therefore becomes
//      ".." before step 3, as in Envoy; an invalid escape ("%zz", "%4") is a 400;
//   2. escaped slashes and backslashes ("%2F", "%5C", and a raw "\") follow `escapedSlashes`,
//      repeated slashes ("//") follow `mergeSlashes`;
//   3. dot segments are removed (RFC 3986 5.2.4); ".." above the root stays at "/".
//
// Most paths need none of this: `pathNeedsWork` is one pass over the characters without
// allocating, and only a path with "%", "\", "//" or a "." or ".." segment takes the slow
// path. The query string is never touched.

/** What to do with `%2F`, `%5C` (any case) and a raw `\` in the path. Envoy's path_with_escaped_slashes_action. */
export type EscapedSlashesAction = 'keep' | 'reject' | 'unescape-and-forward' | 'unescape-and-redirect';
/** What to do with repeated slashes (`//`). Envoy's merge_slashes, plus reject and redirect. */
export type MergeSlashesAction = 'keep' | 'reject' | 'merge-and-forward' | 'merge-and-redirect';

export const ESCAPED_SLASHES_ACTIONS: readonly EscapedSlashesAction[] = ['keep', 'reject', 'unescape-and-forward', 'unescape-and-redirect'];
export const MERGE_SLASHES_ACTIONS: readonly MergeSlashesAction[] = ['keep', 'reject', 'merge-and-forward', 'merge-and-redirect'];

export const DEFAULT_ESCAPED_SLASHES: EscapedSlashesAction = 'unescape-and-redirect';
export const DEFAULT_MERGE_SLASHES: MergeSlashesAction = 'merge-and-forward';

// Actions as small integers (the engine resolves the option strings once).
export const KEEP = 0;
export const REJECT = 1;
export const FORWARD = 2;
export const REDIRECT = 3;
type Action = typeof KEEP | typeof REJECT | typeof FORWARD | typeof REDIRECT;

export interface PathOptions {
  escapedSlashes: Action;
  mergeSlashes: Action;
}

export function resolvePathOptions(escaped: EscapedSlashesAction | undefined, merge: MergeSlashesAction | undefined): PathOptions {
  const e = ESCAPED_SLASHES_ACTIONS.indexOf(escaped ?? DEFAULT_ESCAPED_SLASHES);
  const m = MERGE_SLASHES_ACTIONS.indexOf(merge ?? DEFAULT_MERGE_SLASHES);
  if (e < 0) throw new Error(`path escaped-slashes action "${String(escaped)}": expected one of ${ESCAPED_SLASHES_ACTIONS.join(', ')}`);
  if (m < 0) throw new Error(`path merge-slashes action "${String(merge)}": expected one of ${MERGE_SLASHES_ACTIONS.join(', ')}`);
  return { escapedSlashes: e as Action, mergeSlashes: m as Action };
}

export const DEFAULT_PATH_OPTIONS: PathOptions = resolvePathOptions(undefined, undefined);

/**
 * False when `path` (no query, starts with "/") is already normal for any options: no "%", no "\",
 * no "//" and no "." or ".." segment. One pass, no allocation.
 */
export function pathNeedsWork(path: string): boolean {
  const n = path.length;
  for (let i = 0; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 || c === 92) return true; // % \
    if (c === 47 && i + 1 < n) {
      const d = path.charCodeAt(i + 1);
      if (d === 47) return true; // "//"
      if (d === 46) {
        // "/." or "/.." as a whole segment; "/.well-known" is an ordinary one
        let j = i + 2;
        if (j < n && path.charCodeAt(j) === 46) j++;
        if (j === n || path.charCodeAt(j) === 47) return true;
      }
    }
  }
  return false;
}

/** Outcome of `normalizePath`: forward `path`, answer 400, or redirect (307) to `path`. */
export const PATH_OK = 0;
export const PATH_REJECT = 400;
export const PATH_REDIRECT = 307;

export interface NormalizedPath {
  verdict: typeof PATH_OK | typeof PATH_REJECT | typeof PATH_REDIRECT;
  /** The normalised path ('' when rejected). */
  path: string;
  /** Why a path was rejected, for the 400's body. */
  reason: string;
}

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 3986 2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function unreserved(v: number): boolean {
  return (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || (v >= 48 && v <= 57) || v === 45 || v === 46 || v === 95 || v === 126;
}

const reject = (reason: string): NormalizedPath => ({ verdict: PATH_REJECT, path: '', reason });

/**
 * Normalise an origin-form path (starts with "/", no query). Callers run `pathNeedsWork` first;
 * this works on any such path (a normal one comes back equal).
 */
export function normalizePath(path: string, o: PathOptions): NormalizedPath {
  let redirect = false;
  // Pass 1: escapes and backslashes. Runs of untouched characters are copied as slices.
  let s = path;
  if (path.indexOf('%') >= 0 || path.indexOf('\\') >= 0) {
    s = '';
    let run = 0;
    const n = path.length;
    for (let i = 0; i < n; i++) {
      const c = path.charCodeAt(i);
      if (c !== 37 && c !== 92) continue;
      let piece: string;
      let advance = 0;
      if (c === 37) {
        const h = i + 2 < n ? hexValue(path.charCodeAt(i + 1)) : -1;
        const l = h >= 0 ? hexValue(path.charCodeAt(i + 2)) : -1;
        if (l < 0) return reject('invalid percent-encoding in path');
        const v = h * 16 + l;
        advance = 2;
        if (unreserved(v)) piece = String.fromCharCode(v);
        else if (v === 0x2f || v === 0x5c) {
          const a = o.escapedSlashes;
          if (a === REJECT) return reject('escaped slash in path');
          if (a === KEEP) piece = '%' + HEX[h] + HEX[l];
          else {
            piece = '/';
            if (a === REDIRECT) redirect = true;
          }
        } else piece = '%' + HEX[h] + HEX[l];
      } else {
        const a = o.escapedSlashes;
        if (a === REJECT) return reject('backslash in path');
        if (a === KEEP) continue;
        piece = '/';
        if (a === REDIRECT) redirect = true;
      }
      s += path.slice(run, i) + piece;
      i += advance;
      run = i + 1;
    }
    if (run < n) s += path.slice(run);
  }
  // Passes 2 and 3: segments. segs[0] is the '' before the leading "/".
  if (s.indexOf('//') < 0 && s.indexOf('/.') < 0) {
    return { verdict: redirect ? PATH_REDIRECT : PATH_OK, path: s, reason: '' };
  }
  const segs = s.split('/');
  const out: string[] = [];
  const last = segs.length - 1;
  const merge = o.mergeSlashes;
  for (let i = 1; i <= last; i++) {
    const seg = segs[i]!;
    if (seg === '.') {
      if (i === last) out.push('');
    } else if (seg === '..') {
      out.pop();
      if (i === last) out.push('');
    } else if (seg === '' && i !== last && merge !== KEEP) {
      // An empty segment that is not the trailing one: a repeated slash.
      if (merge === REJECT) return reject('repeated slashes in path');
      if (merge === REDIRECT) redirect = true;
    } else out.push(seg);
  }
  return { verdict: redirect ? PATH_REDIRECT : PATH_OK, path: '/' + out.join('/'), reason: '' };
}
