// RequestRedirect: builds the Location header with the spec's default-port rules:
// an explicit port wins; otherwise a redirect that sets a scheme uses that scheme's well-known
// port, and one that does not keeps the listener's port; ports 80 (http) and 443 (https)
// are left out of the Location.

import type { HTTPFilter, HTTPMatch } from '../../ir/types.js';
import { modifyPath } from './path-modifier.js';

type Redirect = Extract<HTTPFilter, { type: 'RequestRedirect' }>;

export interface RedirectInput {
  scheme: 'http' | 'https';
  /** Request hostname without port. */
  host: string;
  listenerPort: number;
  path: string;
  query: string;
  match: HTTPMatch;
}

export function redirectLocation(f: Redirect, r: RedirectInput): string {
  const scheme = f.scheme ?? r.scheme;
  const host = f.hostname ?? r.host;
  let port: number;
  if (f.port !== undefined) port = f.port;
  else if (f.scheme !== undefined) port = f.scheme === 'https' ? 443 : 80;
  else port = r.listenerPort;
  const defaultPort = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
  const path = f.path ? modifyPath(r.path, f.path, r.match) : r.path;
  return scheme + '://' + host + (defaultPort ? '' : ':' + port) + path + (r.query ? '?' + r.query : '');
}
