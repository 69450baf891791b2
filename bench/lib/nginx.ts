// nginx as the backend (fixed small body, 1 MiB file, split echo) and as a reverse proxy
// with upstream keep-alive. One worker process each by default, like every proxy in the bench.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { startProcess, waitForPort, type Managed } from './proc.js';
import { ROUTES_HOST, SMALL_BODY, routePath, type Scenario } from './scenarios.js';

/** nginx string literal: its parser understands \n, \" and \\ in quoted strings. */
function q(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

function common(dir: string, workers: number): string {
  // Workers run as root only because the harness does (apt-get needs it): otherwise they
  // could not read the run directory; nothing here listens beyond loopback.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes ${workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
`;
}

function httpCommon(dir: string): string {
  return `  access_log off;
  default_type text/plain;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_max_body_size 4m;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}

function splitEcho(name: string): string {
  return `return 200 ${q(`backend=${name} set=$http_x_bench_set add=$http_x_bench_add remove=$http_x_bench_remove\n`)};`;
}

export function backendConfig(ctx: BenchContext, dir: string): string {
  const p = ctx.ports;
  return `${common(dir, ctx.workers)}http {
${httpCommon(dir)}
  server {
    listen 127.0.0.1:${p.backendA} backlog=4096;
    listen 127.0.0.1:${p.backendTls} ssl backlog=4096;
    listen 127.0.0.1:${p.backendH2c} http2 backlog=4096;
    ssl_certificate ${ctx.cert.cert};
    ssl_certificate_key ${ctx.cert.key};
    location / { return 200 ${q(SMALL_BODY)}; }
    location = /1m { alias ${ctx.wwwDir}/1m.bin; }
    location = /split { ${splitEcho('a')} }
  }
  server {
    listen 127.0.0.1:${p.backendB} backlog=4096;
    location / { return 200 ${q(SMALL_BODY)}; }
    location = /split { ${splitEcho('b')} }
  }
}
`;
}

function proxyHeaders(extra: string[] = []): string {
  // proxy_set_header at a level replaces every inherited one, so each location gets the full set.
  return [
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Host $host;',
    ...extra,
  ].join(' ');
}

export function proxyConfig(ctx: BenchContext, dir: string, s: Scenario): string {
  const p = ctx.ports;
  const addr = `listen 127.0.0.1:${p.nginx}${s.tls ? ' ssl' : ''}${s.h2 ? ' http2' : ''}`;
  // Socket options (backlog) may appear on only one listen of an address.
  const listen = `${addr} backlog=4096`;
  const tls = s.tls ? `ssl_certificate ${ctx.cert.cert}; ssl_certificate_key ${ctx.cert.key};` : '';
  let servers: string;
  if (s.routes) {
    const locs: string[] = [];
    for (let i = 0; i < s.routes; i++) locs.push(`    location ${routePath(i)} { proxy_pass http://backend; }`);
    servers = `  server {
    ${listen} default_server;
    ${tls}
    return 404;
  }
  server {
    ${addr};
    server_name ${ROUTES_HOST};
    ${tls}
    ${proxyHeaders()}
${locs.join('\n')}
    location / { return 404; }
  }`;
  } else if (s.split) {
    const mods = ['proxy_set_header X-Bench-Set "1";', 'proxy_set_header X-Bench-Add "2";', 'proxy_set_header X-Bench-Remove "";'];
    servers = `  server {
    ${listen};
    ${tls}
    location / { ${proxyHeaders(mods)} proxy_pass http://split; }
  }`;
  } else {
    servers = `  server {
    ${listen};
    ${tls}
    location / { ${proxyHeaders()} proxy_pass http://backend; }
  }`;
  }
  return `${common(dir, ctx.workers)}http {
${httpCommon(dir)}
  # Stream bodies both ways, as HAProxy and Portico do, instead of spooling them to temp
  # files (by default a request body over 16 KiB goes to disk before the upstream sees it).
  proxy_max_temp_file_size 0;
  proxy_request_buffering off;
  upstream backend {
    server 127.0.0.1:${p.backendA};
    keepalive 128;
    keepalive_requests 1000000;
  }
  upstream split {
    server 127.0.0.1:${p.backendA} weight=4;
    server 127.0.0.1:${p.backendB} weight=1;
    keepalive 128;
    keepalive_requests 1000000;
  }
${servers}
}
`;
}

async function startNginx(name: string, dir: string, conf: string, port: number): Promise<Managed> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const m = startProcess(name, 'nginx', ['-p', dir, '-c', file], { logFile: join(dir, 'stdout.log') });
  await waitForPort(m, port, 15000);
  return m;
}

export function startBackend(ctx: BenchContext): Promise<Managed> {
  const dir = join(ctx.runDir, 'backend');
  return startNginx('backend nginx', dir, backendConfig(ctx, dir), ctx.ports.backendA);
}

export function startNginxProxy(ctx: BenchContext, s: Scenario): Promise<Managed> {
  const dir = join(ctx.runDir, 'nginx');
  return startNginx('nginx proxy', dir, proxyConfig(ctx, dir, s), ctx.ports.nginx);
}
