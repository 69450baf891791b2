// HTTPRoute rule `retry` (GEP-1731) for the front ends that send a request to an HTTP/1.1
// upstream: the HTTP/1.1 connection (http1/connection.ts) and HTTP/2 streams to HTTP/1.1
// backends (http2/h1-upstream.ts). One RetryState per exchange owner, reused across requests.
//
// What is retried, up to `attempts` more tries, `backoffMs` apart:
// - a response whose status is in `codes` (HTTPRouteRetry);
// - a connection that fails or closes before any response byte (HTTPRouteRetryConnectionError);
// - a try with no complete response within `timeouts.backendRequest` (HTTPRouteRetryBackendTimeout).
// A retry the backend's retry budget (XBackendTrafficPolicy retryConstraint, retry-budget.ts)
// has no room for is not sent: `refused` is set and the owner answers 503, as the API requires.
// When a rule retries, `backendRequest` bounds each try and `request` the whole exchange, tries
// and backoffs included (the spec's words: "the entire duration of the initial request and any
// retry attempts MUST not exceed the Request timeout"). Without a retry stanza both bound the one
// try, as before. Only requests without a body are sent again: nothing of them was streamed away.

import type { Plan } from '../plan.js';
import type { RouteCells } from '../../observability/metrics/dataplane.js';
import type { RetryBudgetTracker } from './retry-budget.js';

export interface RetryOwner {
  /** Send the request again, to the next endpoint (the previous try's upstream is already dropped). */
  resend(): void;
  /** The current try ran past the backendRequest timeout. */
  tryTimedOut(): void;
}

const NO_CODES: readonly number[] = [];

/** The 503 body when the retry budget refused a retry (every front end answers with it). */
export const BUDGET_EXHAUSTED = 'retry budget exhausted\n';
/** The answer when an upstream failed or closed before any response head, after any retries. */
export function connectFailureStatus(plan: Plan): number {
  // After retries, Envoy's answer (503), which the retry conformance tests expect.
  return plan.entry?.retry ? 503 : 502;
}
export function connectFailureBody(plan: Plan, err: Error | undefined): string {
  return plan.entry?.retry ? 'upstream connect error or disconnect before headers\n' : err ? 'upstream connect error\n' : 'upstream closed connection\n';
}

/**
 * The timer over the whole exchange: the rule's `request` timeout when each try has its own
 * (a retrying rule with `backendRequest`), else the smaller of the two (plan.timeoutMs).
 */
export function exchangeTimeoutMs(plan: Plan): number {
  return plan.tryTimeoutMs > 0 ? (plan.entry!.timeouts!.requestMs ?? 0) : plan.timeoutMs;
}

export class RetryState {
  /** Retries left for this request; 0 for requests with a body or without a retry stanza. */
  left = 0;
  /** Retries sent for this request (access log). */
  count = 0;
  /** A retry was wanted but the backend's retry budget refused it: the answer is a 503. */
  refused = false;
  private budget: RetryBudgetTracker | null = null;
  private codes: readonly number[] = NO_CODES;
  private backoffMs = 0;
  private tryMs = 0;
  private backoffTimer: NodeJS.Timeout | null = null;
  private tryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly owner: RetryOwner) {}

  /** A new request on the owner, before it knows whether it will retry (local answers, h2 upstreams never do). */
  reset(): void {
    this.left = this.count = 0;
    this.refused = false;
  }

  /** A new request: its retry budget. `resendable` is false for a body or a tunnel. */
  begin(plan: Plan, resendable: boolean): void {
    this.cancel();
    this.count = 0;
    this.refused = false;
    this.budget = plan.cluster?.budget ?? null;
    if (this.budget) this.budget.request(Date.now());
    const r = plan.entry?.retry;
    this.left = r && resendable ? r.attempts : 0;
    this.codes = r ? r.codes : NO_CODES;
    this.backoffMs = r ? r.backoffMs : 0;
    this.tryMs = plan.tryTimeoutMs;
  }

  /** A try was sent: its backendRequest timer starts. */
  armTry(): void {
    if (this.tryMs > 0) {
      if (this.tryTimer) clearTimeout(this.tryTimer);
      this.tryTimer = setTimeout(this.onTryTimer, this.tryMs);
    }
  }

  /** The try is over (response complete, local answer, tunnel, close): its timer stops. */
  endTry(): void {
    if (this.tryTimer) {
      clearTimeout(this.tryTimer);
      this.tryTimer = null;
    }
  }

  /** A response head with `status` arrived: true when it is to be retried (one retry is spent). */
  takeStatus(status: number, cells: RouteCells | null): boolean {
    return this.left > 0 && this.codes.includes(status) && this.take(cells);
  }

  /** A connection error or a timed-out try: true when a retry is left (and spent). */
  take(cells: RouteCells | null): boolean {
    if (this.left <= 0) return false;
    if (this.budget && !this.budget.tryRetry(Date.now())) {
      this.refused = true;
      this.left = 0;
      return false;
    }
    this.left--;
    this.count++;
    if (cells) cells.retries.v++;
    this.endTry();
    return true;
  }

  /** After take() and dropping the try's upstream: resend now, or after the backoff. */
  schedule(): void {
    if (this.backoffMs > 0) this.backoffTimer = setTimeout(this.onBackoff, this.backoffMs);
    else this.owner.resend();
  }

  /** No more tries (request timeout, client gone, exchange done). */
  cancel(): void {
    this.left = 0;
    if (this.backoffTimer) {
      clearTimeout(this.backoffTimer);
      this.backoffTimer = null;
    }
    this.endTry();
  }

  private onBackoff = (): void => {
    this.backoffTimer = null;
    this.owner.resend();
  };

  private onTryTimer = (): void => {
    this.tryTimer = null;
    this.owner.tryTimedOut();
  };
}
