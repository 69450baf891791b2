// Which API server to talk to and as whom: a kubeconfig file ($KUBECONFIG, ~/.kube/config) or
// the Pod's service account, turned into TLS options and an Authorization header per request.
// Portico's own because @kubernetes/client-node's KubeConfig module loads the whole generated
// client with it: ~14 MB of module source and ~5 MB of bytecode kept for the life of the
// controller, at 10,000 routes a sixth of its memory. The in-memory shape (clusters, users,
// contexts, loadFromOptions) is client-node's, so configs built for either work in both.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import { isIPv6 } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

export interface Cluster {
  name: string;
  server: string;
  /** Base64 PEM, as certificate-authority-data holds it. */
  caData?: string;
  caFile?: string;
  skipTLSVerify?: boolean;
  tlsServerName?: string;
}

export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
}

export interface User {
  name: string;
  token?: string;
  /** Read again once a minute: projected service-account tokens rotate. */
  tokenFile?: string;
  /** Base64 PEM. */
  certData?: string;
  certFile?: string;
  /** Base64 PEM. */
  keyData?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  /** Legacy auth providers (oidc, gcp): only their cached token is used. */
  authProvider?: { name: string; config?: Record<string, string> };
}

export interface Context {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/**
 * Credential files (token, CA, client certificate and key) are read again once this old: they
 * rotate (a projected service-account token every hour), but a status-write burst makes ~30,000
 * requests and each read them all.
 */
const FILE_REREAD_MS = 60_000;

type Raw = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export class KubeConfig {
  clusters: Cluster[] = [];
  users: User[] = [];
  contexts: Context[] = [];
  currentContext = '';
  private readonly files = new Map<string, { at: number; data: Buffer }>();
  private execToken?: { id: string; expires: number; token?: string; cert?: string; clientKey?: string };

  loadFromOptions(o: { clusters: Cluster[]; users: User[]; contexts: Context[]; currentContext: string }): void {
    this.clusters = o.clusters;
    this.users = o.users;
    this.contexts = o.contexts;
    this.currentContext = o.currentContext;
  }

  /** A kubeconfig file; relative file paths in it are relative to its directory, as kubectl reads them. */
  loadFromFile(file: string): void {
    this.loadFromString(readFileSync(file, 'utf8'), path.dirname(path.resolve(file)));
  }

  loadFromString(text: string, dir = process.cwd()): void {
    const doc = (parse(text) ?? {}) as Raw;
    const abs = (p: unknown) => (str(p) === undefined ? undefined : path.resolve(dir, p as string));
    const named = (list: unknown, field: string) =>
      (Array.isArray(list) ? list : []).filter((x): x is Raw => !!x && typeof x === 'object' && typeof (x as Raw).name === 'string').map((x) => ({ name: x.name as string, v: (x[field] ?? {}) as Raw }));
    this.clusters = named(doc.clusters, 'cluster').map(({ name, v }) => ({
      name,
      server: String(v.server ?? ''),
      caData: str(v['certificate-authority-data']),
      caFile: abs(v['certificate-authority']),
      skipTLSVerify: v['insecure-skip-tls-verify'] === true,
      tlsServerName: str(v['tls-server-name']),
    }));
    this.users = named(doc.users, 'user').map(({ name, v }) => {
      const exec = v.exec as Raw | undefined;
      const provider = v['auth-provider'] as Raw | undefined;
      return {
        name,
        token: str(v.token),
        tokenFile: abs(v.tokenFile ?? v['token-file']),
        certData: str(v['client-certificate-data']),
        certFile: abs(v['client-certificate']),
        keyData: str(v['client-key-data']),
        keyFile: abs(v['client-key']),
        username: str(v.username),
        password: str(v.password),
        exec: exec && str(exec.command) ? { command: exec.command as string, args: exec.args as string[] | undefined, env: exec.env as ExecConfig['env'], apiVersion: str(exec.apiVersion) } : undefined,
        authProvider: provider && str(provider.name) ? { name: provider.name as string, config: provider.config as Record<string, string> | undefined } : undefined,
      };
    });
    this.contexts = named(doc.contexts, 'context').map(({ name, v }) => ({ name, cluster: String(v.cluster ?? ''), user: String(v.user ?? ''), namespace: str(v.namespace) }));
    this.currentContext = str(doc['current-context']) ?? '';
  }

  /** The Pod's service account, as client-go's rest.InClusterConfig() finds it. */
  loadFromCluster(dir = SERVICE_ACCOUNT_DIR): void {
    const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
    const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
    const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
    this.loadFromOptions({
      clusters: [{ name: 'in-cluster', server, caFile: path.join(dir, 'ca.crt') }],
      users: [{ name: 'in-cluster', tokenFile: path.join(dir, 'token') }],
      contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
      currentContext: 'in-cluster',
    });
  }

  /** $KUBECONFIG (its first file), else ~/.kube/config, else the Pod's service account. */
  loadFromDefault(): void {
    const env = (process.env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
    if (env.length) return this.loadFromFile(env[0]!);
    const home = path.join(os.homedir(), '.kube', 'config');
    if (existsSync(home)) return this.loadFromFile(home);
    if (process.env.KUBERNETES_SERVICE_HOST && existsSync(path.join(SERVICE_ACCOUNT_DIR, 'token'))) return this.loadFromCluster();
  }

  getCurrentContext(): Context | undefined {
    return this.contexts.find((c) => c.name === this.currentContext);
  }

  getCurrentCluster(): Cluster | undefined {
    const c = this.getCurrentContext();
    return c ? this.clusters.find((x) => x.name === c.cluster) : undefined;
  }

  getCurrentUser(): User | undefined {
    const c = this.getCurrentContext();
    return c ? this.users.find((x) => x.name === c.user) : undefined;
  }

  /** TLS material and the Authorization header for one request. Files are read again once a minute old, so rotated ones are picked up. */
  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const headers = (opts.headers ??= {}) as Record<string, string>;
    if (cluster) {
      const ca = this.pem(cluster.caData, cluster.caFile);
      if (ca) opts.ca = ca;
      if (cluster.skipTLSVerify) opts.rejectUnauthorized = false;
      if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
    }
    if (!user) return;
    let cert = this.pem(user.certData, user.certFile);
    let key = this.pem(user.keyData, user.keyFile);
    let token = user.token ?? (user.tokenFile ? this.read(user.tokenFile).toString('utf8').trim() : undefined);
    if (!token && user.authProvider) token = providerToken(user.authProvider);
    if (user.exec) {
      const got = await this.runExec(user.exec);
      token = got.token ?? token;
      if (got.cert && got.clientKey) [cert, key] = [Buffer.from(got.cert), Buffer.from(got.clientKey)];
    }
    if (cert && key) [opts.cert, opts.key] = [cert, key];
    if (token) headers.authorization = `Bearer ${token}`;
    else if (user.username !== undefined && user.password !== undefined) headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  }

  private read(file: string): Buffer {
    const now = Date.now();
    let f = this.files.get(file);
    if (!f || now - f.at > FILE_REREAD_MS) this.files.set(file, (f = { at: now, data: readFileSync(file) }));
    return f.data;
  }

  private pem(data: string | undefined, file: string | undefined): Buffer | undefined {
    if (data) return Buffer.from(data, 'base64');
    return file ? this.read(file) : undefined;
  }

  /** An exec credential plugin (client.authentication.k8s.io ExecCredential), run again once its credential expires. */
  private async runExec(exec: ExecConfig): Promise<{ token?: string; cert?: string; clientKey?: string }> {
    const id = JSON.stringify(exec);
    if (this.execToken?.id === id && Date.now() < this.execToken.expires) return this.execToken;
    const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } }) };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(exec.command, exec.args ?? [], { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, out, errOut) =>
        err ? reject(new Error(`kubeconfig exec plugin ${exec.command}: ${err.message}${errOut ? `: ${String(errOut).trim()}` : ''}`)) : resolve(String(out)),
      ),
    );
    const status = ((JSON.parse(stdout) as { status?: Raw }).status ?? {}) as Raw;
    const exp = str(status.expirationTimestamp);
    // No expiry: the credential is good for this process's life, as client-go treats it.
    const expires = exp ? Date.parse(exp) - 10_000 : Number.POSITIVE_INFINITY;
    this.execToken = { id, expires, token: str(status.token), cert: str(status.clientCertificateData), clientKey: str(status.clientKeyData) };
    return this.execToken;
  }
}

function providerToken(p: NonNullable<User['authProvider']>): string | undefined {
  const c = p.config ?? {};
  const token = c['id-token'] ?? c['access-token'];
  if (!token) throw new Error(`kubeconfig auth-provider "${p.name}" has no cached token; use an exec credential plugin instead`);
  const expiry = c.expiry ? Date.parse(c.expiry) : NaN;
  if (!Number.isNaN(expiry) && expiry < Date.now()) throw new Error(`kubeconfig auth-provider "${p.name}": its cached token expired at ${c.expiry}; refresh it (kubectl does) or use an exec credential plugin`);
  return token;
}

