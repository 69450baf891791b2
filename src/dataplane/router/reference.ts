// The reference matcher: a linear scan in precedence order. Obviously correct, used to check
// the compiled matcher (shared tests, random cases) and nowhere on the hot path.

import type { HTTPRouteEntry } from '../../ir/types.js';
import { compileFullCheck, type Check, type MatchRequest } from './match.js';

export interface RouteMatcher {
  /** Index of the first entry (precedence order) matching `req`, -1 when none. */
  match(req: MatchRequest): number;
}

export class ReferenceMatcher implements RouteMatcher {
  private checks: Check[];
  constructor(routes: HTTPRouteEntry[]) {
    this.checks = routes.map((r) => compileFullCheck(r.match));
  }
  match(req: MatchRequest): number {
    for (let i = 0; i < this.checks.length; i++) if (this.checks[i]!(req)) return i;
    return -1;
  }
}
