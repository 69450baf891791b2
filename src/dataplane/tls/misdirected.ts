// Misdirected requests (RFC 9110 §15.5.20, Gateway API GatewayHTTPSListenerDetectMisdirectedRequests):
// on an HTTPS port the TLS handshake picked a listener (and its certificate and client
// validation) by SNI; a request whose Host selects another listener on the same port must not
// borrow that connection, because HTTP/2 clients coalesce connections across names a
// certificate covers. Such a request is answered 421 so the client retries on a new connection.

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { CompiledListener, PortRouter } from '../router/tables.js';

/** SNI the client sent on this socket; '' for plain sockets and TLS clients that sent none. */
export function sniOf(socket: Socket | undefined): string {
  const name = (socket as TLSSocket | undefined)?.servername;
  return typeof name === 'string' ? name : '';
}

/**
 * True when the SNI selects a listener and the Host selected a different one (or none).
 * An SNI that selects no listener (an IP literal, an unknown name on a port without a
 * catch-all listener) bound the connection to nothing in particular: no 421 then.
 */
export function misdirected(router: PortRouter, sni: string, hostListener: CompiledListener | undefined): boolean {
  const bySni = router.listenerFor(sni.toLowerCase());
  return bySni !== undefined && bySni !== hostListener;
}
