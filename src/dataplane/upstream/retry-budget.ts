// XBackendTrafficPolicy retryConstraint at run time (IR Cluster.retryBudget): "once the budget
// is exceeded, additional retries will be rejected" and answered 503. A retry may go out while
// the retries of the last `intervalMs` stay under `percent` of its requests, or while the
// retries of the last `minIntervalMs` stay under `minRetries` (minRetryRate: retries stay
// possible when traffic is low). Each window is the usual two-bucket sliding estimate: the
// previous bucket weighted by how much of it still overlaps the window, plus the current one.
// Counted per worker process, like Envoy's per-instance budgets: the spec notes that the
// effective overall rate across many clients (here, workers and replicas) may be higher.

import type { RetryBudget } from '../../ir/types.js';

class Window {
  private start = 0;
  private prev = 0;
  private cur = 0;
  constructor(private readonly ms: number) {}

  private roll(now: number): void {
    const gone = now - this.start;
    if (gone < this.ms) return;
    // One whole window on: the current bucket becomes the previous; two or more: both are stale.
    this.prev = gone < 2 * this.ms ? this.cur : 0;
    this.cur = 0;
    this.start = gone < 2 * this.ms ? this.start + this.ms : now;
  }

  add(now: number): void {
    this.roll(now);
    this.cur++;
  }

  estimate(now: number): number {
    this.roll(now);
    return this.prev * (1 - (now - this.start) / this.ms) + this.cur;
  }
}

export class RetryBudgetTracker {
  private readonly requests: Window;
  private readonly retries: Window;
  private readonly recent: Window;

  constructor(private readonly b: RetryBudget) {
    this.requests = new Window(b.intervalMs);
    this.retries = new Window(b.intervalMs);
    this.recent = new Window(b.minIntervalMs);
  }

  /** A request to the backend (first tries only). */
  request(now: number): void {
    this.requests.add(now);
  }

  /** Whether one more retry fits the budget; when it does, it is counted. */
  tryRetry(now: number): boolean {
    const ok =
      this.retries.estimate(now) < (this.b.percent / 100) * this.requests.estimate(now) || this.recent.estimate(now) < this.b.minRetries;
    if (ok) {
      this.retries.add(now);
      this.recent.add(now);
    }
    return ok;
  }
}
