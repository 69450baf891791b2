#!/usr/bin/env bash
# A real Kubernetes control plane on this machine, without containers:
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler, kwok for fake nodes,
# hack/podrunner.mjs, which runs the conformance echo server for each pod on its pod IP,
# kube-proxy (nftables mode), which routes ClusterIP and LoadBalancer Services for real, and
# hack/lb-allocator.mjs, which gives LoadBalancer Services an address from a local range.
#
#   hack/cluster.sh up       build what is missing (hack/build-tools.sh), start everything, wait until ready
#   hack/cluster.sh down     stop everything this script started and wipe etcd (certs and binaries stay)
#   hack/cluster.sh status   what runs, and whether the API server answers
#   hack/cluster.sh env      print shell exports: KUBECONFIG, PORTICO_KUBECONFIG, GATEWAY_API_CRDS, PATH
#
# Addresses:
#   API server https://127.0.0.1:$PORTICO_APISERVER_PORT (default 16443), etcd 127.0.0.1:12379/12380,
#   Service ClusterIPs 10.96.0.0/16 and LoadBalancer addresses 10.250.0.0/24 (hack/lb-allocator.mjs),
#   both routed into the veth below and DNATed to pod IPs by kube-proxy, from this machine and
#   from the pods' namespace (kube-proxy masquerades all Service traffic to 10.244.255.1: every
#   pod IP lives in one namespace, so a reply must come back through the host's conntrack).
#   Pod IPs 10.244.0.0/24 and 10.244.1.0/24 (one per kwok node), inside the network namespace
#   `portico-pods` that `up` creates: a veth pair joins it to this machine (host side 10.244.255.1),
#   and podrunner adds each pod IP to that namespace's lo. Pod IPs cannot be loopback addresses:
#   the API server refuses 127.0.0.0/8 in EndpointSlices. Nothing here leaves the machine; a
#   lower-priority `unreachable 10.244.0.0/16` route stays behind so that, once the namespace is
#   gone, a stale endpoint can never be sent out of the default route (the same for the Service and
#   LoadBalancer ranges).
#   Gateways in loopback mode use 127.64.0.0/16 (portico controller's default).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/hack/lib.sh"
# podrunner runs the data-plane pods with the node that starts it: Node 24, as in the image,
# whichever node the caller had first on PATH.
. "$ROOT/hack/node.sh"

APISERVER_PORT="${PORTICO_APISERVER_PORT:-16443}"
ETCD_CLIENT=127.0.0.1:12379
ETCD_PEER=127.0.0.1:12380
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SERVICE_IP=10.96.0.1   # the first address of SERVICE_CIDR: the `kubernetes` Service
LB_RANGE=10.250.0.0/24            # LoadBalancer ingress addresses, handed out by hack/lb-allocator.mjs
KUBE_PROXY_NODE=kwok-node-0       # one kube-proxy serves every node: they all live on this machine
KUBE_PROXY_HEALTHZ=127.0.0.1:10256
NODES=("kwok-node-0:10.244.0.0/24" "kwok-node-1:10.244.1.0/24")
NETNS=portico-pods
POD_RANGE=10.244.0.0/16
HOST_VETH=portico-h   # host side, 10.244.255.1
PODS_VETH=portico-p   # namespace side, 10.244.255.2
KUBELET_IP=10.244.255.1  # kwok's kubelet API for every node, on the host side of the veth
PKI="$CLUSTER_DIR/pki"
RUN="$CLUSTER_DIR/run"      # pid files
LOGS="$CLUSTER_DIR/logs"
DATA="$CLUSTER_DIR/etcd-data"
GATEWAY_API_VERSION=v1.6.3

kubectl_() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

gateway_api_crds() {
  local dir="${PORTICO_GO_CACHE:-$CACHE/go}/mod/sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION/config/crd/experimental"
  if [[ ! -d "$dir" ]]; then
    ensure_go
    (cd "$ROOT/conformance" && go mod download sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION) >&2
  fi
  echo "$dir"
}

