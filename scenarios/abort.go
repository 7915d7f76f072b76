package scenarios

import "time"

// AbortIf is a safety floor for game days and nightly runs: when the
// clients' availability over the last Window falls below
// AvailabilityBelow, the drill stops at once (faults reverted, rollout
// ended, traffic stopped) with the verdict ABORTED, instead of hurting
// for the rest of its duration.
type AbortIf struct {
	AvailabilityBelow float64  `yaml:"availability_below" json:"availability_below"`
	Window            Duration `yaml:"window,omitempty" json:"window"`
	MinRequests       int      `yaml:"min_requests,omitempty" json:"min_requests"`
}

// Defaults of abort_if.
const (
	DefaultAbortWindow      = Duration(5 * time.Second)
	DefaultAbortMinRequests = 20
)

func (a *AbortIf) applyDefaults() {
	if a == nil {
		return
	}
	setDur(&a.Window, DefaultAbortWindow)
	if a.MinRequests == 0 {
		a.MinRequests = DefaultAbortMinRequests
	}
}

func (c *checker) abortIf() {
	a := c.s.AbortIf
	if a == nil {
		return
	}
	if !within01(a.AvailabilityBelow, true) || a.AvailabilityBelow >= 1 {
		c.at("abort_if.availability_below", "%v is not a ratio strictly between 0 and 1; write e.g. availability_below: 0.5 (stop the drill when fewer than half the requests succeed)", a.AvailabilityBelow)
	}
	if a.Window < Duration(time.Second) || a.Window > c.s.Traffic.Duration {
		c.at("abort_if.window", "%s: write a window from 1s to the traffic's duration (%s), e.g. window: 5s", a.Window, c.s.Traffic.Duration)
	}
	if a.MinRequests < 1 {
		c.at("abort_if.min_requests", "must be at least 1, not %d", a.MinRequests)
	}
}
