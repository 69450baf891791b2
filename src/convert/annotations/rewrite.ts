// rewrite-target and use-regex. The path-dependent part (which rewrite a path gets) is in
// ../paths.ts; here the annotations are read and the host-wide effect noted.

import type { AnnotationFamily } from './index.js';
import { truthy } from '../ingress.js';

export const rewrite: AnnotationFamily = {
  names: ['rewrite-target', 'use-regex'],
  apply(plan) {
    const a = plan.annotations;
    if (a.has('use-regex')) {
      plan.useRegex = truthy(a.get('use-regex'));
      plan.report(
        'use-regex',
        plan.useRegex ? 'approximated' : 'converted',
        plan.useRegex
          ? 'paths become RegularExpression matches ending in ".*" (ingress-nginx anchors only the start and ignores case; Gateway API regexes match the whole path, case-sensitively in Portico); every path of the host is treated as a regex, as ingress-nginx does'
          : 'false: paths stay literal',
      );
    }
    const t = a.get('rewrite-target');
    if (t !== undefined && t !== '') plan.rewriteTarget = t; // reported per path by the route builder
    else if (a.has('rewrite-target')) plan.report('rewrite-target', 'converted', 'empty: no rewrite');
  },
};