need_system_tools() {
  local missing=()
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v nft >/dev/null || missing+=(nftables)   # kube-proxy's nftables mode runs `nft`
  command -v node >/dev/null || die "node is required (the project's own runtime)"
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# --- certificates -----------------------------------------------------------------------------
make_pki() {
  make_ca_and_admin
  make_apiserver_cert
  make_kube_proxy_cert
}

# kube-proxy runs as system:kube-proxy, which the built-in binding system:node-proxier covers.
make_kube_proxy_cert() {
  [[ -f "$PKI/kube-proxy.crt" ]] || (
    cd "$PKI"
    openssl req -newkey rsa:2048 -nodes -keyout kube-proxy.key -out kube-proxy.csr -subj "/CN=system:kube-proxy" 2>/dev/null
    openssl x509 -req -in kube-proxy.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out kube-proxy.crt 2>/dev/null
    rm -f kube-proxy.csr
  )
}

# The serving certificate names the `kubernetes` Service's ClusterIP: made again when that moved.
make_apiserver_cert() {
  if [[ -f "$PKI/apiserver.crt" ]] &&
    openssl x509 -in "$PKI/apiserver.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$KUBERNETES_SERVICE_IP\b"; then
    return 0
  fi
  log "generating the API server certificate (SANs 127.0.0.1, $KUBERNETES_SERVICE_IP)"
  (
    cd "$PKI"
    cat > apiserver.ext <<EOF
subjectAltName=IP:127.0.0.1,IP:$KUBERNETES_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EOF
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    rm -f apiserver.csr
  )
}

make_ca_and_admin() {
  [[ -f "$PKI/admin.crt" ]] && return 0
  log "generating certificates in $PKI"
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.crt -subj "/CN=portico-local-ca" 2>/dev/null
    # One client identity for every component and for tests: system:masters bypasses RBAC, so
    # RBAC itself stays on for anything else (service accounts, dry-run checks of deploy/).
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=portico-admin" 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out admin.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr
  )
}

# kubeconfig_for <file> <user> <cert basename under $PKI> [context]: a kubeconfig for the local API server.
kubeconfig_for() {
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: portico-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$3.crt
    client-key: $PKI/$3.key
contexts:
- name: ${4:-$2}
  context: {cluster: portico-local, user: $2}
current-context: ${4:-$2}
EOF
}

write_kubeconfig() { kubeconfig_for "$KUBECONFIG_PATH" portico-admin admin portico-local; }

write_kube_proxy_config() {
  kubeconfig_for "$CLUSTER_DIR/kube-proxy.kubeconfig" kube-proxy kube-proxy
  # nftables mode: its own `ip kube-proxy` table, nothing in iptables. masqueradeAll: every pod
  # IP is an address of one namespace, so pod -> Service -> pod must be SNATed to the host (or
  # the reply would skip the DNAT's conntrack entry). NodePorts only on the nodes' InternalIP
  # (the veth's host end), never on 127.x. conntrack sysctls are left as they are.
  cat > "$CLUSTER_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
hostnameOverride: $KUBE_PROXY_NODE
clusterCIDR: $POD_RANGE
clientConnection: {kubeconfig: $CLUSTER_DIR/kube-proxy.kubeconfig, qps: 50, burst: 100}
nftables: {masqueradeAll: true, minSyncPeriod: 0s}
nodePortAddresses: [$KUBELET_IP/32]
healthzBindAddress: $KUBE_PROXY_HEALTHZ
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
oomScoreAdj: 0
EOF
}

# --- the pods' network namespace ------------------------------------------------------------
setup_netns() {
  ip netns del "$NETNS" 2>/dev/null || true
  ip link del "$HOST_VETH" 2>/dev/null || true
  ip netns add "$NETNS"
  ip link add "$HOST_VETH" type veth peer name "$PODS_VETH" netns "$NETNS"
  ip addr add 10.244.255.1/32 dev "$HOST_VETH"
  ip link set "$HOST_VETH" up
  ip -n "$NETNS" link set lo up
  ip -n "$NETNS" addr add 10.244.255.2/32 dev "$PODS_VETH"
  ip -n "$NETNS" link set "$PODS_VETH" up
  ip -n "$NETNS" route add 10.244.255.1/32 dev "$PODS_VETH"
  ip route replace unreachable "$POD_RANGE" metric 4242
  ip route replace "$POD_RANGE" dev "$HOST_VETH" src 10.244.255.1 metric 0
  setup_service_routes
}

# ClusterIPs and LoadBalancer addresses: into the veth from this machine (kube-proxy's DNAT in
# the output hook picks the pod), and from the pods' namespace to the host, which forwards what
# arrives on the veth (only there: the machine's other interfaces keep forwarding off).
setup_service_routes() {
  local r
  sysctl -qw "net.ipv4.conf.$HOST_VETH.forwarding=1"
  for r in "$SERVICE_CIDR" "$LB_RANGE"; do
    ip route replace unreachable "$r" metric 4242
    ip route replace "$r" dev "$HOST_VETH" src 10.244.255.1 metric 0
    ip -n "$NETNS" route replace "$r" via 10.244.255.1 dev "$PODS_VETH"
  done
}

