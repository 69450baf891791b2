// Runs the upstream Gateway API conformance suite against Portico (the controller must already
// run against the cluster in KUBECONFIG: conformance/run.sh does all of it).
//
// Environment:
//
//	PORTICO_CONFORMANCE_CONFIG   claims file (default portico.yaml beside this file)
//	PORTICO_CONFORMANCE_PROFILES comma-separated profiles (default: the claims file's list)
//	PORTICO_CONFORMANCE_CORE     "1": claim no extended feature but coreModeFeatures, so only
//	                             core tests run (and the few extended tests of those features)
//	PORTICO_CONFORMANCE_REPORT   where to write the ConformanceReport YAML (required)
//	PORTICO_CONFORMANCE_DATAPLANE "provisioned": also claim the claims file's provisioned
//	                             features, and use its provisioned static addresses
//
// The suite's own flags (-run-test, -debug, -cleanup-base-resources, ...) still apply.
package conformance_test

import (
	"os"
	"strings"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"
)

type skip struct {
	Test   string `json:"test"`
	Reason string `json:"reason"`
}

type unclaimed struct {
	Feature string `json:"feature"`
	Reason  string `json:"reason"`
}

type claims struct {
	Implementation    confv1.Implementation `json:"implementation"`
	GatewayClassName  string                `json:"gatewayClassName"`
	Profiles          []string              `json:"profiles"`
	SupportedFeatures []string              `json:"supportedFeatures"`
	SkipTests         []skip                `json:"skipTests"`
	// Extended features of the claimed profiles left unclaimed, each with why (for SUMMARY.md).
	UnclaimedFeatures []unclaimed `json:"unclaimedFeatures"`
	// GatewayStaticAddresses: IPs the data plane can bind and IPs it cannot.
	UsableAddresses   []string `json:"usableAddresses"`
	UnusableAddresses []string `json:"unusableAddresses"`
	// What changes when the Gateways get provisioned data planes (run.sh --dataplane provisioned).
	Provisioned provisioned `json:"provisioned"`
}

type provisioned struct {
	// Claimed on top of supportedFeatures: features only per-Gateway data planes have.
	SupportedFeatures []string `json:"supportedFeatures"`
	// GatewayStaticAddresses: IPs the load balancer can assign and IPs it cannot.
	UsableAddresses   []string `json:"usableAddresses"`
	UnusableAddresses []string `json:"unusableAddresses"`
}

func ipAddresses(values []string) []gatewayv1.GatewaySpecAddress {
	var out []gatewayv1.GatewaySpecAddress
	for _, v := range values {
		t := gatewayv1.AddressType("IPAddress")
		out = append(out, gatewayv1.GatewaySpecAddress{Type: &t, Value: v})
	}
	return out
}

var coreProfiles = map[suite.ConformanceProfileName]suite.ConformanceProfile{
	suite.GatewayHTTPConformanceProfileName: suite.GatewayHTTPConformanceProfile,
	suite.GatewayGRPCConformanceProfileName: suite.GatewayGRPCConformanceProfile,
	suite.GatewayTLSConformanceProfileName:  suite.GatewayTLSConformanceProfile,
	suite.GatewayTCPConformanceProfileName:  suite.GatewayTCPConformanceProfile,
	suite.GatewayUDPConformanceProfileName:  suite.GatewayUDPConformanceProfile,
}

// Claimed features that core mode claims too, because a core test's expectation depends on them:
// TLSRouteListenerTerminateNotSupported (GATEWAY-TLS core) expects a listener with TLS mode
// Terminate to be rejected unless TLSRouteModeTerminate is claimed, and once it is,
// TLSRouteListenerMixedTerminationNotSupported expects the same of mixed modes unless
// TLSRouteModeMixed is. Claiming them also runs their 4 extended TLSRoute tests.
//
// GatewayInfrastructure (claimed with provisioned data planes): v1.6.3 gates the core test
// GatewayInvalidParametersRef behind it (in v1.6.0-v1.6.2 it needed Gateway only), so core mode
// claims it too, which also runs its one extended test, GatewayInfrastructureMetadata.
var coreModeFeatures = map[features.FeatureName]bool{
	features.SupportTLSRouteModeTerminate: true,
	features.SupportTLSRouteModeMixed:     true,
	features.SupportGatewayInfrastructure: true,
}

