// The annotation families, each a list of annotation names and the function that reads
// them into the plan. Order matters only for the report (sorted later anyway).

import type { IngressPlan } from '../plan.js';
import { affinity } from './affinity.js';
import { backend } from './backend.js';
import { canary } from './canary.js';
import { cors } from './cors.js';
import { limits } from './limits.js';
import { redirects } from './redirects.js';
import { rewrite } from './rewrite.js';
import { snippets } from './snippets.js';
import { timeouts } from './timeouts.js';
import { upstream } from './upstream.js';

export interface AnnotationFamily {
  names: readonly string[];
  apply(plan: IngressPlan): void;
}

export const FAMILIES: readonly AnnotationFamily[] = [canary, rewrite, redirects, upstream, cors, timeouts, affinity, backend, limits, snippets];
