package scenarios

import (
	"fmt"
	"slices"
	"strings"
)

// InitOptions choose what `firedrill init` writes.
type InitOptions struct {
	Name     string   // scenario name (default "my-first-drill")
	Strategy string   // canary (default), bluegreen, rolling or phased
	Runtime  string   // local (default) or docker
	Services []string // a chain: first is the entry, each calls the next (default gateway, checkout, payments)
}

// InitStrategies are the --strategy values of init (bluegreen is blue_green).
var InitStrategies = []string{"canary", "bluegreen", "rolling", "phased"}

// InitScenario writes a commented scenario that validates and runs to GO:
// a chain of fixture services under light traffic, a healthy rollout of
// the second service (the only one if there is one), no faults yet, and
// the expectations a release owner checks first.
func InitScenario(o InitOptions) ([]byte, error) {
	if o.Name == "" {
		o.Name = "my-first-drill"
	}
	if o.Strategy == "" {
		o.Strategy = "canary"
	}
	if o.Runtime == "" {
		o.Runtime = "local"
	}
	if len(o.Services) == 0 {
		o.Services = []string{"gateway", "checkout", "payments"}
	}
	if !slices.Contains(InitStrategies, o.Strategy) {
		return nil, fmt.Errorf("unknown strategy %q: write one of %s", o.Strategy, strings.Join(InitStrategies, ", "))
	}
	if !slices.Contains(Runtimes, o.Runtime) {
		return nil, fmt.Errorf("unknown runtime %q: write local or docker", o.Runtime)
	}
	for i, s := range o.Services {
		if !serviceName.MatchString(s) || slices.Contains(o.Services[:i], s) {
			return nil, fmt.Errorf("service name %q: use unique lower-case names (letters, digits, '-', '_'), e.g. --services gateway,orders", s)
		}
	}
	target := o.Services[min(1, len(o.Services)-1)]
	var b strings.Builder
	fmt.Fprintf(&b, `# yaml-language-server: $schema=firedrill.schema.json
# (editors complete keys and flag mistakes once you run: firedrill schema > firedrill.schema.json)
#
# %[1]s: written by firedrill init. A %[2]s rollout of %[3]s under steady
# traffic, with no fault yet. Try it:
#
#   firedrill validate %[1]s.yaml    # check the file, start nothing
#   firedrill plan %[1]s.yaml        # the timeline, as a dry run
#   firedrill run %[1]s.yaml         # the real rehearsal: exit 0 GO, 1 NO-GO
#
# Then make it interesting: add a fault (faults: below), or give the new
# version a regression (rollout.env: {ERROR_RATE: "0.3"}) and expect
# outcome: rolled_back. Every key: scenarios/REFERENCE.md.
name: %[1]s
seed: 42                  # every random choice; the same seed, the same run
runtime: %[4]s
`, o.Name, o.Strategy, target, o.Runtime)
	b.WriteString("services:                 # fixture httpsvc: a small HTTP service tuned by env\n")
	for i, s := range o.Services {
		fmt.Fprintf(&b, "  %s:\n    fixture: httpsvc\n", s)
		if s == target {
			b.WriteString("    replicas: 2\n")
		}
		if i+1 < len(o.Services) {
			fmt.Fprintf(&b, "    depends_on: [%s]    # calls %s on every request\n", o.Services[i+1], o.Services[i+1])
		}
		if i == 0 {
			b.WriteString("    env:\n      LATENCY_MEDIAN: 3ms\n      LATENCY_P99: 15ms\n")
		}
	}
	fmt.Fprintf(&b, `traffic:
  entry: %s            # the service the load arrives at
  rate: 50                # requests per second, open loop
  duration: 20s
`, o.Services[0])
	b.WriteString(initRollout(o.Strategy, target))
	b.WriteString(`# faults:                 # uncomment to break a dependency while the rollout runs
#   - kind: latency
#     edge: ` + initEdge(o.Services) + `
#     latency: 200ms
#     at: 5s
#     duration: 5s
expectations:
  - kind: rollout_outcome   # the new version is promoted (rolled_back if it is bad)
    outcome: promoted
  - kind: availability      # what the clients saw, over the whole run
    min: 0.99
  - kind: p99_latency
    max: 1s
`)
	return []byte(b.String()), nil
}

func initEdge(svcs []string) string {
	if len(svcs) < 2 {
		return "a -> b"
	}
	return svcs[0] + " -> " + svcs[1]
}

// initRollout is the rollout block of one strategy, timed to end well
// inside the 20 s of traffic.
func initRollout(strategy, target string) string {
	head := "rollout:\n  service: " + target + "\n  to: v2\n  start_at: 3s\n"
	switch strategy {
	case "bluegreen":
		return head + `  strategy: blue_green      # v2 starts beside v1, then takes all traffic at once
  blue_green:
    preview: mirror         # v2 sees copies of real requests before the switch
    preview_for: 5s
    scale_down_delay: 3s    # v1 stays up a little, for a quick way back
  analysis:
    max_error_rate: 0.05
`
	case "rolling":
		return head + `  strategy: rolling         # instances replaced in batches
  rolling:
    max_surge: 1            # one extra instance during a batch
    pause: 4s               # watched by analysis after each batch
  analysis:
    judge: statistical
    latency_margin: 0.5     # v2 may be 50% slower: local timing is noisy
    min_requests: 20
`
	case "phased":
		return head + `  strategy: phased          # users move in cohorts, each stays on one version
  phased:
    header: X-Request-Id
  steps:
    - {weight: 10, pause: 4s}
    - {weight: 50, pause: 4s}
    - {weight: 100, pause: 3s}
  analysis:
    max_error_rate: 0.05
`
	}
	return head + `  strategy: canary          # a share of the traffic goes to v2, step by step
  steps:
    - {weight: 20, pause: 5s}   # the analysis watches each step during its pause
    - {weight: 50, pause: 5s}
  analysis:
    max_error_rate: 0.05    # roll back above 5% errors...
    max_p99: 500ms          # ...or a p99 above 500 ms
`
}
