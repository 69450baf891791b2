import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveDebounce } from './debounce.js';

/** A hand-driven clock: timers run only when advance() passes their due time. */
function fakeClock() {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { due: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const id = ++seq;
      timers.set(id, { due: now + ms, fn });
      return id;
    },
    clearTimer: (id: unknown) => void timers.delete(id as number),
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.entries()].filter(([, t]) => t.due <= end).sort((a, b) => a[1].due - b[1].due)[0];
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].due;
        next[1].fn();
      }
      now = end;
    },
  };
}

const opts = { settleMs: 5, debounceMs: 100, burstWindowMs: 500, maxDelayMs: 1000 };

test('a lone change fires after the settle time, not the debounce period', () => {
  const c = fakeClock();
  const fired: number[] = [];
  const d = new AdaptiveDebounce(() => fired.push(c.now()), { ...opts, ...c });
  c.advance(10_000);
  d.trigger();
  c.advance(4);
  assert.deepEqual(fired, []);
  c.advance(1);
  assert.deepEqual(fired, [10_005]);
  assert.equal(d.pending, false);
});

test('events of one save (within the settle time) fire once', () => {
  const c = fakeClock();
  let n = 0;
  const d = new AdaptiveDebounce(() => n++, { ...opts, ...c });
  d.trigger();
  c.advance(2);
  d.trigger();
  c.advance(2);
  d.trigger();
  c.advance(50);
  assert.equal(n, 1);
});

test('changes spaced out are each fast, even a few in a row', () => {
  const c = fakeClock();
  const fired: number[] = [];
  const d = new AdaptiveDebounce(() => fired.push(c.now()), { ...opts, ...c });
  for (let i = 0; i < 6; i++) {
    d.trigger();
    c.advance(300);
  }
  assert.deepEqual(fired, [5, 305, 605, 905, 1205, 1505]);
});

test('once three firings fall within the burst window, changes wait for a quiet period and collapse', () => {
  const c = fakeClock();
  const fired: number[] = [];
  const d = new AdaptiveDebounce(() => fired.push(c.now()), { ...opts, ...c });
  for (let i = 0; i < 3; i++) {
    d.trigger();
    c.advance(10); // fast: fired at 5, 15, 25
  }
  for (let i = 0; i < 5; i++) {
    d.trigger();
    c.advance(20);
  }
  // triggers at 30..110; the last at 110, quiet period of 100 -> fires at 210, once
  c.advance(200);
  assert.deepEqual(fired, [5, 15, 25, 210]);
});

test('a steady stream cannot hold a firing back longer than maxDelayMs', () => {
  const c = fakeClock();
  const fired: number[] = [];
  const d = new AdaptiveDebounce(() => fired.push(c.now()), { ...opts, ...c });
  for (let i = 0; i < 100; i++) {
    d.trigger();
    c.advance(50);
  }
  // each burst firing is at most 1000 ms after its first change
  assert.ok(fired.length >= 5, `fired ${fired.length} times`);
  for (let i = 2; i < fired.length; i++) assert.ok(fired[i]! - fired[i - 1]! <= 1050, `gap ${fired[i]! - fired[i - 1]!}`);
});

test('after a quiet spell longer than the burst window, a change is fast again', () => {
  const c = fakeClock();
  const fired: number[] = [];
  const d = new AdaptiveDebounce(() => fired.push(c.now()), { ...opts, ...c });
  for (let i = 0; i < 3; i++) {
    d.trigger();
    c.advance(10);
  }
  d.trigger(); // a burst now: waits for the quiet period
  c.advance(5);
  assert.deepEqual(fired, [5, 15, 25]);
  c.advance(1000);
  assert.deepEqual(fired, [5, 15, 25, 130]);
  d.trigger();
  c.advance(5);
  assert.deepEqual(fired, [5, 15, 25, 130, 1040]);
  d.cancel();
});
