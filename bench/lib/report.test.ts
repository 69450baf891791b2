import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markdown, median, toRows, type Cell } from './report.js';
import { SCENARIOS } from './scenarios.js';

const sample = (rps: number, p50: number, p99: number, rss: number) => ({ rps, p50Ms: p50, p99Ms: p99, rssMb: rss, cpuUsPerReq: 1e6 / rps, requests: rps * 4, errors: 0 });

const cells: Cell[] = [
  { scenario: 'small-get', proxy: 'direct', samples: [sample(40000, 0.5, 1, 10)] },
  { scenario: 'small-get', proxy: 'nginx', samples: [sample(30000, 1, 3, 12), sample(20000, 2, 4, 14), sample(25000, 1.5, 5, 13)] },
  { scenario: 'small-get', proxy: 'portico', samples: [sample(24000, 1.2, 3, 60), sample(18000, 2.2, 9, 70), sample(20000, 2, 6, 65)] },
  { scenario: 'small-get', proxy: 'haproxy', samples: [], note: 'failed verification: 502' },
];

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('rows carry exactly the issue-6 fields: medians, peak RSS, ratio to nginx in the same run', () => {
  const rows = toRows(cells);
  for (const r of rows) assert.deepEqual(Object.keys(r), ['scenario', 'proxy', 'rps', 'p50_ms', 'p99_ms', 'rss_mb', 'ratio_to_nginx']);
  const portico = rows.find((r) => r.proxy === 'portico')!;
  assert.equal(portico.rps, 20000);
  assert.equal(portico.p50_ms, 2);
  assert.equal(portico.p99_ms, 6);
  assert.equal(portico.rss_mb, 70);
  assert.equal(portico.ratio_to_nginx, 0.8);
  assert.equal(rows.find((r) => r.proxy === 'nginx')!.ratio_to_nginx, 1);
  const failed = rows.find((r) => r.proxy === 'haproxy')!;
  assert.deepEqual([failed.rps, failed.p99_ms, failed.rss_mb, failed.ratio_to_nginx], [null, null, null, null]);
  // JSON has no NaN/Infinity: a missing figure is null.
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(rows)));
});

test('markdown states the headline ratio and notes failures', () => {
  const md = markdown({
    file: { date: '2026-11-23T00:00:00.000Z', machine: 'test box', results: toRows(cells) },
    cells,
    scenarios: SCENARIOS.slice(0, 1),
    settings: ['wrk -c50'],
  });
  assert.match(md, /Headline: small-get, Portico = 0\.80x nginx's throughput \(p99 1\.50x nginx's\)/);
  assert.match(md, /\| small-get \| haproxy \| n\/a .*failed verification: 502 \|/);
});
