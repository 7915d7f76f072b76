package rehearsal

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/traffic"
)

// EvAborted: abort_if's floor was breached and the drill stopped early.
const EvAborted = "aborted"

// floorCheck says whether the clients' samples of one window breach the
// floor: at least min_requests of them, and a success ratio below it.
func floorCheck(samples []record.Sample, a *scenarios.AbortIf) (availability float64, n int, breached bool) {
	ok := 0
	for _, s := range samples {
		if s.OK() {
			ok++
		}
	}
	n = len(samples)
	if n == 0 {
		return 1, 0, false
	}
	availability = float64(ok) / float64(n)
	return availability, n, n >= a.MinRequests && availability < a.AvailabilityBelow
}

// watchFloor looks at the clients' availability over the last abort_if
// window, several times a window, and stops the drill the first time it is
// below the floor: traffic stops, and stopActs ends the rollout and
// reverts the faults, exactly as at the end of a run. It ends with ctx.
func (r *rehearsal) watchFloor(ctx context.Context, gen *traffic.Generator, stopActs func()) (reason string) {
	a := r.sc.AbortIf
	window := a.Window.D()
	tick := time.NewTicker(max(window/5, 200*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ""
		case now := <-tick.C:
			el := now.Sub(r.t0)
			if el < window {
				continue
			}
			samples := r.rec.Select(record.Filter{Source: record.Client, From: el - window, To: el})
			avail, n, breached := floorCheck(samples, a)
			if !breached {
				continue
			}
			reason = fmt.Sprintf("availability %.1f%% over the last %s (%d requests) fell below the abort_if floor %.1f%%; the drill was stopped at +%s",
				100*avail, a.Window, n, 100*a.AvailabilityBelow, el.Round(100*time.Millisecond))
			r.events.Add(record.Event{Kind: EvAborted, Message: reason})
			gen.Stop()
			stopActs()
			return reason
		}
	}
}

// aborted gives a drill stopped by its floor its own verdict; its
// expectations stay as judged on what ran.
func aborted(res *reports.Result, reason string) {
	res.Verdict = reports.ABORTED
	res.Aborted = reason
}
