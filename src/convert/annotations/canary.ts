// canary, canary-weight, canary-weight-total, canary-by-header(-value|-pattern), canary-by-cookie.
// ingress-nginx sends a request to the canary by header first, then by cookie, then by
// weight; the route builder turns that order into rules with header matches ahead of the
// weighted rule (Gateway API ranks rules with more header matches first, then list order).

import type { AnnotationFamily } from './index.js';
import { truthy } from '../ingress.js';

const NAMES = ['canary', 'canary-weight', 'canary-weight-total', 'canary-by-header', 'canary-by-header-value', 'canary-by-header-pattern', 'canary-by-cookie'] as const;

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

export const canary: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    const a = plan.annotations;
    if (!truthy(a.get('canary'))) {
      for (const n of NAMES) if (a.has(n)) plan.report(n, 'converted', 'no effect without canary: "true" (ingress-nginx ignores it too); nothing emitted');
      return;
    }
    // balancer.lua draws from max(100, canary-weight-total): a total below 100 counts as 100.
    const givenTotal = int(a.get('canary-weight-total'));
    const weightTotal = Math.max(100, givenTotal ?? 100);
    const spec: NonNullable<typeof plan.canary> = { weightTotal };
    plan.report('canary', 'converted', 'this Ingress becomes extra backendRefs and rules on the routes of the Ingress it shadows (same host and path)');
    if (a.has('canary-weight-total')) {
      if (int(a.get('canary-weight-total')) === undefined) plan.report('canary-weight-total', 'not-converted', `"${a.get('canary-weight-total')}" is not a whole number; 100 is used`);
      else plan.report('canary-weight-total', 'converted', givenTotal! < 100 ? `below 100, so ingress-nginx uses 100: backendRef weights out of 100` : `backendRef weights out of ${weightTotal}`);
    }
    if (a.has('canary-weight')) {
      const w = int(a.get('canary-weight'));
      if (w === undefined) plan.report('canary-weight', 'not-converted', `"${a.get('canary-weight')}" is not a whole number`);
      else {
        spec.weight = Math.min(w, weightTotal);
        plan.report('canary-weight', 'converted', `weight ${spec.weight} for the canary, ${weightTotal - spec.weight} for the main backend`);
      }
    }
    const header = a.get('canary-by-header')?.trim();
    if (header) {
      spec.header = header;
      if (a.has('canary-by-header-value') && a.get('canary-by-header-value') !== '') {
        spec.headerValue = a.get('canary-by-header-value')!;
        plan.report('canary-by-header', 'converted', `rule matching header ${header} (see canary-by-header-value)`);
        plan.report('canary-by-header-value', 'converted', `header match ${header}: ${spec.headerValue} (Exact) sends to the canary; other values fall through, as in ingress-nginx`);
        if (a.has('canary-by-header-pattern')) plan.report('canary-by-header-pattern', 'converted', 'ignored because canary-by-header-value is set (ingress-nginx does the same)');
      } else if (a.has('canary-by-header-pattern') && a.get('canary-by-header-pattern') !== '') {
        spec.headerPattern = a.get('canary-by-header-pattern')!;
        plan.report('canary-by-header', 'converted', `rule matching header ${header} (see canary-by-header-pattern)`);
        plan.report(
          'canary-by-header-pattern',
          'approximated',
          `RegularExpression header match ".*(?:${spec.headerPattern}).*" (ingress-nginx searches the value with PCRE; Gateway API regexes match the whole value and their dialect is implementation-specific: Portico uses ECMAScript)`,
        );
      } else {
        plan.report('canary-by-header', 'converted', `header ${header}: always -> canary, never -> main backend (two Exact header rules)`);
      }
    } else {
      for (const n of ['canary-by-header', 'canary-by-header-value', 'canary-by-header-pattern'])
        if (a.has(n)) plan.report(n, 'converted', n === 'canary-by-header' ? 'empty: no header rule (as in ingress-nginx)' : 'no effect without canary-by-header');
    }
    const cookie = a.get('canary-by-cookie')?.trim();
    if (cookie) {
      spec.cookie = cookie;
      plan.report(
        'canary-by-cookie',
        'approximated',
        `Gateway API has no cookie match: RegularExpression matches on the Cookie header for ${cookie}=always (canary) and ${cookie}=never (main backend)`,
      );
    } else if (a.has('canary-by-cookie')) plan.report('canary-by-cookie', 'converted', 'empty: no cookie rule (as in ingress-nginx)');
    plan.canary = spec;
  },
};
