// TLSRoutes, TCPRoutes and UDPRoutes in a splice (./splice.ts, ./splice-world.ts). A TCP or UDP
// listener serves its oldest route, and a TLS listener's routes are ordered among themselves, so
// one such route's result depends on the others'. They are few next to HTTPRoutes: when one
// changes (or the Gateways are built again), all of them are translated again by the code
// translate() runs for them (translateL4Routes), their old results taken out first. Nothing of
// the HTTPRoutes and GRPCRoutes is touched.

import { routeKey } from './attachment.js';
import type { ListenerNode } from './graph.js';
import { translateL4Routes, type TranslateState } from './index.js';
import type { RouteNode } from './routes.js';
import type { Snapshot } from '../store/snapshot.js';

export interface L4Redone {
  /** Listeners whose TLS routes or L4 route may have changed: their IR is built again. */
  touched: Set<ListenerNode>;
  gone: RouteNode[];
  added: RouteNode[];
  /** Whether they looked up other keys than before. */
  keysMoved: boolean;
}

/** Every TLSRoute, TCPRoute and UDPRoute of `snapshot` translated again into `state` (in place). */
export function retranslateL4(state: TranslateState, snapshot: Snapshot): L4Redone {
  const { ctx, content } = state;
  const first = state.http.size; // HTTPRoutes and GRPCRoutes come first in state.routes
  const gone = state.routes.splice(first);
  for (const node of gone) for (const p of node.parents) for (const a of p.attachments) a.listener.attached.delete(routeKey(node.kind, node.resource));
  const touched = new Set<ListenerNode>([...content.tls.keys(), ...content.l4.keys()]);
  content.tls.clear();
  content.l4.clear();
  const looked = new Set<string>();
  const outer = ctx.recording;
  ctx.recording = looked;
  let added: RouteNode[];
  try {
    added = translateL4Routes(snapshot, ctx, state.parents, state.clusters, content);
  } finally {
    ctx.recording = outer;
  }
  state.routes.push(...added);
  for (const l of content.tls.keys()) touched.add(l);
  for (const l of content.l4.keys()) touched.add(l);
  const keysMoved = looked.size !== state.l4Base.size || [...looked].some((k) => !state.l4Base.has(k));
  if (keysMoved) {
    state.l4Base = looked;
    state.base = new Set([...state.gatewayBase, ...state.policyBase, ...looked]);
  }
  return { touched, gone, added, keysMoved };
}
