module portico.dev/hack/tools/echo

go 1.26.0

tool sigs.k8s.io/gateway-api/conformance/echo-basic

require (
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/text v0.37.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260427160629-7cedc36a6bc4 // indirect
	google.golang.org/grpc v1.81.1 // indirect
	google.golang.org/protobuf v1.36.12-0.20260120151049-f2248ac996af // indirect
	sigs.k8s.io/gateway-api/conformance v1.6.3 // indirect
)

// The conformance module names gateway-api by a placeholder version with a relative replace of its own;
// outside its repository the published release stands in for it.
replace sigs.k8s.io/gateway-api => sigs.k8s.io/gateway-api v1.6.3

// echo-basic left the gateway-api repository after v1.6.3, and v1.6.3 listens on every address.
// hack/build-tools.sh copies that module here and makes each listener bind to $POD_IP, so that
// several pods on one machine can share a port (each pod has its own 127.x address).
replace sigs.k8s.io/gateway-api/conformance => ../../../.cache/cluster/src/echo-conformance
