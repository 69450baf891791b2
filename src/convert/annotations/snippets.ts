// Raw nginx configuration: no Gateway API (or Portico) equivalent can be derived from it.

import type { AnnotationFamily } from './index.js';

const NAMES = ['configuration-snippet', 'server-snippet', 'stream-snippet', 'auth-snippet', 'modsecurity-snippet'];

export const snippets: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    for (const n of NAMES)
      if (plan.annotations.has(n))
        plan.report(n, 'not-converted', 'raw nginx configuration cannot be converted; re-express what it does with HTTPRoute filters (headers, redirects, rewrites) by hand');
  },
};
