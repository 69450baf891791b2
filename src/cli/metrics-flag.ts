// --metrics on|off: the engine counts Prometheus metrics (default on); off leaves every counter
// out of the data plane's hot path (the bench measures both). /metrics then shows only the
// control plane's families.

export const METRICS_FLAG = { metrics: { type: 'string' } } as const;

export function parseMetricsFlag(v: unknown): boolean {
  if (v === undefined || v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`--metrics must be on or off (got "${String(v)}")`);
}