teardown_netns() {
  ip netns del "$NETNS" 2>/dev/null || true   # takes the veth pair and its routes with it
  ip link del "$HOST_VETH" 2>/dev/null || true
  # kube-proxy leaves its tables behind when stopped (so that a restart keeps traffic flowing).
  nft delete table ip kube-proxy 2>/dev/null || true
  nft delete table ip6 kube-proxy 2>/dev/null || true
}

# kube-proxy and the LoadBalancer allocator, after the nodes exist (kube-proxy reads its node's IP).
start_service_routing() {
  if [[ ! -x "$BIN/kube-proxy" ]]; then
    log "no $BIN/kube-proxy: Services will not route (hack/build-tools.sh k8s builds it)"
    return 0
  fi
  setup_service_routes
  start kube-proxy "$BIN/kube-proxy" --config "$CLUSTER_DIR/kube-proxy.yaml"
  start lb-allocator node "$ROOT/hack/lb-allocator.mjs" --kubeconfig "$KUBECONFIG_PATH" --range "$LB_RANGE"
  wait_for "kube-proxy healthz" 60 curl -sf "http://$KUBE_PROXY_HEALTHZ/healthz"
}

# --- processes --------------------------------------------------------------------------------
# start <name> <command...>: own session (so `down` can stop it with its children), own log.
start() {
  local name=$1; shift
  if running "$name"; then log "$name already running"; return 0; fi
  # Every inherited descriptor above 2 is closed: up's own lock (9) and the cluster-use lock that a
  # `flock FILE cmd` wrapper around up passes on (usually 3). A component that kept one would hold
  # that lock for as long as it runs, and every later `up` or cluster user would wait forever.
  (
    for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done
    exec setsid "$@"
  ) >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}

# (A zombie is not running: PID 1 here may take a while to reap what `start` left to it.)
running() { local p; p=$(cat "$RUN/$1.pid" 2>/dev/null) && kill -0 "$p" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$p/status"; }

stop() {
  local name=$1 p i
  p=$(cat "$RUN/$name.pid" 2>/dev/null) || return 0
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

wait_for() { # wait_for <what> <seconds> <command...>; gives up early if a component died
  local what=$1 secs=$2; shift 2
  local end=$((SECONDS + secs)) c
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || { log "timed out waiting for $what"; return 1; }
    for c in "$RUN"/*.pid; do
      [[ -e $c ]] || continue
      c=$(basename "$c" .pid)
      running "$c" || { log "$c exited while waiting for $what"; return 1; }
    done
    sleep 0.5
  done
}

fail_with_logs() {
  log "$1; last lines of the logs:"
  local f; for f in "$LOGS"/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
  cmd_down
  exit 1
}

kwok_stages_dir() {
  local stages="${PORTICO_GO_CACHE:-$CACHE/go}/mod/sigs.k8s.io/kwok@v0.8.0/kustomize/stage"
  [[ -d "$stages" ]] || (cd "$ROOT/hack/tools/kwok" && go mod download sigs.k8s.io/kwok@v0.8.0) >&2
  echo "$stages"
}

kwok_config() {
  local stages; stages=$(kwok_stages_dir)
  # The stages kwokctl uses by default: nodes become Ready and renew their Lease; pods are
  # given an IP from their node's podCIDR and become Ready at once (hack/podrunner.mjs then
  # puts a real process behind that IP).
  # A pod with a readinessProbe starts Ready False (and its probed containers not ready):
  # podrunner probes it and writes Ready itself (hack/pod-lifecycle.mjs), as a kubelet would.
  local f first=1
  for f in "$stages"/node/fast/node-initialize.yaml "$stages"/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml "$stages"/pod/fast/pod-*.yaml; do
    ((first)) || echo '---'
    first=0
    if [[ "$f" == */pod-ready.yaml ]]; then
      perl -0pe 's/(\{\{ \$now := Now \}\})/$1\n      {{ \$ready := "True" }}{{ range .spec.containers }}{{ if .readinessProbe }}{{ \$ready = "False" }}{{ end }}{{ end }}/;
        s/status: "True"\n(\s+)type: (Ready|ContainersReady)\n/status: {{ \$ready | Quote }}\n$1type: $2\n/g;
        s/(name: \{\{ \.name \| Quote \}\}\n\s+)ready: true\n(\s+restartCount: 0\n\s+state:\n\s+running:)/$1ready: {{ not .readinessProbe }}\n$2/' "$f"
    else
      cat "$f"
    fi
  done
}

