// The data-plane Deployment: `portico dataplane` for one Gateway (or a merged class), holding no Kubernetes
// credentials, ready only after its first config, draining on shutdown.

import type { EffectiveParameters } from './parameters.js';
import type { PortSpec } from './service.js';
import { sortedMap } from './names.js';
import { DEFAULT_CREDENTIALS_DIR, PSK_FILE } from '../sync/credentials.js';

/** Non-root user and group of the image (distroless "nonroot"). */
export const RUN_AS = 65532;
/** preStop sleep: time for endpoint controllers and load balancers to stop sending new connections. */
export const PRE_STOP_SECONDS = 5;
/** The data plane's own drain on SIGTERM: readiness off, idle keep-alives closed, in-flight requests finished. */
export const DRAIN_SECONDS = 35;
/** preStop + drain + a margin before the kubelet's SIGKILL. */
export const TERMINATION_GRACE_SECONDS = PRE_STOP_SECONDS + DRAIN_SECONDS + 5;
export const DEFAULT_HEALTH_PORT = 9091;

/**
 * The Secret holding the Gateway's config-stream key (`psk`, src/sync/credentials.ts), mounted
 * at DEFAULT_CREDENTIALS_DIR. The controller creates it (the key is derived from its master
 * key, so it is not part of this pure output); the pod does not start until it exists.
 */
export function syncSecretName(name: string): string {
  return `${name}-sync`;
}

/** The health listener's port: the configured one, moved up past any listener port that uses it. */
export function healthPort(configured: number | undefined, ports: PortSpec[]): number {
  let port = configured ?? DEFAULT_HEALTH_PORT;
  while (ports.some((p) => p.port === port && p.protocol === 'TCP')) port++;
  return port;
}

export interface DeploymentInputs {
  /** What the pod serves, its config-stream identity: `namespace/name` of the Gateway, or `GatewayClass/<name>` (merged). */
  identity: string;
  name: string;
  selector: Record<string, string>;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  ports: PortSpec[];
  health: number;
  image: string;
  imagePullPolicy: string;
  syncAddress: string;
  parameters: EffectiveParameters;
}

export function deploymentSpec(d: DeploymentInputs): Record<string, unknown> {
  const p = d.parameters;
  const low = d.ports.filter((x) => x.port < 1024).map((x) => x.port);
  const lowest = low.length > 0 ? Math.min(...low) : undefined;
  const args = [
    'dataplane',
    `--controller=${d.syncAddress}`,
    `--gateway=${d.identity}`,
    `--health=0.0.0.0:${d.health}`,
    `--drain-timeout=${DRAIN_SECONDS}s`,
    `--credentials=${DEFAULT_CREDENTIALS_DIR}`,
    ...(p.deployment.extraArgs ?? []),
  ];
  const capabilities: Record<string, unknown> = { drop: ['ALL'] };
  if (lowest !== undefined) capabilities.add = ['NET_BIND_SERVICE'];
  const podSecurity: Record<string, unknown> = {
    runAsNonRoot: true,
    runAsUser: RUN_AS,
    runAsGroup: RUN_AS,
    // group of the mounted key file (mode 0440): readable by the data plane, not by others
    fsGroup: RUN_AS,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  // A non-root process gets no effective capabilities from the container's set (Kubernetes has
  // no ambient capabilities, and allowPrivilegeEscalation: false disables file capabilities),
  // so ports below 1024 are opened by the pod's network namespace instead: this namespaced,
  // "safe" sysctl lets unprivileged processes bind from the lowest listener port up.
  if (lowest !== undefined) podSecurity.sysctls = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: String(lowest) }];
  const container: Record<string, unknown> = {
    name: 'dataplane',
    image: d.image,
    imagePullPolicy: d.imagePullPolicy,
    args,
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ],
    // Only the health port, which probes and monitors name. The listeners' ports are not here:
    // a container port is informational (the Service targets port numbers), and as part of the
    // pod template every listener added, moved or removed rolled every data-plane pod, though
    // the config stream had already told the running pods to listen there.
    ports: [{ name: 'health', containerPort: d.health, protocol: 'TCP' }],
    readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 2, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, periodSeconds: 10, failureThreshold: 6 },
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
    resources: p.deployment.resources ?? {},
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities,
    },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'sync-credentials', mountPath: DEFAULT_CREDENTIALS_DIR, readOnly: true },
    ],
  };
  const podSpec: Record<string, unknown> = {
    serviceAccountName: d.name,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurity,
    terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
    containers: [container],
    volumes: [
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      { name: 'sync-credentials', secret: { secretName: syncSecretName(d.name), defaultMode: 0o440, items: [{ key: PSK_FILE, path: PSK_FILE }] } },
    ],
  };
  if (p.deployment.nodeSelector && Object.keys(p.deployment.nodeSelector).length > 0)
    podSpec.nodeSelector = sortedMap(p.deployment.nodeSelector);
  if (p.deployment.tolerations && p.deployment.tolerations.length > 0) podSpec.tolerations = p.deployment.tolerations;
  const template: Record<string, unknown> = { metadata: { labels: sortedMap(d.podLabels) }, spec: podSpec };
  if (Object.keys(d.podAnnotations).length > 0)
    (template.metadata as Record<string, unknown>).annotations = sortedMap(d.podAnnotations);
  const spec: Record<string, unknown> = {};
  // With an HPA, spec.replicas is left out: under server-side apply the field then belongs to
  // whoever last set it (the HPA's scale subresource), and the controller never resets it.
  if (!p.autoscaling.enabled) spec.replicas = p.deployment.replicas ?? 1;
  spec.selector = { matchLabels: sortedMap(d.selector) };
  // Zero-downtime rollout: a new pod must be ready before an old one is taken away.
  spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } };
  spec.template = template;
  return spec;
}
