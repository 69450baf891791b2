// What translate() returns: the IR for the data plane and the .status of every object
// Portico is responsible for (written by the status writer in Kubernetes mode, printed
// by `portico check` / `portico run` in file mode).

import type { IR } from '../ir/types.js';
import type { ReportEntry } from '../convert/types.js';

export interface ObjectStatus {
  kind: string;
  /** Absent for cluster-scoped kinds (GatewayClass). */
  namespace?: string;
  name: string;
  /** metadata.generation of the object the status was computed for. */
  generation?: number;
  /** The complete .status object as Kubernetes would store it (lastTransitionTime omitted: the writer stamps it). */
  status: Record<string, unknown>;
  /** Write only while the stored .status still equals this (compare-and-set: controller/ingress-status.ts). */
  expect?: Record<string, unknown>;
}

export interface TranslateOptions {
  /** GatewayClasses whose spec.controllerName differs are ignored. Default portico.dev/gateway-controller. */
  controllerName?: string;
  /**
   * Address the data plane listens on for a Gateway without spec.addresses, reported in
   * status.addresses. Kubernetes mode passes a per-Gateway loopback/Pod IP; file mode '0.0.0.0'.
   */
  addressFor?: (gatewayNamespace: string, gatewayName: string) => string;
  /**
   * Added by the translator (optional): whether a spec.addresses IP can be bound by the data
   * plane (e.g. it is one of the machine's interface addresses). An unusable address makes the
   * Gateway Programmed False AddressNotUsable and is left out of status.addresses. Default:
   * every address is usable. Must be deterministic for one snapshot (no I/O per call is needed:
   * callers can snapshot os.networkInterfaces() once).
   */
  addressUsable?: (ip: string) => boolean;
  /**
   * Added by the translator (optional): sockets the data plane could not bind on its last
   * apply, as `${address}:${port}/${protocol}` (the IR Port name) -> the error. A listener loses
   * those addresses; one left with none is Accepted False PortUnavailable and not programmed,
   * so everything else keeps serving. Default: none.
   */
  portUnavailable?: ReadonlyMap<string, string>;
  /**
   * Who serves the Gateways. `shared` (default): one data plane serves every Gateway, so
   * listeners of different Gateways on one address and port conflict (the oldest keeps it).
   * `per-gateway`: each Gateway has its own data plane (`portico controller --dataplane
   * provisioned`): conflicts are computed within each Gateway only, every listener binds
   * 0.0.0.0 in its own pods (spec.addresses go onto the provisioned Service instead, so
   * addressFor/addressUsable are not consulted), and parametersRef is left to src/provision.
   */
  dataPlanes?: 'shared' | 'per-gateway';
  /**
   * With `per-gateway`: GatewayClasses whose Gateways share one merged data plane (GatewayParameters
   * `mergeGateways`, src/provision/merged.ts). Their listeners conflict across the class's
   * Gateways as with one shared data plane (the oldest keeps a port or hostname). Pass the same
   * Set object while the classes stay the same (incremental translation compares options by
   * identity). Default: none.
   */
  mergedGatewayClasses?: ReadonlySet<string>;
  /**
   * Secret seed of the session persistence token keys (translate/session.ts): every data plane
   * fed by one controller (or one `portico run`) gets keys derived from it, so a session token
   * one worker or replica minted is accepted by all. Never printed. Default '' (offline use:
   * `portico check`, goldens), which makes tokens forgeable: serving callers always pass one.
   */
  sessionSeed?: string;
}

export interface TranslateResult {
  ir: IR;
  /** Sorted by kind, namespace, name. */
  statuses: ObjectStatus[];
  /**
   * Added by the translator (optional so other producers of a TranslateResult need not set it):
   * sorted store keys (keyOf) of the Secrets, Services, ConfigMaps and Namespaces this result
   * depends on, including ones looked up and not found. EndpointSlices count through their
   * Service's key. store/relevance.ts uses it to skip translations a change cannot affect.
   */
  references?: string[];
  /**
   * Set by convert/serve.ts when Ingresses are served directly: which Ingress each Gateway
   * serves, and what of them did not convert or is not served (log lines, check messages).
   */
  ingresses?: { served: ServedIngress[]; report: ReportEntry[] };
}

/** An Ingress of one of Portico's IngressClasses and the Gateway its routes attach to. */
export interface ServedIngress {
  namespace: string;
  name: string;
  className: string;
  gateway: { namespace: string; name: string };
}
