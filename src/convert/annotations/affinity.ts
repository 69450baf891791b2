// affinity: cookie and the session-cookie-* set, as HTTPRoute rule sessionPersistence
// (Gateway API v1.x, GEP-1619).

import type { AnnotationFamily } from './index.js';
import { duration } from './timeouts.js';

const NAMES = ['affinity', 'affinity-mode', 'affinity-canary-behavior', 'session-cookie-name', 'session-cookie-expires', 'session-cookie-max-age', 'session-cookie-path', 'session-cookie-samesite', 'session-cookie-secure', 'session-cookie-domain', 'session-cookie-change-on-failure', 'session-cookie-conditional-samesite-none'];

export const affinity: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    const a = plan.annotations;
    if (a.get('affinity') !== 'cookie') {
      if (a.has('affinity')) plan.report('affinity', 'not-converted', `affinity "${a.get('affinity')}": only cookie is supported by ingress-nginx and convert`);
      for (const n of NAMES.slice(1)) if (a.has(n)) plan.report(n, 'converted', 'no effect without affinity: cookie');
      return;
    }
    const name = a.get('session-cookie-name') || 'INGRESSCOOKIE';
    const maxAge = Number(a.get('session-cookie-max-age'));
    const expires = Number(a.get('session-cookie-expires'));
    const lifetime = Number.isInteger(maxAge) && maxAge > 0 ? maxAge : Number.isInteger(expires) && expires > 0 ? expires : undefined;
    plan.sessionPersistence = {
      sessionName: name,
      type: 'Cookie',
      ...(lifetime !== undefined ? { absoluteTimeout: duration(lifetime) } : {}),
      cookieConfig: { lifetimeType: lifetime !== undefined ? 'Permanent' : 'Session' },
    };
    plan.report('affinity', 'converted', `sessionPersistence type Cookie, sessionName ${name}`);
    if (a.has('session-cookie-name')) plan.report('session-cookie-name', 'converted', `sessionName ${name}`);
    for (const n of ['session-cookie-max-age', 'session-cookie-expires']) {
      if (!a.has(n)) continue;
      if (lifetime === undefined) plan.report(n, 'not-converted', `"${a.get(n)}" is not a positive number of seconds`);
      else if (n === 'session-cookie-expires' && a.has('session-cookie-max-age') && lifetime === maxAge) plan.report(n, 'converted', 'session-cookie-max-age gives the lifetime');
      else plan.report(n, 'converted', `absoluteTimeout ${duration(lifetime)}, cookieConfig.lifetimeType Permanent`);
    }
    if (a.has('session-cookie-path'))
      plan.report('session-cookie-path', 'approximated', 'sessionPersistence has no cookie path: the implementation scopes the cookie to the route (Portico: the rule\'s path)');
    if (a.has('affinity-mode')) plan.report('affinity-mode', a.get('affinity-mode') === 'persistent' ? 'converted' : 'approximated', 'sessionPersistence keeps a session on its backend until it goes away (persistent); balanced rebalancing has no equivalent');
    for (const n of ['affinity-canary-behavior', 'session-cookie-samesite', 'session-cookie-secure', 'session-cookie-domain', 'session-cookie-change-on-failure', 'session-cookie-conditional-samesite-none'])
      if (a.has(n)) plan.report(n, 'not-converted', 'sessionPersistence has no field for this cookie attribute/behaviour');
  },
};
