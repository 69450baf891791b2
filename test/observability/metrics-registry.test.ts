// The registry and text format on their own: escaping, counters' _total, histogram series,
// sums over workers (gauges by sum or max, dead workers' counters only), and the controller's
// families fed from its loop, status writer and informers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, observe } from '../../src/observability/metrics/registry.js';
import { expose, merge } from '../../src/observability/metrics/exposition.js';
import { codeClassSlot, codeSlot, CODE_CLASSES, CODE_LABELS, backendLabel } from '../../src/observability/metrics/dataplane.js';
import { ControlPlaneMetrics } from '../../src/observability/metrics/controlplane.js';
import { controllerMetrics } from '../../src/controller/metrics.js';
import { parse, promtool, sum } from './metrics-helpers.js';

test('text format: HELP/TYPE, escaping, cumulative buckets, _sum and _count', () => {
  const r = new Registry();
  const c = r.counter('t_events_total', 'Events with a "quote", a back\\slash\nand a newline.', ['name']);
  c.child(['a"b\\c\nd']).v += 2;
  const h = r.histogram('t_wait_seconds', 'Waits.', [], [0.1, 1]);
  observe(h.child(), 0.05);
  observe(h.child(), 0.5);
  observe(h.child(), 5);
  const text = expose(r.snapshot());
  assert.match(text, /^# HELP t_events_total Events with a "quote", a back\\\\slash\\nand a newline\.$/m);
  assert.match(text, /^# TYPE t_events_total counter$/m);
  assert.match(text, /^t_events_total\{name="a\\"b\\\\c\\nd"\} 2$/m);
  assert.match(text, /^t_wait_seconds_bucket\{le="0.1"\} 1$/m);
  assert.match(text, /^t_wait_seconds_bucket\{le="1"\} 2$/m);
  assert.match(text, /^t_wait_seconds_bucket\{le="\+Inf"\} 3$/m);
  assert.match(text, /^t_wait_seconds_sum 5.55$/m);
  assert.match(text, /^t_wait_seconds_count 3$/m);
  const p = promtool(text);
  if (p) assert.equal(p.output.trim() + `rc=${p.code}`, 'rc=0');
  assert.throws(() => r.counter('t_bad', 'x'), /_total/);
  assert.throws(() => r.gauge('t_events_total', 'x'), /registered twice/);
});

test('status codes are bounded: exact from a fixed set, else the class', () => {
  assert.equal(CODE_LABELS[codeSlot(200)], '200');
  assert.equal(CODE_LABELS[codeSlot(503)], '503');
  assert.equal(CODE_LABELS[codeSlot(418)], '4xx');
  assert.equal(CODE_LABELS[codeSlot(299)], '2xx');
  assert.equal(CODE_LABELS[codeSlot(0)], 'other');
  assert.equal(CODE_LABELS[codeSlot(999)], 'other');
  assert.ok(CODE_LABELS.length < 40);
  // The duration histogram's code_class: the class only, never an exact code.
  assert.deepEqual([200, 299, 101, 304, 418, 503, 0, 999].map((c) => CODE_CLASSES[codeClassSlot(c)]), ['2xx', '2xx', '1xx', '3xx', '4xx', '5xx', 'other', 'other']);
  assert.equal(backendLabel('ns/svc:8080/tls'), 'ns/svc:8080');
  assert.equal(backendLabel('ns/svc:8080'), 'ns/svc:8080');
});

test('merge: counters and histograms add up; gauges sum or take the max; dead workers keep counters only', () => {
  const mk = (n: number) => {
    const r = new Registry();
    r.counter('m_total', 'x', ['k']).child(['a']).v = n;
    r.gauge('m_active', 'x').child().v = n;
    r.gauge('m_ready', 'x', [], 'max').child().v = n;
    observe(r.histogram('m_seconds', 'x', [], [1]).child(), n);
    return r.snapshot();
  };
  const S = parse(expose(merge([mk(1), mk(2)])));
  assert.equal(sum(S, 'm_total'), 3);
  assert.equal(sum(S, 'm_active'), 3);
  assert.equal(sum(S, 'm_ready'), 2);
  assert.equal(sum(S, 'm_seconds_count'), 2);
  const retired = parse(expose(merge([mk(5)], true)));
  assert.equal(sum(retired, 'm_total'), 5);
  assert.equal(retired.filter((s) => s.name === 'm_active').length, 0);
});

test('controller: status writes, watch errors, leader, skipped rebuilds, translations, last good config', async () => {
  const cp = new ControlPlaneMetrics();
  const stats = { writes: 3, conflicts: 1, errors: 2 };
  const watchErrors = new Map([['HTTPRoute', 4]]);
  const translate = cp.wrapTranslate((_s: unknown, _o: unknown) => ({ statuses: [{ kind: 'Gateway', name: 'g', status: { conditions: [{ type: 'Programmed', status: 'False' }, { type: 'Accepted', status: 'True' }] } }] }));
  const fakeSnapshot = { list: (k: string) => (k === 'Gateway' ? [{}] : []) };
  translate(fakeSnapshot as never, {} as never);
  const failing = cp.wrapTranslate(() => {
    throw new Error('boom');
  });
  assert.throws(() => failing({} as never, {} as never));
  const text = await controllerMetrics(cp, () => ({
    loop: { stats: { skippedStatusOnly: 7, skippedUnreferenced: 8 }, lastIR: { ports: [] } },
    writer: { stats, isEnabled: true },
    source: { synced: true, watchErrors },
  }))();
  const S = parse(text);
  assert.equal(sum(S, 'portico_status_writes_total', { result: 'ok' }), 3);
  assert.equal(sum(S, 'portico_status_writes_total', { result: 'conflict' }), 1);
  assert.equal(sum(S, 'portico_status_writes_total', { result: 'error' }), 2);
  assert.equal(sum(S, 'portico_watch_errors_total', { kind: 'HTTPRoute' }), 4);
  assert.equal(sum(S, 'portico_leader'), 1);
  assert.equal(sum(S, 'portico_informers_synced'), 1);
  assert.equal(sum(S, 'portico_rebuilds_skipped_total', { reason: 'status_only' }), 7);
  assert.equal(sum(S, 'portico_translations_total', { result: 'ok' }), 1);
  assert.equal(sum(S, 'portico_translations_total', { result: 'error' }), 1);
  assert.equal(sum(S, 'portico_translation_duration_seconds_count'), 2);
  assert.equal(sum(S, 'portico_objects', { kind: 'Gateway' }), 1);
  assert.equal(sum(S, 'portico_object_conditions', { kind: 'Gateway', condition: 'Programmed', status: 'False' }), 1);
  assert.ok(sum(S, 'portico_config_last_good_timestamp_seconds') > 1.7e9);
  const p = promtool(text);
  if (p) assert.equal(p.output.trim() + `rc=${p.code}`, 'rc=0');
});