func loadClaims(t *testing.T) claims {
	path := os.Getenv("PORTICO_CONFORMANCE_CONFIG")
	if path == "" {
		path = "portico.yaml"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var c claims
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	known := map[features.FeatureName]bool{}
	for _, f := range features.AllFeatures.UnsortedList() {
		known[f.Name] = true
	}
	for _, f := range append(append([]string{}, c.SupportedFeatures...), c.Provisioned.SupportedFeatures...) {
		if !known[features.FeatureName(f)] {
			t.Fatalf("%s: supportedFeatures names %q, which this suite version does not define", path, f)
		}
	}
	for _, u := range c.UnclaimedFeatures {
		if !known[features.FeatureName(u.Feature)] || strings.TrimSpace(u.Reason) == "" {
			t.Fatalf("%s: unclaimedFeatures entry %q must name a feature of this suite version and say why", path, u.Feature)
		}
	}
	for _, s := range c.SkipTests {
		if strings.TrimSpace(s.Reason) == "" {
			t.Fatalf("%s: skipTests entry %q has no reason; every skip must say why the local cluster cannot run it", path, s.Test)
		}
	}
	return c
}

func TestPortico(t *testing.T) {
	c := loadClaims(t)
	report := os.Getenv("PORTICO_CONFORMANCE_REPORT")
	if report == "" {
		t.Fatal("PORTICO_CONFORMANCE_REPORT is not set (conformance/run.sh sets it)")
	}

	opts := conformance.DefaultOptions(t)
	opts.GatewayClassName = c.GatewayClassName
	opts.Implementation = c.Implementation
	opts.ReportOutputPath = report

	profiles := c.Profiles
	if p := os.Getenv("PORTICO_CONFORMANCE_PROFILES"); p != "" {
		profiles = strings.Split(p, ",")
	}
	opts.ConformanceProfiles = nil
	for _, p := range profiles {
		opts.ConformanceProfiles = append(opts.ConformanceProfiles, suite.ConformanceProfileName(strings.TrimSpace(p)))
	}

	// Features are claimed here, never inferred from the GatewayClass status (the suite infers
	// them when this list is empty), so that the report shows exactly what the claims file says.
	// Core mode claims only the profiles' core features, which the suite tests anyway, and the
	// claimed coreModeFeatures.
	opts.SupportedFeatures = nil
	for _, p := range opts.ConformanceProfiles {
		profile, ok := coreProfiles[p]
		if !ok {
			t.Fatalf("profile %q: expected one of GATEWAY-HTTP, GATEWAY-GRPC, GATEWAY-TLS, GATEWAY-TCP, GATEWAY-UDP", p)
		}
		opts.SupportedFeatures = append(opts.SupportedFeatures, profile.CoreFeatures.UnsortedList()...)
	}
	claimed := c.SupportedFeatures
	usable, unusable := c.UsableAddresses, c.UnusableAddresses
	if os.Getenv("PORTICO_CONFORMANCE_DATAPLANE") == "provisioned" {
		claimed = append(append([]string{}, claimed...), c.Provisioned.SupportedFeatures...)
		usable, unusable = c.Provisioned.UsableAddresses, c.Provisioned.UnusableAddresses
	}
	for _, f := range claimed {
		if os.Getenv("PORTICO_CONFORMANCE_CORE") != "1" || coreModeFeatures[features.FeatureName(f)] {
			opts.SupportedFeatures = append(opts.SupportedFeatures, features.FeatureName(f))
		}
	}
	// The suite's -usable-address / -unusable-address flags win when given.
	if len(opts.UsableNetworkAddresses) == 0 {
		opts.UsableNetworkAddresses = ipAddresses(usable)
	}
	if len(opts.UnusableNetworkAddresses) == 0 {
		opts.UnusableNetworkAddresses = ipAddresses(unusable)
	}
	for _, s := range c.SkipTests {
		t.Logf("skipping %s: %s", s.Test, s.Reason)
		opts.SkipTests = append(opts.SkipTests, s.Test)
	}

	conformance.RunConformanceWithOptions(t, opts)
}
