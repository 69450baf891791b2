// x-request-id in each mode (generate, the default; preserve; off), with and without a client's id,
// over HTTP/1.1 and h2c on real sockets: what the backend receives and what the access log says;
// then the --request-id flag through `portico run --workers 2`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { createEngine } from '../../src/dataplane/engine.js';
import type { EngineOptions } from '../../src/dataplane/engine-api.js';
import { cluster, echoBackend, freePort, httpPort, json, listener, request, route, to } from '../dataplane/helpers.js';

type Mode = NonNullable<EngineOptions['requestId']>;
type Seen = { upstream: string | undefined; logged: unknown };

const settle = () => new Promise((r) => setTimeout(r, 50));

function h2get(port: number, path: string, headers: Record<string, string>): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on('error', reject);
    const req = s.request({ ':path': path, ...headers });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      s.close();
      resolve((JSON.parse(body) as { headers: Record<string, string> }).headers);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One request per protocol, with and without a client id, in `mode` (undefined = the default). */
async function exchange(mode: Mode | undefined): Promise<Record<string, Seen>> {
  const a = await echoBackend('a');
  const port = await freePort();
  const lines: string[] = [];
  const engine = createEngine({ accessLog: (l) => lines.push(l), ...(mode ? { requestId: mode } : {}) });
  await engine.apply({
    ports: [httpPort(port, [listener('web', [route({ path: { type: 'PathPrefix', value: '/' } }, [to('a')])])])],
    clusters: { a: cluster('a', [a.port]) },
  });
  const up: Record<string, string | undefined> = {};
  try {
    up['h1 none'] = json(await request(port, '/h1-none', { agent: false })).headers['x-request-id'];
    up['h1 client'] = json(await request(port, '/h1-client', { agent: false, headers: { 'x-request-id': 'client-h1' } })).headers['x-request-id'];
    up['h2 none'] = (await h2get(port, '/h2-none', {}))['x-request-id'];
    up['h2 client'] = (await h2get(port, '/h2-client', { 'x-request-id': 'client-h2' }))['x-request-id'];
    await settle();
  } finally {
    await engine.close(100);
    await a.close();
  }
  const byPath = new Map(lines.map((l) => JSON.parse(l) as { path: string; request_id: unknown }).map((l) => [l.path, l.request_id]));
  assert.equal(byPath.size, 4, `one line per request: ${lines.join('\n')}`);
  const out: Record<string, Seen> = {};
  for (const k of Object.keys(up)) out[k] = { upstream: up[k], logged: byPath.get(`/${k.replace(' ', '-')}`) };
  return out;
}

const HEX32 = /^[0-9a-f]{32}$/;

describe('request ids', () => {
  for (const mode of [undefined, 'generate'] as const) {
    test(`${mode ?? 'default (generate)'}: an id is made when missing, sent upstream and logged; a client's is kept`, async () => {
      const s = await exchange(mode);
      for (const p of ['h1', 'h2']) {
        const none = s[`${p} none`]!;
        assert.match(String(none.upstream), HEX32, `${p}: generated and sent to the backend`);
        assert.equal(none.logged, none.upstream, `${p}: the id the backend saw is logged`);
        assert.deepEqual(s[`${p} client`], { upstream: `client-${p}`, logged: `client-${p}` });
      }
      assert.notEqual(s['h1 none']!.upstream, s['h2 none']!.upstream);
    });
  }

  test('preserve: nothing is made; a client\'s id is passed on and logged', async () => {
    const s = await exchange('preserve');
    for (const p of ['h1', 'h2']) {
      assert.deepEqual(s[`${p} none`], { upstream: undefined, logged: null });
      assert.deepEqual(s[`${p} client`], { upstream: `client-${p}`, logged: `client-${p}` });
    }
  });

  test('off: the header is not looked at (a client\'s goes through as any header, not logged)', async () => {
    const s = await exchange('off');
    for (const p of ['h1', 'h2']) {
      assert.deepEqual(s[`${p} none`], { upstream: undefined, logged: null });
      assert.deepEqual(s[`${p} client`], { upstream: `client-${p}`, logged: null });
    }
  });

  test('portico run --workers 2 --request-id preserve|off: the flag reaches the workers', async () => {
    const { mkdtemp, rm, writeFile, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { start, webAppManifests } = await import('../e2e/cli.js');
    const echo = await echoBackend('app');
    const dir = await mkdtemp(join(tmpdir(), 'portico-rid-'));
    try {
      for (const mode of ['preserve', 'off'] as const) {
        const [port, admin] = await Promise.all([freePort(), freePort()]);
        await writeFile(join(dir, 'm.yaml'), webAppManifests(port, echo.port));
        const file = join(dir, `${mode}.log`);
        const run = start(['run', join(dir, 'm.yaml'), '--workers', '2', '--admin', `127.0.0.1:${admin}`, '--access-log-file', file, '--access-log-fields', 'path,request_id', '--request-id', mode]);
        try {
          await run.waitFor(/admin on/);
          const seen: (string | undefined)[] = [];
          for (let i = 0; i < 4; i++) {
            const headers: Record<string, string> = { connection: 'close', ...(i % 2 ? { 'x-request-id': `c${i}` } : {}) };
            const r = await fetch(`http://127.0.0.1:${port}/r${i}`, { headers });
            assert.equal(r.status, 200);
            seen.push(((await r.json()) as { headers: Record<string, string> }).headers['x-request-id']);
          }
          assert.deepEqual(seen, [undefined, 'c1', undefined, 'c3']);
          let lines: { path: string; request_id: unknown }[] = [];
          for (let i = 0; i < 50 && lines.length < 4; i++) {
            await settle();
            lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { path: string; request_id: unknown });
          }
          const logged = new Map(lines.map((l) => [l.path, l.request_id]));
          assert.deepEqual([0, 1, 2, 3].map((i) => logged.get(`/r${i}`)), mode === 'preserve' ? [null, 'c1', null, 'c3'] : [null, null, null, null]);
        } finally {
          await run.stop();
        }
      }
    } finally {
      await echo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
