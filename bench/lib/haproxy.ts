// HAProxy as reverse proxy: one thread per nginx worker, server-side
// keep-alive (its default), the same forwarded headers as the other proxies.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { startProcess, waitForPort, type Managed } from './proc.js';
import { ROUTES_HOST, routePath, type Scenario } from './scenarios.js';

export function haproxyConfig(ctx: BenchContext, dir: string, s: Scenario): string {
  const p = ctx.ports;
  let bind = `bind 127.0.0.1:${p.haproxy}`;
  if (s.tls) bind += ` ssl crt ${ctx.cert.combined} alpn http/1.1`;
  if (s.h2) bind += ' proto h2';
  const lines: string[] = [];
  lines.push(
    'global',
    `  nbthread ${ctx.workers}`,
    '  maxconn 8000', // HAProxy needs ~2 fds per conn; stays under a 20k ulimit
    '',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 65s',
    '  option http-keep-alive',
    '',
    'frontend fe',
    `  ${bind}`,
    '  option forwardfor',
    '  http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]',
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)]',
  );
  if (s.routes) {
    // A map is how one writes thousands of prefix routes in HAProxy (ingress controllers do the same).
    const map: string[] = [];
    for (let i = 0; i < s.routes; i++) map.push(`${routePath(i)} be_app`);
    const mapFile = join(dir, 'routes.map');
    writeFileSync(mapFile, map.join('\n') + '\n');
    lines.push(
      `  acl routes_host req.hdr(host),field(1,:) -m str ${ROUTES_HOST}`,
      `  use_backend %[path,map_beg(${mapFile},be_404)] if routes_host`,
      '  default_backend be_404',
    );
  } else if (s.split) {
    lines.push(
      '  http-request set-header X-Bench-Set 1',
      '  http-request add-header X-Bench-Add 2',
      '  http-request del-header X-Bench-Remove',
      '  default_backend be_split',
    );
  } else {
    lines.push('  default_backend be_app');
  }
  lines.push(
    '',
    'backend be_app',
    `  server a 127.0.0.1:${p.backendA}`,
    '',
    'backend be_split',
    '  balance roundrobin',
    `  server a 127.0.0.1:${p.backendA} weight 80`,
    `  server b 127.0.0.1:${p.backendB} weight 20`,
    '',
    'backend be_404',
    '  http-request return status 404',
    '',
  );
  return lines.join('\n');
}

export async function startHaproxy(ctx: BenchContext, s: Scenario): Promise<Managed> {
  const dir = join(ctx.runDir, 'haproxy');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(ctx, dir, s));
  // -db: stay in the foreground, no master process (startup errors land in stdout.log).
  const m = startProcess('haproxy', 'haproxy', ['-f', file, '-db'], { logFile: join(dir, 'stdout.log') });
  await waitForPort(m, ctx.ports.haproxy, 15000);
  return m;
}
