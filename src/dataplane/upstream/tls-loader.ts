// Upstream TLS options come from BackendTLSPolicy handling in ./tls.ts (owned separately).
// Loaded lazily so the engine runs even when that module is absent or broken: the fallback
// verifies against the policy's CA with the policy hostname as SNI.

import type { ConnectionOptions } from 'node:tls';
import type { UpstreamTLS } from '../../ir/types.js';

type TlsOptionsFn = (t: UpstreamTLS) => ConnectionOptions;

const fallback: TlsOptionsFn = (t) => ({
  servername: t.sni,
  ...(t.caPem && !t.useSystemCAs ? { ca: t.caPem } : {}),
  rejectUnauthorized: true,
});

let impl: TlsOptionsFn = fallback;
let loading: Promise<void> | null = null;

export function loadUpstreamTls(): Promise<void> {
  loading ??= import('./tls.js')
    .then((m: { upstreamTlsOptions?: TlsOptionsFn }) => {
      if (typeof m.upstreamTlsOptions === 'function') impl = m.upstreamTlsOptions;
    })
    .catch(() => undefined);
  return loading;
}

export function upstreamTlsOptions(t: UpstreamTLS): ConnectionOptions {
  return impl(t);
}
