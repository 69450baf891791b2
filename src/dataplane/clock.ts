// A coarse clock for the hot path: stamps that need second-level precision (idle connections,
// idle pooled sockets) read this field instead of calling Date.now() per request. Advanced by
// the idle sweeps of the HTTP ports (http1/idle.ts), so it lags real time by at most a period.

export const clock = { now: Date.now() };
