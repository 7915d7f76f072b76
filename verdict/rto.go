package verdict

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// instant is a moment recovery is measured from.
type instant struct {
	name     string
	at       time.Duration
	reverted time.Duration // -1: not a fault, or never reverted
}

// rto: the requests (clients' or a router's) recover within e.Max of each
// fault matching e.Fault (or of the rollback); with a database, the write
// ledger's recovery is measured instead (write_rto.go).
func rto(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, out *Findings) {
	if e.Database != "" {
		onDatabase(writeRTO)(ev, e, x, out)
		return
	}
	x.Threshold = "<= " + e.Max.String()
	ins, missing := rtoInstants(ev, e)
	if len(ins) == 0 {
		x.Observed = "nothing to measure"
		x.Detail = strings.Join(append(missing, "no instant matched "+e.Fault), "; ")
		return
	}
	samples, who := judged(ev, e, 0, 0)
	cfg := analysis.RecoveryConfig{Bin: time.Second, Objective: e.Objective, Stability: e.Stability.D()}
	var recs []analysis.Recovery
	var details []string
	for _, in := range ins {
		rec, err := analysis.MeasureRecovery(samples, in.at, cfg)
		if err != nil {
			x.Observed, x.Detail = "not computed", err.Error()
			return
		}
		recs = append(recs, rec)
		d := describeRecovery(in, rec)
		details = append(details, d)
		rr := reports.Recovery{Name: x.Name, Fault: in.name, Service: e.Service, RTOTargetSeconds: ptr(e.Max.D().Seconds()), Detail: d}
		ok := rec.Recovered && rec.RTO <= e.Max.D()
		rr.Passed = &ok
		if rec.Recovered {
			rr.RTOSeconds = ptr(rec.RTO.Seconds())
		}
		out.Recovery = append(out.Recovery, rr)
	}
	st := analysis.SummarizeRecoveries(recs)
	x.Passed = st.Recovered == st.N && st.Max <= e.Max.D() && len(missing) == 0
	switch {
	case st.Recovered < st.N:
		x.Observed = fmt.Sprintf("not recovered (%d of %d)", st.N-st.Recovered, st.N)
	case st.N == 1:
		x.Observed = st.Max.String()
		setNum(x, st.Max.Seconds(), "<=", e.Max.D().Seconds(), "s")
	default:
		x.Observed = fmt.Sprintf("max %s (p50 %s, p90 %s over %d)", st.Max, st.P50, st.P90, st.N)
		setNum(x, st.Max.Seconds(), "<=", e.Max.D().Seconds(), "s")
	}
	x.Detail = fmt.Sprintf("recovered = success ratio >= %g in every 1s bin for %s, on %s' requests; %s",
		e.Objective, e.Stability, who, strings.Join(append(missing, details...), "; "))
}

// rtoInstants are the instants e.Fault names (fault names may be globs, or
// the rollback), and why some expected ones are missing.
func rtoInstants(ev *Evidence, e *scenarios.Expectation) (ins []instant, missing []string) {
	if e.Fault == scenarios.RollbackInstant {
		if t := ev.Rollout.RollbackStartedAt; t != nil {
			ins = append(ins, instant{name: "rollback", at: t.Sub(ev.T0), reverted: -1})
		} else {
			missing = append(missing, "no rollback happened (outcome "+ev.Rollout.Outcome+")")
		}
	}
	for _, f := range ev.Faults {
		if ok, _ := path.Match(e.Fault, f.Spec.Name); !ok || e.Fault == scenarios.RollbackInstant {
			continue
		}
		if f.InjectedAt.IsZero() {
			missing = append(missing, fmt.Sprintf("fault %s was not injected (%s)", f.Spec.Name, orText(f.Skipped, errText(f.Err))))
			continue
		}
		in := instant{name: f.Spec.Name, at: f.InjectedAt.Sub(ev.T0), reverted: -1}
		if !f.RevertedAt.IsZero() {
			in.reverted = f.RevertedAt.Sub(ev.T0)
		}
		ins = append(ins, in)
	}
	return ins, missing
}

// describeRecovery says how the requests recovered from one instant.
func describeRecovery(in instant, rec analysis.Recovery) string {
	d := fmt.Sprintf("%s at +%s", in.name, in.at.Round(time.Millisecond))
	if rec.Recovered {
		d += fmt.Sprintf(": recovered at +%s, RTO %s", rec.RecoveredAt.Round(time.Millisecond), rec.RTO)
		switch after := rec.RecoveredAt - in.reverted; {
		case in.reverted < 0:
		case after > 0:
			d += fmt.Sprintf(" (%s after the fault was reverted at +%s)", after.Round(time.Millisecond), in.reverted.Round(time.Millisecond))
		default: // bins are aligned on the injection, so the revert falls inside one
			d += fmt.Sprintf(" (the fault was reverted at +%s)", in.reverted.Round(time.Millisecond))
		}
	} else {
		d += ": NOT recovered (" + rec.Detail + ")"
	}
	if rec.Longest.Failed > 0 {
		d += fmt.Sprintf("; longest stretch without a success %s (%d failed requests)", rec.Longest.Duration().Round(time.Millisecond), rec.Longest.Failed)
	}
	return d
}