node_manifest() { # node_manifest <name> <podCIDR>
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: $1, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
spec:
  podCIDR: $2
  podCIDRs: [$2]
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "250"}
  capacity: {cpu: "32", memory: 256Gi, pods: "250"}
EOF
}

# A pod, scheduled onto a kwok node, given an IP and served by podrunner: the whole chain works.
smoke_test() {
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: cluster-smoke, namespace: default, labels: {app: cluster-smoke}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: echo
    image: registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    ports: [{containerPort: 3000}]
EOF
  local ip="" svc=""
  wait_for "smoke pod IP" 60 bash -c "[[ -n \"\$('$BIN/kubectl' --kubeconfig '$KUBECONFIG_PATH' get pod cluster-smoke -o jsonpath='{.status.podIP}')\" ]]" || return 1
  ip=$(kubectl_ get pod cluster-smoke -o jsonpath='{.status.podIP}')
  wait_for "echo server on $ip:3000" 30 bash -c "curl -sf --max-time 2 http://$ip:3000/smoke | grep -q '\"pod\": *\"cluster-smoke\"'" || return 1
  log "smoke pod answered on $ip:3000"
  # ... and through a LoadBalancer Service: its ClusterIP and its allocated address (kube-proxy, lb-allocator).
  if running kube-proxy; then
    kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: cluster-smoke, namespace: default}
spec:
  type: LoadBalancer
  ports: [{port: 80, targetPort: 3000}]
  selector: {app: cluster-smoke}
EOF
    wait_for "smoke Service's LoadBalancer address" 30 bash -c "[[ -n \"\$('$BIN/kubectl' --kubeconfig '$KUBECONFIG_PATH' get service cluster-smoke -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" ]]" || return 1
    for svc in "$(kubectl_ get service cluster-smoke -o jsonpath='{.spec.clusterIP}')" "$(kubectl_ get service cluster-smoke -o jsonpath='{.status.loadBalancer.ingress[0].ip}')"; do
      wait_for "smoke pod through $svc:80" 30 bash -c "curl -sf --max-time 2 http://$svc/smoke | grep -q '\"pod\": *\"cluster-smoke\"'" || return 1
      log "smoke pod answered through the Service on $svc:80"
    done
    kubectl_ delete service cluster-smoke --wait=false >/dev/null
  fi
  kubectl_ delete pod cluster-smoke --wait=false >/dev/null
}

