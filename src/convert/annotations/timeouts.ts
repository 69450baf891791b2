// proxy-connect-timeout, proxy-send-timeout, proxy-read-timeout and proxy-body-size.
// nginx limits each phase (connect, the gap between two writes, between two reads);
// Gateway API has one budget for the whole upstream exchange (timeouts.backendRequest).
// The closest single value is connect + the larger of send and read, with nginx's defaults
// (5 s connect, 60 s send and read) for the ones not set.

import type { AnnotationFamily } from './index.js';

const NAMES = ['proxy-connect-timeout', 'proxy-send-timeout', 'proxy-read-timeout', 'proxy-body-size'];

/** nginx time ("60", "60s", "2m", "1h") in seconds; undefined when not one. */
function seconds(v: string | undefined): number | undefined {
  const m = v?.trim().match(/^(\d+)(s|m|h)?$/);
  if (!m) return undefined;
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as const)[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/** Seconds as a Gateway API Duration (at most 5 digits per unit). */
export function duration(total: number): string {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const out = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return out || '0s';
}

export const timeouts: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    const a = plan.annotations;
    const vals: Record<string, number | undefined> = {};
    let any = false;
    for (const n of NAMES.slice(0, 3)) {
      if (!a.has(n)) continue;
      const s = seconds(a.get(n));
      if (s === undefined) plan.report(n, 'not-converted', `"${a.get(n)}" is not an nginx time (e.g. 30, 30s, 2m)`);
      else {
        vals[n] = s;
        any = true;
      }
    }
    if (any) {
      const total = (vals['proxy-connect-timeout'] ?? 5) + Math.max(vals['proxy-send-timeout'] ?? 60, vals['proxy-read-timeout'] ?? 60);
      plan.timeouts = { backendRequest: duration(total) };
      for (const n of NAMES.slice(0, 3))
        if (vals[n] !== undefined)
          plan.report(n, 'approximated', `timeouts.backendRequest ${duration(total)} (connect + max(send, read)): Gateway API bounds the whole upstream exchange, nginx each phase`);
    }
    if (a.has('proxy-body-size'))
      plan.report('proxy-body-size', 'not-converted', 'Gateway API has no request body size limit and Portico has no policy for one; Portico does not cap request bodies');
  },
};
