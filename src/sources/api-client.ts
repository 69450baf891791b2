// A small JSON client for the Kubernetes API: raw objects over the kubeconfig's transport, one
// keep-alive agent per client. Used by the source's discovery and by every writer (status,
// events, provisioning).

import https from 'node:https';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { http } from '../dataplane/node-http.js';

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

  async request(
    method: string,
    path: string,
    opts: { body?: unknown; contentType?: string; timeoutMs?: number; query?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const url = new URL(this.server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const reqOpts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(reqOpts);
    this.keepAlive(reqOpts);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (payload) {
      (reqOpts.headers as Record<string, string | number>)['content-type'] = opts.contentType ?? 'application/json';
      (reqOpts.headers as Record<string, string | number>)['content-length'] = payload.length;
    }
    const mod = url.protocol === 'http:' ? http : https;
    if (mod === http) delete reqOpts.agent; // the kubeconfig agent is an https.Agent
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = mod.request(url, reqOpts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            /* non-JSON error pages are kept as text */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.setTimeout(opts.timeoutMs ?? 15000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private agent?: { agent: https.Agent; tls: unknown[] };

  /**
   * The kubeconfig makes a new https.Agent for every request: a TLS handshake (and a new secure
   * context) per status write, ~30 ms of CPU per change at 10,000 routes. Requests share one
   * keep-alive agent instead, made again when the TLS material changes (a rotated client cert).
   * Proxy agents are left as they are.
   */
  private keepAlive(reqOpts: https.RequestOptions): void {
    const made = reqOpts.agent;
    if (!(made instanceof https.Agent) || made.constructor !== https.Agent) return;
    const o = made.options;
    const tls = [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername, o.ciphers, o.crl, o.secureProtocol];
    const same = (a: unknown, b: unknown) => a === b || (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)) || isDeepStrictEqual(a, b);
    if (!this.agent || !tls.every((v, i) => same(v, this.agent!.tls[i]))) {
      this.agent?.agent.destroy();
      this.agent = { agent: new https.Agent({ ...o, keepAlive: true }), tls };
    }
    made.destroy();
    reqOpts.agent = this.agent.agent;
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
      const msg = (res.body as { message?: string } | undefined)?.message ?? String(res.body ?? '');
      throw new ApiError(res.status, `${method} ${path}: ${res.status} ${msg}`.trim(), res.body);
    }
    return res.body as T;
  }
}
