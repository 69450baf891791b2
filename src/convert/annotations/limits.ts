// Source-address access lists and rate limits. Gateway API has no such field and Portico
// has no policy kind for them yet (src/api holds none), so they are reported, not dropped silently.

import type { AnnotationFamily } from './index.js';

const NAMES = ['whitelist-source-range', 'allowlist-source-range', 'denylist-source-range', 'limit-rps', 'limit-rpm', 'limit-connections', 'limit-burst-multiplier', 'limit-whitelist', 'limit-allowlist'];

export const limits: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    for (const n of NAMES) {
      if (!plan.annotations.has(n)) continue;
      const what = n.startsWith('limit-') ? 'rate/connection limits' : 'client address allow/deny lists';
      plan.report(n, 'not-converted', `Gateway API has no ${what} and Portico has no policy for them yet; enforce it in front of Portico (cloud load balancer, NetworkPolicy) or keep the Ingress until one exists`);
    }
  },
};
