// Session persistence (GEP-1619) -> IR SessionPersistence: the HTTPRoute/GRPCRoute rule field
// `sessionPersistence`, or the `sessionPersistence` of an XBackendTrafficPolicy (or the older
// BackendLBPolicy) on the rule's backend. The rule's own setting wins over a policy's (GEP-1619:
// "route rule session persistence takes precedence").
//
// The rule's key, from which the data plane derives the token's AES-256-GCM key (HKDF,
// dataplane/upstream/session.ts), is derived here, deterministically, from a seed every
// data plane of one controller (or one `portico run`) shares: HMAC-SHA256(seed,
// "portico-session/v1 " + scope + " " + name). So each worker and replica computes the same key
// and accepts the others' tokens; a rule or policy of its own gets its own key. The key is
// sealed into the IR (ir/keys.ts): it never shows in printed IR, goldens or the admin API.

import { createHash, createHmac } from 'node:crypto';
import type { HTTPMatch, SessionPersistence } from '../ir/types.js';
import { sealSessionKey } from '../ir/keys.js';
import { parseDuration } from './duration.js';
import { obj } from './util.js';

/** The API's SessionPersistence as read from a manifest (validate-routes.ts checked its shape). */
export interface SessionPersistenceSpec {
  sessionName?: string;
  absoluteTimeout?: string;
  idleTimeout?: string;
  type?: string;
  cookieConfig?: { lifetimeType?: string };
}

/** Cookie and header names are HTTP tokens (RFC 9110 5.6.2); anything else could not be sent back. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The settings of a rule or policy, before the per-entry cookie path; a string is the problem. */
export interface SessionSettings {
  type: 'Cookie' | 'Header';
  name: string;
  absoluteTimeoutMs: number;
  idleTimeoutMs: number;
  permanent: boolean;
  from: string;
  key: string;
}

/**
 * `scope` names the owner ("HTTPRoute ns/name rule 0", "XBackendTrafficPolicy ns/name"): it
 * derives the default session name and the key. `seed` comes from TranslateOptions.sessionSeed.
 */
export function sessionSettings(raw: unknown, scope: string, from: string, seed: string, where: string): SessionSettings | string {
  const sp = obj<SessionPersistenceSpec>(raw);
  const type = sp.type ?? 'Cookie';
  if (type !== 'Cookie' && type !== 'Header') return `${where}.type ${JSON.stringify(type)} is not supported (Cookie or Header)`;
  const name = sp.sessionName ?? `portico-session-${createHash('sha256').update(scope).digest('hex').slice(0, 8)}`;
  if (typeof name !== 'string' || !TOKEN.test(name)) return `${where}.sessionName ${JSON.stringify(name)} is not a valid ${type.toLowerCase()} name`;
  const absoluteTimeoutMs = sp.absoluteTimeout !== undefined ? parseDuration(sp.absoluteTimeout) : 0;
  if (absoluteTimeoutMs === undefined) return `${where}.absoluteTimeout: not a Gateway API duration (e.g. 1h, 30m)`;
  const idleTimeoutMs = sp.idleTimeout !== undefined ? parseDuration(sp.idleTimeout) : 0;
  if (idleTimeoutMs === undefined) return `${where}.idleTimeout: not a Gateway API duration (e.g. 1h, 30m)`;
  const lifetime = obj<{ lifetimeType?: string }>(sp.cookieConfig).lifetimeType ?? 'Session';
  if (sp.cookieConfig !== undefined && type !== 'Cookie') return `${where}.cookieConfig can only be set with type Cookie`;
  const permanent = lifetime === 'Permanent';
  if (permanent && !absoluteTimeoutMs) return `${where}.absoluteTimeout must be specified when cookie lifetimeType is Permanent`;
  // The token keeps whole seconds: shorter timeouts could not be told apart from none.
  if ((absoluteTimeoutMs > 0 && absoluteTimeoutMs < 1000) || (idleTimeoutMs > 0 && idleTimeoutMs < 1000))
    return `${where}: absoluteTimeout and idleTimeout must be at least 1s`;
  const key = createHmac('sha256', seed).update(`portico-session/v1 ${scope} ${name}`).digest('hex');
  return { type, name, absoluteTimeoutMs, idleTimeoutMs, permanent, from, key };
}

/**
 * A route rule's session persistence: its own `sessionPersistence` (a string when unusable), else
 * the one a policy on its backends sets (the rule's own wins, GEP-1619), else undefined.
 */
export function ruleSession(
  raw: unknown,
  scope: string,
  seed: string,
  where: string,
  fromPolicy: () => SessionSettings | undefined,
): SessionSettings | string | undefined {
  if (raw === undefined || raw === null) return fromPolicy();
  const kind = scope.slice(0, scope.indexOf(' '));
  return sessionSettings(raw, scope, `${kind} rule`, seed, where);
}

/** The IR value for one route entry: the cookie Path follows the entry's path match. */
export function sessionFor(s: SessionSettings, match: HTTPMatch | undefined): SessionPersistence {
  const p = match?.path;
  const cookiePath = p && (p.type === 'Exact' || p.type === 'PathPrefix') ? p.value : '/';
  const out = {
    type: s.type,
    name: s.name,
    absoluteTimeoutMs: s.absoluteTimeoutMs,
    idleTimeoutMs: s.idleTimeoutMs,
    permanent: s.permanent,
    cookiePath,
    from: s.from,
  };
  return sealSessionKey(out, s.key);
}
