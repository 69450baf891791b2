// A small JSON client for the Kubernetes API: raw objects over the kubeconfig's transport, one
// keep-alive agent per client. Used by the source's discovery and by every writer (status,
// events, provisioning).

import https from 'node:https';
import tls from 'node:tls';
import { isDeepStrictEqual } from 'node:util';
import { StringDecoder } from 'node:string_decoder';
import { http } from '../dataplane/node-http.js';
import type { KubeConfig } from './kubeconfig.js';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** An answer's body: its JSON, or the text itself when it is not JSON (an error page). */
function parsed(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** What an error answer says: a Status's message, else `otherwise`. */
function messageOf(body: unknown, otherwise = String(body ?? '')): string {
  return (body as { message?: string } | undefined)?.message ?? otherwise;
}

/** One line of a watch stream. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown> & { metadata?: { resourceVersion?: string; annotations?: Record<string, string> }; code?: number; message?: string };
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/**
 * Raw JSON over the kubeconfig's transport. Raw on purpose: the generated typed clients turn
 * timestamps into Dates and drop unknown fields, while the translator wants the objects
 * exactly as the API server stores them.
 */
export class ApiClient {
  readonly server: URL;
  constructor(readonly kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster: set a current-context');
    this.server = new URL(cluster.server);
  }

  /** URL, options and agent of one request: the kubeconfig's TLS material and credentials, applied per request (they rotate). */
  private async prepare(method: string, path: string, query: Record<string, string> | undefined): Promise<{ url: URL; reqOpts: https.RequestOptions; mod: typeof https | typeof http }> {
    const url = new URL(this.server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const reqOpts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(reqOpts);
    const mod = url.protocol === 'http:' ? http : https;
    if (mod === https) reqOpts.agent = this.keepAlive(reqOpts);
    return { url, reqOpts, mod };
  }

  async request(
    method: string,
    path: string,
    opts: { body?: unknown; contentType?: string; timeoutMs?: number; query?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const { url, reqOpts, mod } = await this.prepare(method, path, opts.query);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (payload) {
      (reqOpts.headers as Record<string, string | number>)['content-type'] = opts.contentType ?? 'application/json';
      (reqOpts.headers as Record<string, string | number>)['content-length'] = payload.length;
    }
    return new Promise<ApiResponse>((resolve, reject) => {
      // A kept-alive socket's parser holds its last response, and the response its listeners,
      // until the next response on that socket. The listeners reach the answer only through
      // `pending`, emptied once settled: a 10,000-route list stayed reachable otherwise (~15 MB
      // of chunks, then the parsed objects).
      let pending: { resolve: (r: ApiResponse) => void; reject: (e: Error) => void } | undefined = { resolve, reject };
      const fail = (err: Error) => {
        const p = pending;
        pending = undefined;
        p?.reject(err);
      };
      const req = mod.request(url, reqOpts, (res) => {
        // Decoded as it arrives, not kept as Buffers and concatenated: a 15 MB Buffer freed raises
        // glibc's mmap threshold to its size, and the next large answer then stays in malloc's heap
        // once freed (~38 MB of RSS after the lists at 10,000 routes). Strings live in V8's heap.
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('error', fail);
        res.on('end', () => {
          const body = parsed(text);
          text = '';
          const p = pending;
          pending = undefined;
          p?.resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.setTimeout(opts.timeoutMs ?? 15000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', fail);
      req.end(payload);
    });
  }

  /**
   * A watch: GET with watch=true, one JSON event per line to `onEvent` as it arrives. Resolves
   * once the stream is open; `done` is called once, when it ends (null: the server closed it,
   * as it does after timeoutSeconds), fails or is aborted. A non-200 answer rejects with an ApiError.
   */
  async watch(path: string, query: Record<string, string>, onEvent: (e: WatchEvent) => void, done: (err: Error | null) => void): Promise<{ abort(): void }> {
    const { url, reqOpts, mod } = await this.prepare('GET', path, { ...query, watch: 'true' });
    return new Promise((resolve, reject) => {
      let ended = false;
      let open = false;
      const end = (err: Error | null) => {
        if (ended || !open) return;
        ended = true;
        done(err);
      };
      const req = mod.request(url, reqOpts, (res) => {
        if (res.statusCode !== 200) {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (c: string) => (text += c));
          res.on('end', () => reject(new ApiError(res.statusCode ?? 0, `watch ${path}: ${res.statusCode} ${messageOf(parsed(text), text)}`.trim())));
          return;
        }
        const decoder = new StringDecoder('utf8');
        let partial = '';
        res.on('data', (c: Buffer) => {
          const lines = (partial + decoder.write(c)).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            if (!line || ended) continue;
            let e: WatchEvent;
            try {
              e = JSON.parse(line) as WatchEvent;
            } catch {
              req.destroy(new Error(`watch ${path}: a line that is not JSON`));
              return;
            }
            onEvent(e);
          }
        });
        res.on('end', () => end(null));
        res.on('error', (err) => end(err));
        res.on('close', () => end(null));
        open = true;
        req.setTimeout(0); // the caller watches for silence from here (it knows the watch's timeoutSeconds)
        resolve({ abort: () => req.destroy() });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`watch ${path}: no answer in 30 s`)));
      // Before the answer: the promise rejects. After it: the stream ends with the error.
      req.on('error', (err) => (open ? end(err) : reject(err)));
      req.end();
    });
  }

  private agent?: { agent: https.Agent; material: unknown[] };

  /**
   * One keep-alive agent for every request: a new TLS handshake (and secure context) per status
   * write was ~30 ms of CPU per change at 10,000 routes. Made again when the TLS material
   * changes (a rotated client certificate).
   */
  private keepAlive(o: https.RequestOptions): https.Agent {
    const material = [o.ca, o.cert, o.key, o.rejectUnauthorized, o.servername];
    const same = (a: unknown, b: unknown) => a === b || (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)) || isDeepStrictEqual(a, b);
    if (!this.agent || !material.every((v, i) => same(v, this.agent!.material[i]))) {
      this.agent?.agent.destroy();
      // One secure context for every connection: tls.connect() otherwise parses the CA, cert and
      // key into a new OpenSSL context per connection, and each watch holds one for its life.
      const secureContext = tls.createSecureContext({ ca: o.ca, cert: o.cert, key: o.key });
      this.agent = { agent: new https.Agent({ secureContext, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername, keepAlive: true }), material };
    }
    return this.agent.agent;
  }

  /** Closes the kept-alive connections (KubernetesSource.stop()). */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  /** Like request(), but a non-2xx answer throws an ApiError carrying the status code. */
  async json<T = unknown>(method: string, path: string, opts: Parameters<ApiClient['request']>[2] = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.status < 200 || res.status >= 300) {
      const msg = messageOf(res.body);
      throw new ApiError(res.status, `${method} ${path}: ${res.status} ${msg}`.trim(), res.body);
    }
    return res.body as T;
  }
}
