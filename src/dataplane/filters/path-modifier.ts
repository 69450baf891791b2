// URLRewrite and RequestRedirect path modifiers. ReplacePrefixMatch swaps the matched
// PathPrefix (segment-wise) for the new value without doubling or losing the "/" between them.

import type { HTTPMatch, PathModifier } from '../../ir/types.js';
import { normalizePrefix } from '../router/match.js';

export function modifyPath(path: string, mod: PathModifier, match: HTTPMatch): string {
  if (mod.type === 'ReplaceFullPath') return mod.value;
  const m = match.path;
  // ReplacePrefixMatch is only valid with a PathPrefix match; anything else keeps the path.
  if (!m || m.type !== 'PathPrefix') return path;
  const prefix = normalizePrefix(m.value);
  const rest = prefix === '/' ? path : path.slice(prefix.length); // "" or "/..."
  let value = mod.value;
  if (rest === '' || rest === '/') {
    // "/foo" or "/foo/" with prefix /foo -> the replacement itself (keeping a trailing slash the request had).
    if (value === '') return '/';
    if (rest === '/' && !value.endsWith('/')) return value + '/';
    return value;
  }
  if (value.endsWith('/')) value = value.slice(0, -1);
  const out = value + (rest.charCodeAt(0) === 47 ? rest : '/' + rest);
  return out === '' ? '/' : out;
}