cmd_up() {
  local t0=$SECONDS
  mkdir -p "$RUN" "$LOGS"
  # Someone else (another test run) may have it up already: share it, touching nothing but
  # kube-proxy and the LoadBalancer allocator, started if they are not running (they died, or
  # the cluster was started before they were part of it).
  if core_up; then
    if ! running kube-proxy || ! running lb-allocator; then
      make_kube_proxy_cert
      write_kube_proxy_config
      start_service_routing || log "warning: kube-proxy is not healthy; see $LOGS/kube-proxy.log"
    fi
    log "cluster already up; export KUBECONFIG=$KUBECONFIG_PATH"
    return 0
  fi
  # Half a cluster (a crash, an interrupted run) is not worth repairing: start clean.
  local c; for c in "$RUN"/*.pid; do [[ -e $c ]] && { log "stopping a partial cluster first"; cmd_down; break; }; done
  need_system_tools
  "$ROOT/hack/build-tools.sh"
  ensure_go
  mkdir -p "$RUN" "$LOGS" "$DATA"
  make_pki
  write_kubeconfig
  write_kube_proxy_config
  setup_netns || die "cannot create the network namespace $NETNS (needs root and iproute2)"

  start etcd "$BIN/etcd" --name portico --data-dir "$DATA" \
    --listen-client-urls "http://$ETCD_CLIENT" --advertise-client-urls "http://$ETCD_CLIENT" \
    --listen-peer-urls "http://$ETCD_PEER" --initial-advertise-peer-urls "http://$ETCD_PEER" \
    --initial-cluster "portico=http://$ETCD_PEER" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes 2147483648
  wait_for etcd 30 curl -sf "http://$ETCD_CLIENT/health" || fail_with_logs "etcd did not start"

  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://$ETCD_CLIENT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode RBAC --anonymous-auth=false \
    --enable-priority-and-fairness=false --profiling=false
  wait_for kube-apiserver 120 curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" || fail_with_logs "kube-apiserver did not become ready"

  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$KUBECONFIG_PATH" --authentication-kubeconfig "$KUBECONFIG_PATH" --authorization-kubeconfig "$KUBECONFIG_PATH" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs=false \
    --controllers '*,-node-ipam-controller'
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$KUBECONFIG_PATH" --authentication-kubeconfig "$KUBECONFIG_PATH" --authorization-kubeconfig "$KUBECONFIG_PATH" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false

  kwok_config > "$CLUSTER_DIR/kwok.yaml"
  # kwok serves the kubelet API of its nodes (pod logs, which the mirror tests read) from the
  # files that podrunner names in a Logs object per pod: the Logs CRD comes first.
  kubectl_ apply --server-side -f "$(kwok_stages_dir)/../crd/bases/kwok.x-k8s.io_logs.yaml" >/dev/null ||
    fail_with_logs "could not install kwok's Logs CRD"
  start kwok "$BIN/kwok" --kubeconfig "$KUBECONFIG_PATH" --config "$CLUSTER_DIR/kwok.yaml" \
    --manage-all-nodes --node-lease-duration-seconds 40 --enable-crds Logs \
    --node-ip "$KUBELET_IP" --node-port 10250 --server-address "$KUBELET_IP:10250"
  # Deleted pods' logs stay in $CLUSTER_DIR/pod-logs (the newest 1,000) until the next up: a
  # conformance test's data-plane pods are gone when its failure is read.
  rm -rf "$CLUSTER_DIR/pod-logs"
  start podrunner node "$ROOT/hack/podrunner.mjs" --kubeconfig "$KUBECONFIG_PATH" --echo "$BIN/echo-basic" \
    --state "$CLUSTER_DIR/pods" --netns "$NETNS" --keep-logs "$CLUSTER_DIR/pod-logs"

  local n
  for n in "${NODES[@]}"; do node_manifest "${n%%:*}" "${n#*:}"; echo '---'; done | kubectl_ apply -f - >/dev/null ||
    fail_with_logs "could not create nodes"
  wait_for "nodes Ready" 90 kubectl_ wait --for=condition=Ready node --all --timeout=5s || fail_with_logs "nodes did not become Ready"
  wait_for "default service account" 60 kubectl_ get serviceaccount default -n default || fail_with_logs "no default service account"
  start_service_routing || fail_with_logs "kube-proxy did not become healthy"
  smoke_test || fail_with_logs "smoke pod was not reachable"
  log "cluster up in $((SECONDS - t0))s; export KUBECONFIG=$KUBECONFIG_PATH"
}

cmd_down() {
  local c
  for c in lb-allocator kube-proxy podrunner kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$c"; done
  # The cluster is disposable: the next `up` starts from an empty etcd (certs and binaries stay).
  teardown_netns
  rm -rf "$DATA" "$CLUSTER_DIR/pods"
  log "cluster down"
}

CORE=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok podrunner)
SERVICE_ROUTING=(kube-proxy lb-allocator)

# The control plane, the nodes and the pods run, and the API server answers.
core_up() {
  local c
  for c in "${CORE[@]}"; do running "$c" || return 1; done
  [[ -f "$KUBECONFIG_PATH" ]] && kubectl_ get --raw /readyz >/dev/null 2>&1
}

cmd_status() {
  local c rc=0
  for c in "${CORE[@]}"; do
    if running "$c"; then echo "$c: running (pid $(cat "$RUN/$c.pid"))"; else echo "$c: stopped"; rc=1; fi
  done
  # Reported, not counted: a cluster without them still serves pods (`up` starts them when missing).
  for c in "${SERVICE_ROUTING[@]}"; do
    if running "$c"; then echo "$c: running (pid $(cat "$RUN/$c.pid"))"; else echo "$c: stopped (Services do not route)"; fi
  done
  if [[ -f "$KUBECONFIG_PATH" ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; then
    echo "apiserver: ready at https://127.0.0.1:$APISERVER_PORT"
    kubectl_ get nodes 2>/dev/null || true
  else
    echo "apiserver: not answering"; rc=1
  fi
  return $rc
}

cmd_env() {
  echo "export KUBECONFIG=$KUBECONFIG_PATH"
  echo "export PORTICO_KUBECONFIG=$KUBECONFIG_PATH"
  echo "export GATEWAY_API_CRDS=$(gateway_api_crds)"
  echo "export PORTICO_SERVICE_CIDR=$SERVICE_CIDR"
  echo "export PORTICO_LB_RANGE=$LB_RANGE"
  echo "export PATH=$BIN:\$PATH"
}

case "${1:-}" in
  # One `up` at a time: a second caller (another test run) waits, then shares the cluster the
  # first one started instead of building and starting a second copy over the same files.
  up) mkdir -p "$CLUSTER_DIR" && exec 9>"$CLUSTER_DIR/up.lock" && flock 9 && cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
