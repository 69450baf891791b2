// The access log and request-id flags `portico run`, `portico dataplane` and `portico controller`
// share (engine options accessLog / accessLogFormat / requestId, observability/access-log.ts).
// `--access-log` itself stays each command's boolean; `--access-log-file` turns the log on too.

import * as fs from 'node:fs';
import type { EngineOptions } from '../dataplane/engine-api.js';
import { ACCESS_LOG_FIELDS, AccessLogger, type AccessLogFormat, type RequestIdMode } from '../observability/access-log.js';
import type { TracingOptions } from '../observability/tracing.js';

export const ACCESS_LOG_FLAGS = {
  'access-log-file': { type: 'string' },
  'access-log-fields': { type: 'string' },
  'access-log-format': { type: 'string' },
  'access-log-sample': { type: 'string' },
  'request-id': { type: 'string' },
  'otlp-endpoint': { type: 'string' },
  'trace-sampling': { type: 'string' },
} as const;

export function accessLogFlagsUsage(width: number): string {
  const line = (flag: string, text: string[]): string => `  ${flag.padEnd(width)} ${text[0]}\n` + text.slice(1).map((t) => `  ${''.padEnd(width)} ${t}\n`).join('');
  return (
    line('--access-log-file PATH', ['write the access log to PATH (appending) instead of stdout; turns it on']) +
    line('--access-log-fields F,..', [`JSON lines with only these fields, in this order (default all: ${ACCESS_LOG_FIELDS.slice(0, 4).join(', ')}, ...)`]) +
    line('--access-log-format S', ['text lines instead of JSON: %field% is replaced, e.g. "%method% %path% %status% %duration_ms%"']) +
    line('--access-log-sample R', ['log this fraction of HTTP requests, 0..1 (default 1)']) +
    line('--request-id MODE', ['x-request-id: generate (default: add one when absent, send it upstream, log it),', 'preserve (log the client\'s only), off']) +
    line('--otlp-endpoint URL', ['export a span per traced request over OTLP/HTTP JSON to URL (http://collector:4318 -> /v1/traces);', 'propagates W3C traceparent/tracestate (default: tracing off)']) +
    line('--trace-sampling R', ['fraction of requests without a sampled traceparent that start a trace, 0..1 (default 1)'])
  );
}

export interface AccessLogSettings {
  file?: string;
  format?: AccessLogFormat;
  requestId?: RequestIdMode;
  tracing?: TracingOptions;
}

/** The settings the flags ask for (empty when none is given); throws a message naming the flag. */
export function accessLogSettings(values: Record<string, string | boolean | undefined>): AccessLogSettings {
  const out: AccessLogSettings = {};
  const fmt: AccessLogFormat = {};
  const file = values['access-log-file'];
  if (typeof file === 'string') {
    if (!file) throw new Error('--access-log-file needs a path');
    out.file = file;
  }
  const fields = values['access-log-fields'];
  if (typeof fields === 'string') fmt.fields = fields.split(',').map((f) => f.trim()).filter(Boolean);
  const format = values['access-log-format'];
  if (typeof format === 'string') fmt.format = format;
  const sample = values['access-log-sample'];
  if (typeof sample === 'string') {
    const n = Number(sample);
    if (sample === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`--access-log-sample must be a number from 0 to 1 (got "${sample}")`);
    fmt.sample = n;
  }
  if (fmt.fields || fmt.format !== undefined || fmt.sample !== undefined) {
    try {
      new AccessLogger(() => undefined, fmt); // unknown fields fail here, with the list
    } catch (e) {
      throw new Error(`--access-log-${fmt.format !== undefined ? 'format' : 'fields'}: ${(e as Error).message}`);
    }
    out.format = fmt;
  }
  const rid = values['request-id'];
  if (typeof rid === 'string') {
    if (rid !== 'generate' && rid !== 'preserve' && rid !== 'off') throw new Error(`--request-id must be generate, preserve or off (got "${rid}")`);
    out.requestId = rid;
  }
  const otlp = values['otlp-endpoint'];
  const ts = values['trace-sampling'];
  if (typeof ts === 'string' && typeof otlp !== 'string') throw new Error('--trace-sampling needs --otlp-endpoint');
  if (typeof otlp === 'string') {
    let u: URL;
    try {
      u = new URL(otlp);
    } catch {
      throw new Error(`--otlp-endpoint must be an http:// or https:// URL (got "${otlp}")`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--otlp-endpoint must be an http:// or https:// URL (got "${otlp}")`);
    out.tracing = { endpoint: otlp };
    if (typeof ts === 'string') {
      const n = Number(ts);
      if (ts === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`--trace-sampling must be a number from 0 to 1 (got "${ts}")`);
      out.tracing.sampling = n;
    }
  }
  return out;
}

/** Engine options: the sink (stdout, or the file) when `on` or a file is named, the format, the request-id mode. */
export function accessLogEngineOptions(on: boolean, s: AccessLogSettings | undefined): Pick<EngineOptions, 'accessLog' | 'accessLogFormat' | 'requestId' | 'tracing'> {
  const out: Pick<EngineOptions, 'accessLog' | 'accessLogFormat' | 'requestId' | 'tracing'> = {};
  if (s?.requestId) out.requestId = s.requestId;
  if (s?.tracing) out.tracing = s.tracing;
  if (s?.format) out.accessLogFormat = s.format;
  if (s?.file) {
    const fd = fs.openSync(s.file, 'a');
    out.accessLog = batched((text) => {
      try {
        fs.writeSync(fd, text);
      } catch (e) {
        process.stderr.write(`portico: access log ${s.file}: ${(e as Error).message}\n`);
      }
    });
  } else if (on) {
    out.accessLog = batched((text) => process.stdout.write(text));
  }
  return out;
}

/**
 * Lines joined and written once per event-loop turn (setImmediate) or per 64 KiB, instead of one
 * write per request; what is pending is written when the process exits.
 */
function batched(write: (text: string) => void): (line: string) => void {
  let buf = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (!buf) return;
    const text = buf;
    buf = '';
    write(text);
  };
  process.once('exit', flush);
  return (line) => {
    buf += line.endsWith('\n') ? line : line + '\n';
    if (buf.length >= 65536) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
