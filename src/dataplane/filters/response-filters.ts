// A route's response-side filters (ResponseHeaderModifier, then the CORS headers of an allowed
// origin), shared by every front end and upstream kind (HTTP/1.1 and HTTP/2 both ways). An
// unfiltered HTTP/1.1 response head is relayed as the upstream's own lines, never re-assembled.

import type { Plan } from '../plan.js';
import { applyHeaderModifier, flatToLines, linesToFlat } from './header-modifier.js';
import { responseHeaders as corsResponseHeaders } from './cors.js';

/** The plan's response filters applied to `flat` (name, value, name, value...) in place. */
export function applyResponseFilters(plan: Plan, flat: string[]): void {
  if (plan.respMods) for (const m of plan.respMods) applyHeaderModifier(flat, m);
  if (plan.cors) flat.push(...corsResponseHeaders(plan.cors, plan.origin));
}

/** Header lines (`name: value\r\n` each) with the plan's response filters applied; `lines` itself when it has none. */
export function filteredResponseLines(plan: Plan, lines: string): string {
  if (!plan.respMods && !plan.cors) return lines;
  const flat = linesToFlat(lines);
  applyResponseFilters(plan, flat);
  return flatToLines(flat);
}
