// W3C trace context propagation and OTLP/HTTP span export, against an OTLP endpoint started here
// that decodes what it receives (JSON encoding), with HTTP/1.1 and h2c clients.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { metricsText } from '../../src/observability/metrics/endpoint.js';
import { parse, promtool, sum } from './metrics-helpers.js';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine, EngineOptions } from '../../src/dataplane/engine-api.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, route, to } from '../dataplane/helpers.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
}

async function otlpServer(): Promise<{ url: string; spans: OtlpSpan[]; posts: number; close(): Promise<void> }> {
  const state = { spans: [] as OtlpSpan[], posts: 0 };
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/v1/traces');
      assert.match(String(req.headers['content-type']), /application\/json/);
      state.posts++;
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: { resource: unknown; scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) state.spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    get spans() { return state.spans; },
    get posts() { return state.posts; },
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

const attr = (s: OtlpSpan, k: string): string | undefined => {
  const a = s.attributes.find((x) => x.key === k);
  return a?.value.stringValue ?? a?.value.intValue;
};

async function withTraced(opts: Partial<EngineOptions>, fn: (port: number, otlp: Awaited<ReturnType<typeof otlpServer>>, close: () => Promise<void>, engine: Engine) => Promise<void>): Promise<void> {
  const otlp = await otlpServer();
  const a = await echoBackend('a');
  const port = await freePort();
  const engine = createEngine({ tracing: { endpoint: otlp.url }, ...opts });
  await engine.apply({
    ports: [httpPort(port, [listener('web', [route({ path: { type: 'PathPrefix', value: '/' } }, [to('a')])])])],
    clusters: { a: cluster('a', [a.port]) },
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await engine.close(100); // flushes the batch
  };
  try {
    await fn(port, otlp, close, engine);
  } finally {
    await close();
    await a.close();
    await otlp.close();
  }
}

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('tracing', () => {
  test('HTTP/1.1: a span per request, parented to the caller, naming route and backend; traceparent upstream carries our span', async () => {
    await withTraced({}, async (port, otlp, close) => {
      const r = await request(port, '/items/1', { agent: false, headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=x' } });
      const up = json(r).headers;
      const r2 = await request(port, '/items/2', { agent: false }); // no caller trace: a new root (sampling 1)
      const up2 = json(r2).headers;
      await close();
      assert.equal(otlp.spans.length, 2);
      const [s, root] = otlp.spans;
      assert.equal(s!.traceId, CALLER_TRACE);
      assert.equal(s!.parentSpanId, CALLER_SPAN);
      assert.match(s!.spanId, /^[0-9a-f]{16}$/);
      assert.equal(s!.kind, 2);
      assert.equal(s!.name, 'GET HTTPRoute/default/r');
      assert.equal(attr(s!, 'portico.route'), 'HTTPRoute/default/r');
      assert.equal(attr(s!, 'portico.backend'), 'a');
      assert.equal(attr(s!, 'portico.gateway'), 'default/gw');
      assert.equal(attr(s!, 'portico.listener'), 'web');
      assert.equal(attr(s!, 'http.response.status_code'), '200');
      assert.equal(attr(s!, 'url.path'), '/items/1');
      assert.ok(BigInt(s!.endTimeUnixNano) >= BigInt(s!.startTimeUnixNano));
      assert.ok(Number(BigInt(s!.startTimeUnixNano) / 1_000_000n) > Date.now() - 60_000);
      // The backend sees the same trace with our span as its parent, and tracestate untouched.
      assert.equal(up['traceparent'], `00-${CALLER_TRACE}-${s!.spanId}-01`);
      assert.equal(up['tracestate'], 'vendor=x');
      assert.equal(attr(s!, 'portico.request_id'), up['x-request-id']);
      assert.equal(root!.parentSpanId, undefined);
      assert.match(root!.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(root!.traceId, CALLER_TRACE);
      assert.equal(up2['traceparent'], `00-${root!.traceId}-${root!.spanId}-01`);
    });
  });

  test('h2c: one span per stream, parented to the caller', async () => {
    await withTraced({}, async (port, otlp, close) => {
      const s = http2.connect(`http://127.0.0.1:${port}`);
      const body = await new Promise<string>((resolve, reject) => {
        const req = s.request({ ':path': '/h2', traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` });
        let b = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (b += d));
        req.on('end', () => resolve(b));
        req.on('error', reject);
        req.end();
      });
      s.close();
      await new Promise((r) => setTimeout(r, 50));
      await close();
      assert.equal(otlp.spans.length, 1);
      const sp = otlp.spans[0]!;
      assert.equal(sp.traceId, CALLER_TRACE);
      assert.equal(sp.parentSpanId, CALLER_SPAN);
      assert.equal(attr(sp, 'portico.route'), 'HTTPRoute/default/r');
      assert.equal(attr(sp, 'portico.backend'), 'a');
      assert.equal(attr(sp, 'network.protocol.version'), '2');
      assert.equal((JSON.parse(body) as { headers: Record<string, string> }).headers['traceparent'], `00-${CALLER_TRACE}-${sp.spanId}-01`);
    });
  });

  test('sampling: a caller that did not sample is followed (traceparent passed unchanged); ratio 0 starts no trace; invalid traceparents are not trusted', async () => {
    await withTraced({ tracing: { endpoint: 'http://127.0.0.1:1', sampling: 0 } }, async (port, otlp, close) => {
      const unsampled = `00-${CALLER_TRACE}-${CALLER_SPAN}-00`;
      const r = await request(port, '/a', { agent: false, headers: { traceparent: unsampled } });
      assert.equal(json(r).headers['traceparent'], unsampled);
      const r2 = await request(port, '/b', { agent: false });
      assert.equal(json(r2).headers['traceparent'], undefined);
      const bad = `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`;
      const r3 = await request(port, '/c', { agent: false, headers: { traceparent: bad } });
      assert.equal(json(r3).headers['traceparent'], bad); // ratio 0: no new trace, header left alone
      await close();
      assert.equal(otlp.spans.length, 0);
    });
    await withTraced({}, async (port, otlp, close) => {
      const r = await request(port, '/c', { agent: false, headers: { traceparent: 'garbage' } });
      await close();
      assert.equal(otlp.spans.length, 1);
      assert.equal(otlp.spans[0]!.parentSpanId, undefined); // a new root: the invalid header is replaced
      assert.equal(json(r).headers['traceparent'], `00-${otlp.spans[0]!.traceId}-${otlp.spans[0]!.spanId}-01`);
    });
  });

  test('batching: 50 requests arrive in one or two posts', async () => {
    await withTraced({}, async (port, otlp, close) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      await Promise.all(Array.from({ length: 50 }, (_, i) => request(port, `/n/${i}`, { agent })));
      agent.destroy();
      await close();
      assert.equal(otlp.spans.length, 50);
      assert.ok(otlp.posts <= 2, `posts ${otlp.posts}`);
      assert.equal(new Set(otlp.spans.map((s) => s.traceId)).size, 50);
    });
  });

  // The exporter must not hold more than one open batch and 4 posts whatever the collector does;
  // everything else is dropped and counted. Batches of 8 make the bound (8 x 5 = 40) reachable with
  // a few hundred requests.
  test('a collector that hangs: spans held stay within 5 batches, every span lost is counted; one that answers 503: counted as failed', async () => {
    const held = new Set<net.Socket>();
    const hang = net.createServer((s) => {
      held.add(s); // reads the post, never answers
      s.on('data', () => {}).on('error', () => {}).on('close', () => held.delete(s));
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const hangUrl = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
    const scrape = async (engine: { metrics(): Promise<unknown> }) => {
      const text = await metricsText([engine as never]);
      return { text, S: parse(text) };
    };
    try {
      await withTraced({ tracing: { endpoint: hangUrl, batchSize: 8, exportTimeoutMs: 1500 } }, async (port, _otlp, close, engine) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        let maxPending = 0;
        const N = 400;
        for (let i = 0; i < N; i += 20) {
          await Promise.all(Array.from({ length: 20 }, (_, j) => request(port, `/f/${i + j}`, { agent })));
          const pending = sum((await scrape(engine)).S, 'portico_trace_spans_pending');
          assert.ok(pending <= 8 * 5, `spans held ${pending} after ${i + 20} requests`);
          maxPending = Math.max(maxPending, pending);
        }
        agent.destroy();
        const mid = (await scrape(engine)).S;
        assert.ok(maxPending >= 8 * 4, `the posts in flight filled up (max held ${maxPending})`);
        assert.ok(sum(mid, 'portico_trace_spans_dropped_total', { reason: 'queue_full' }) >= N - 8 * 5);
        assert.ok(held.size >= 1 && held.size <= 4, `posts in flight ${held.size}`);
        await close(); // flush: the open batch is dropped (queue full) or posted; hung posts time out
        const end = await scrape(engine);
        assert.equal(sum(end.S, 'portico_trace_spans_pending'), 0);
        assert.equal(sum(end.S, 'portico_trace_spans_exported_total'), 0);
        assert.equal(sum(end.S, 'portico_trace_spans_dropped_total'), N, 'every span is either held or counted as dropped');
        assert.ok(sum(end.S, 'portico_trace_spans_dropped_total', { reason: 'export_failed' }) >= 8, 'the hung posts timed out');
        const p = promtool(end.text);
        if (p) assert.equal(p.output.trim() + `rc=${p.code}`, 'rc=0');
      });
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => hang.close(r));
    }
    const refusing = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(503).end());
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    try {
      await withTraced({ tracing: { endpoint: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}` } }, async (port, _otlp, close, engine) => {
        for (let i = 0; i < 5; i++) await request(port, `/r/${i}`, { agent: false });
        await close();
        const { S } = await scrape(engine);
        assert.equal(sum(S, 'portico_trace_spans_dropped_total', { reason: 'export_failed' }), 5);
        assert.equal(sum(S, 'portico_trace_spans_exported_total'), 0);
      });
    } finally {
      await new Promise((r) => refusing.close(r));
    }
    await withTraced({}, async (port, otlp, close, engine) => {
      for (let i = 0; i < 3; i++) await request(port, `/ok/${i}`, { agent: false });
      await close();
      assert.equal(otlp.spans.length, 3);
      const { S } = await scrape(engine);
      assert.equal(sum(S, 'portico_trace_spans_exported_total'), 3);
      assert.equal(sum(S, 'portico_trace_spans_dropped_total'), 0);
    });
  });
});
