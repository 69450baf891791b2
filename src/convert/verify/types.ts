// What --verify compares: one sample request, and where each side sends it.

export interface SampleRequest {
  scheme: 'http' | 'https';
  host: string;
  path: string;
  headers: Record<string, string>;
  /** Which Ingress (and what about it) the sample exercises, for the table. */
  why: string;
  /** IngressClass whose Gateway serves it. */
  className: string;
}

export type Outcome =
  | { kind: 'backend'; /** service "ns/name:port" -> share of requests (sums to 1) */ backends: Record<string, number>; path: string; host: string }
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'not-found' }
  | { kind: 'error'; reason: string };

export interface VerifyRow {
  request: SampleRequest;
  nginx: Outcome;
  gateway: Outcome;
  pass: boolean;
}

export function describe(o: Outcome): string {
  switch (o.kind) {
    case 'backend': {
      const b = Object.entries(o.backends)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => (v === 1 ? k : `${k}@${Math.round(v * 1000) / 10}%`))
        .join('+');
      return `${b} ${o.host}${o.path}`;
    }
    case 'redirect':
      return `${o.status} -> ${o.location}`;
    case 'not-found':
      return 'default backend (404)';
    case 'error':
      return `error: ${o.reason}`;
  }
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return describe(a) === describe(b);
}
