// Idle timeouts of HTTP/1.1 connections by one sweep per port instead of a timer per socket.
// socket.setTimeout makes Node refresh the socket's timer on every read and write (a clock read
// and a timer-list update each), which the fast path would pay on every request. Connections
// stamp `clock.now` instead, a coarse clock the sweep advances.

import { clock } from '../clock.js';

export interface IdleSweepable {
  /** Close if idle since before `cutoff` (and idleness applies in the connection's state). */
  sweep(cutoff: number): void;
}

/** Sweep period for an idle timeout: a quarter of it, at most a second. */
export function sweepPeriod(idleMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(idleMs / 4)));
}

/**
 * Start sweeping `conns`. A stamp lags the activity it marks by at most one period, so a
 * connection is closed after `idleMs` of real idleness at the earliest, two periods later at most.
 */
export function startIdleSweep(conns: Iterable<IdleSweepable>, idleMs: number): NodeJS.Timeout {
  const period = sweepPeriod(idleMs);
  const t = setInterval(() => {
    const now = Date.now();
    clock.now = now;
    const cutoff = now - idleMs - period;
    for (const c of conns) c.sweep(cutoff);
  }, period);
  t.unref();
  return t;
}
