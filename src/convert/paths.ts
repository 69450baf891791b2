// An Ingress path (with its pathType, the host's regex mode and rewrite-target) as an
// HTTPRoute path match and URLRewrite path. The choices:
//   Exact -> Exact; Prefix -> PathPrefix (both the same element-wise semantics).
//   ImplementationSpecific -> PathPrefix. ingress-nginx serves it as an nginx prefix
//     location, a plain string prefix ("/app" also matches "/apple"); PathPrefix matches
//     whole segments. Segment matching is what nearly every such Ingress meant, so it is
//     the documented choice, reported as approximated (docs/migration.md).
//   Regex mode (use-regex or rewrite-target anywhere on the host; ingress-nginx then treats
//     every path of the host as a case-insensitive regex anchored at the start):
//     "P(/|$)(.*)" -> PathPrefix P (the same set of paths, segment-wise);
//     a literal path -> as above (approximated: nginx would also match longer strings);
//     any other regex -> RegularExpression "<regex>.*" (approximated: case and dialect).
//   rewrite-target:
//     "P(/|$)(.*)" with "X/$2" -> ReplacePrefixMatch X/ (exact);
//     "P/(.*)" with "X/$1" -> ReplacePrefixMatch X/ (the path match is approximated: PathPrefix P also matches P itself);
//     a target without "$" (or a path without groups) -> ReplaceFullPath (nginx replaces the whole path too);
//     anything else -> no rewrite, not converted.

import type { HTTPPathMatch, HTTPPathModifier } from '../api/types.js';
import type { ConversionStatus } from './types.js';

const META = /[\\^$|?*+()[\]{}]/;
const CAPTURE_PREFIX = /^(\/[^\\^$|?*+()[\]{}]*?)\(\/\|\$\)\(\.\*\)$/;
const SLASH_CAPTURE = /^(\/[^\\^$|?*+()[\]{}]*?)\/\(\.\*\)$/;

export interface PathOutcome {
  match: HTTPPathMatch;
  status: ConversionStatus;
  note?: string;
}

/** Whether a path needs the host's regex mode treatment (it has regex syntax). */
export const isRegexPath = (p: string): boolean => META.test(p);

export function pathMatch(path: string, pathType: string, regexMode: boolean): PathOutcome {
  const p = path || '/';
  if (!regexMode) {
    if (pathType === 'Exact') return { match: { type: 'Exact', value: p }, status: 'converted' };
    if (pathType === 'Prefix' || p === '/') return { match: { type: 'PathPrefix', value: p }, status: 'converted' };
    return {
      match: { type: 'PathPrefix', value: p },
      status: 'approximated',
      note: `ImplementationSpecific ${p}: nginx matches it as a string prefix (${p.replace(/\/$/, '')}x too), PathPrefix matches whole segments`,
    };
  }
  const cap = CAPTURE_PREFIX.exec(p);
  if (cap) {
    const prefix = cap[1] || '/';
    return { match: { type: 'PathPrefix', value: prefix }, status: 'approximated', note: `regex ${p}: PathPrefix ${prefix} matches the same paths, but case-sensitively (nginx: ~*)` };
  }
  const slash = SLASH_CAPTURE.exec(p);
  if (slash) {
    return { match: { type: 'PathPrefix', value: slash[1]! }, status: 'approximated', note: `regex ${p}: PathPrefix ${slash[1]} (also matches ${slash[1]} itself, and case-sensitively; nginx: ~*)` };
  }
  if (!isRegexPath(p)) {
    if (p === '/') return { match: { type: 'PathPrefix', value: '/' }, status: 'converted' };
    return {
      match: { type: 'PathPrefix', value: p },
      status: 'approximated',
      note: `regex mode: nginx matches ^${p} case-insensitively (longer strings such as ${p.replace(/\/$/, '')}x too); PathPrefix ${p} matches whole segments`,
    };
  }
  const value = p.includes('|') ? `(?:${p}).*` : `${p}.*`;
  return { match: { type: 'RegularExpression', value }, status: 'approximated', note: `regex ${p}: RegularExpression ${value} (nginx: case-insensitive PCRE anchored at the start)` };
}

export interface RewriteOutcome {
  modifier?: HTTPPathModifier;
  status: ConversionStatus;
  note: string;
}

export function pathRewrite(path: string, match: HTTPPathMatch, target: string): RewriteOutcome {
  const p = path || '/';
  if (target.includes('?'))
    return { status: 'not-converted', note: `${p} -> ${target}: nginx sets the query string from the target; URLRewrite can only replace the path, so this rule is routed without a rewrite` };
  const cap = CAPTURE_PREFIX.exec(p);
  const m2 = /^(.*\/)\$2$/.exec(target);
  if (cap && m2 && match.type === 'PathPrefix') {
    const x = m2[1]!;
    // The trailing "/" stays: "/api" alone becomes "X/" in nginx ($1 and $2 empty), and
    // ReplacePrefixMatch keeps a replacement's trailing slash only when nothing follows the prefix.
    return { modifier: { type: 'ReplacePrefixMatch', replacePrefixMatch: x }, status: 'converted', note: `${p} -> ${target}: ReplacePrefixMatch ${x}` };
  }
  const slash = SLASH_CAPTURE.exec(p);
  const m1 = /^(.*\/)\$1$/.exec(target);
  if (slash && m1 && match.type === 'PathPrefix') {
    return { modifier: { type: 'ReplacePrefixMatch', replacePrefixMatch: m1[1]! }, status: 'converted', note: `${p} -> ${target}: ReplacePrefixMatch ${m1[1]}` };
  }
  if (!p.includes('(') && target.includes('$')) {
    // No capture group: nginx substitutes "" for every $n, and the rewrite replaces the whole path.
    const full = target.replace(/\$\d+/g, '') || '/';
    return { modifier: { type: 'ReplaceFullPath', replaceFullPath: full }, status: 'converted', note: `${p} has no capture groups, so nginx rewrites every path to ${full}: ReplaceFullPath ${full}` };
  }
  if (!target.includes('$')) return { modifier: { type: 'ReplaceFullPath', replaceFullPath: target }, status: 'converted', note: `ReplaceFullPath ${target} (nginx's rewrite also replaces the whole path)` };
  return { status: 'not-converted', note: `${p} -> ${target}: only the capture-group prefix form "P(/|$)(.*)" with "X/$2" (or a target without captures) converts; this rule is routed without a rewrite` };
}
