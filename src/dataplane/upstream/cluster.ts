// Backends at run time: weighted backendRef choice and round-robin over a cluster's endpoints.

import type { Cluster, Endpoint, UpstreamTLS, WeightedBackend } from '../../ir/types.js';
import { RetryBudgetTracker } from './retry-budget.js';

export class RuntimeCluster {
  readonly name: string;
  readonly protocol: Cluster['protocol'];
  readonly endpoints: Endpoint[];
  readonly tls: UpstreamTLS | undefined;
  /**
   * Pool keys by endpoint index (see key()), made on first use: a cluster of 100 endpoints
   * seldom dials them all, and 100,000 eager keys held ~11 MB in every worker.
   */
  private readonly keys: (string | undefined)[] = [];
  private tlsKey: string | undefined;
  /** XBackendTrafficPolicy retryConstraint; null when none applies. */
  readonly budget: RetryBudgetTracker | null;
  private rr = 0;
  /** "address\nport" -> endpoint index, built on first use (session persistence). */
  private byAddress: Map<string, number> | null = null;

  constructor(c: Cluster, rrStart = 0) {
    this.name = c.name;
    this.protocol = c.protocol;
    this.endpoints = c.endpoints;
    this.tls = c.tls;
    this.rr = rrStart;
    this.budget = c.retryBudget ? new RetryBudgetTracker(c.retryBudget) : null;
  }

  /** The pool key of endpoint `i`: sockets survive applies when the endpoint and the TLS settings are unchanged. */
  key(i: number): string {
    const k = this.keys[i];
    if (k !== undefined) return k;
    this.tlsKey ??= this.tls ? '|tls|' + JSON.stringify(this.tls) : '';
    const e = this.endpoints[i]!;
    return (this.keys[i] = this.protocol + '|' + e.address + ':' + e.port + this.tlsKey);
  }

  /** The keys made so far: an endpoint without one never had a pooled socket. */
  usedKeys(): Iterable<string> {
    return this.keys.filter((k) => k !== undefined);
  }

  /** Next endpoint index (round robin), -1 when the cluster has none. */
  next(): number {
    const n = this.endpoints.length;
    if (n === 0) return -1;
    if (n === 1) return 0;
    const i = this.rr++ % n;
    if (this.rr > 1e9) this.rr = 0;
    return i;
  }
  /** Index of the endpoint at address:port, -1 when the cluster no longer has it. */
  indexOf(address: string, port: number): number {
    if (!this.byAddress) {
      this.byAddress = new Map();
      for (let i = 0; i < this.endpoints.length; i++) this.byAddress.set(this.endpoints[i]!.address + '\n' + this.endpoints[i]!.port, i);
    }
    return this.byAddress.get(address + '\n' + port) ?? -1;
  }
  get rrState(): number {
    return this.rr;
  }
}

/** Weighted random choice; weight 0 is never picked. undefined when every weight is 0 or the list is empty. */
export function pickBackend(backends: WeightedBackend[]): WeightedBackend | undefined {
  const n = backends.length;
  if (n === 1) return backends[0]!.weight > 0 ? backends[0] : undefined;
  let total = 0;
  for (let i = 0; i < n; i++) total += backends[i]!.weight;
  if (total <= 0) return undefined;
  let r = Math.random() * total;
  for (let i = 0; i < n; i++) {
    const w = backends[i]!.weight;
    if (w <= 0) continue;
    if (r < w) return backends[i];
    r -= w;
  }
  for (let i = n - 1; i >= 0; i--) if (backends[i]!.weight > 0) return backends[i];
  return undefined;
}
