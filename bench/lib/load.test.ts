// Parsers against real tool output, and one short real run of wrk and h2load against the
// bench backend so a format change in either tool fails here, not in the middle of a bench.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureCert } from './certs.js';
import type { BenchContext } from './context.js';
import { parseDuration, parseH2load, parseWrk, percentile, runLoad, wrkArgs, type LoadSettings } from './load.js';
import { startBackend } from './nginx.js';
import { stopProcess, type Managed } from './proc.js';
import { SCENARIOS, portsFrom, type Scenario } from './scenarios.js';

const WRK_OUT = `Running 2s test @ http://127.0.0.1:27000/small
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.63ms  307.03us   9.88ms   91.45%
    Req/Sec    30.86k     1.19k   32.83k    80.00%
  Latency Distribution
     50%    1.58ms
     75%    1.67ms
     90%    1.83ms
     99%  850.00us
  153546 requests in 5.00s, 24.30MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:  30705.66
Transfer/sec:      4.86MB
`;

const H2LOAD_OUT = `starting benchmark...
finished in 2.00s, 21655.50 req/s, 2.60MB/s
requests: 43311 total, 43411 started, 43311 done, 43300 succeeded, 11 failed, 0 errored, 0 timeout
status codes: 43300 2xx, 0 3xx, 11 4xx, 0 5xx
`;

test('parseDuration handles every wrk unit', () => {
  assert.equal(parseDuration('850.00us'), 0.85);
  assert.equal(parseDuration('1.58ms'), 1.58);
  assert.equal(parseDuration('2.00s'), 2000);
  assert.throws(() => parseDuration('fast'));
});

test('parseWrk reads throughput, p50/p99 and every error kind', () => {
  const r = parseWrk(WRK_OUT);
  assert.equal(r.rps, 30705.66);
  assert.equal(r.p50Ms, 1.58);
  assert.equal(r.p99Ms, 0.85);
  assert.equal(r.requests, 153546);
  assert.equal(r.errors, 12 + 2 + 1);
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /unexpected wrk output/);
});

test('parseH2load takes percentiles from the per-request log', () => {
  const log = Array.from({ length: 100 }, (_, i) => `1700000000000000\t200\t${(i + 1) * 1000}`).join('\n') + '\n';
  const r = parseH2load(H2LOAD_OUT, log);
  assert.equal(r.rps, 21655.5);
  assert.equal(r.p50Ms, 50);
  assert.equal(r.p99Ms, 99);
  assert.equal(r.requests, 43300);
  assert.equal(r.errors, 11 + 11);
});

test('percentile is nearest-rank', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([1, 2, 3, 4], 99), 4);
  assert.equal(percentile([7], 1), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('wrkArgs carries Host, Connection: close and extra headers', () => {
  const settings: LoadSettings = { durationSec: 1, connections: 8, threads: 1, h2Clients: 1, h2Streams: 1 };
  const byName = (n: string) => SCENARIOS.find((s) => s.name === n)!;
  const routes = wrkArgs(byName('routes-5k'), 'http://x/', settings, 1);
  assert.ok(routes.includes('Host: routes.bench.local'));
  assert.ok(wrkArgs(byName('new-conn'), 'http://x/', settings, 1).includes('Connection: close'));
  assert.ok(wrkArgs(byName('filters-split'), 'http://x/', settings, 1).includes('X-Bench-Remove: yes'));
  assert.deepEqual(wrkArgs(byName('small-get'), 'http://x/', settings, 1).slice(-1), ['http://x/']);
});

// Real tools against the real backend, one second each.
const dir = mkdtempSync(join(tmpdir(), 'portico-bench-test-'));
let backend: Managed | undefined;
let ctx: BenchContext;

before(async () => {
  const www = join(dir, 'www');
  mkdirSync(www);
  writeFileSync(join(www, '1m.bin'), Buffer.alloc(1024 * 1024, 'p'));
  ctx = { runDir: dir, repoDir: process.cwd(), ports: portsFrom(27500), cert: await ensureCert(dir), wwwDir: www, workers: 1 };
  backend = await startBackend(ctx);
});

after(async () => {
  if (backend) await stopProcess(backend);
  rmSync(dir, { recursive: true, force: true });
});

const quick: LoadSettings = { durationSec: 1, connections: 4, threads: 1, h2Clients: 2, h2Streams: 2 };

for (const name of ['small-get', 'post-64k', 'https', 'h2'] as const) {
  test(`runLoad ${name} against the backend gives sane figures`, async () => {
    const s: Scenario = SCENARIOS.find((x) => x.name === name)!;
    const port = s.tls ? ctx.ports.backendTls : s.h2 ? ctx.ports.backendH2c : ctx.ports.backendA;
    const r = await runLoad(s, port, quick, 1, dir);
    assert.ok(r.rps > 100, `rps ${r.rps}`);
    assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms, `p50 ${r.p50Ms} p99 ${r.p99Ms}`);
    assert.equal(r.errors, 0);
  });
}
