// When a batch of source changes becomes a new snapshot. A fixed quiet period (wait N ms after
// the last change) charges every change the full wait, even a lone edit nobody else follows.
// This one adapts: when changes are rare (fewer than `burstFirings` firings within the last
// `burstWindowMs`), a change fires after only `settleMs` (the few ms an editor's save or a
// rename spreads its events over); while changes keep coming it waits for a `debounceMs` quiet
// period, so a burst collapses into few rebuilds; and `maxDelayMs` bounds how long a steady
// stream can hold one back.

export interface AdaptiveDebounceOptions {
  /** Wait after a change when changes are rare. */
  settleMs: number;
  /** Quiet period that ends a burst. */
  debounceMs: number;
  /** `burstFirings` firings within this long make the next change part of a burst. */
  burstWindowMs: number;
  /** Default 3. */
  burstFirings?: number;
  /** Longest delay from the first pending change to the firing. */
  maxDelayMs: number;
  /** Injected for tests; default Date.now / setTimeout (setImmediate for no wait) / clearTimeout. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export class AdaptiveDebounce {
  private timer: unknown;
  private firstPending = 0;
  /** When the last `burstFirings` firings happened, oldest first. */
  private fired: number[] = [];
  private bursting = false;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(
    private readonly fire: () => void,
    private readonly o: AdaptiveDebounceOptions,
  ) {
    this.now = o.now ?? Date.now;
    // No wait is the next turn of the event loop (whatever else the same read of a watch brought
    // comes first): Node makes a 0 ms timeout a 1 ms one, ~1 ms of every lone change.
    this.setTimer = o.setTimer ?? ((fn, ms) => (ms <= 0 ? { immediate: setImmediate(fn) } : setTimeout(fn, ms)));
    this.clearTimer = o.clearTimer ?? ((t) => (t instanceof Object && 'immediate' in t ? clearImmediate(t.immediate as NodeJS.Immediate) : clearTimeout(t as NodeJS.Timeout)));
  }

  /** A change happened: fire later (see the file comment for how much later). */
  trigger(): void {
    const now = this.now();
    if (this.timer === undefined) {
      this.firstPending = now;
      const n = this.o.burstFirings ?? 3;
      this.bursting = this.fired.length >= n && now - this.fired[this.fired.length - n]! < this.o.burstWindowMs;
    } else {
      this.clearTimer(this.timer);
    }
    const want = this.bursting ? this.o.debounceMs : this.o.settleMs;
    const wait = Math.max(0, Math.min(want, this.firstPending + this.o.maxDelayMs - now));
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      this.fired.push(this.now());
      if (this.fired.length > (this.o.burstFirings ?? 3)) this.fired.shift();
      this.fire();
    }, wait);
  }

  /** A firing is waiting for its timer. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  cancel(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }
}
