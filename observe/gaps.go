package observe

import (
	"sort"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
)

// MinGap is the shortest silence of an instance's series reported as a
// gap: one quiet second is sampling noise at low rates.
const MinGap = 2

// Gaps finds the instance series that went silent for MinGap seconds or
// more while other instances of the same service still served (so traffic
// did not stop: the instance did), from traffic start t0 to the last
// second, and names the instance's event (stop, kill, restart) nearest
// before each gap.
func Gaps(rec *record.Recorder, t0 time.Time, last int, events []record.Event) []reports.TelemetryGap {
	type inst struct{ svc, ver, in uint16 }
	seen := map[inst]map[int]bool{}
	served := map[uint16]map[int]bool{} // service -> seconds with any hop sample
	rec.Each(func(s record.Sample) {
		if s.Source != record.Hop || s.At < 0 {
			return
		}
		sec := int(s.At / int64(time.Second))
		if served[s.Service] == nil {
			served[s.Service] = map[int]bool{}
		}
		served[s.Service][sec] = true // also a request no instance took
		if s.Instance == 0 {
			return
		}
		k := inst{s.Service, s.Version, s.Instance}
		if seen[k] == nil {
			seen[k] = map[int]bool{}
		}
		seen[k][sec] = true
	})
	var out []reports.TelemetryGap
	for k, secs := range seen {
		first := last
		for s := range secs {
			first = min(first, s)
		}
		gap := reports.TelemetryGap{Service: rec.Name(k.svc), Version: rec.Name(k.ver), Instance: rec.Name(k.in)}
		silent := -1
		for sec := first; sec <= last; sec++ {
			switch {
			case secs[sec]:
				if silent >= 0 && sec-silent >= MinGap {
					g := gap
					g.FromS, g.ToS = float64(silent), ptr(float64(sec))
					out = append(out, g)
				}
				silent = -1
			case served[k.svc][sec] && silent < 0:
				silent = sec
			}
		}
		if silent >= 0 && last+1-silent >= MinGap {
			g := gap
			g.FromS = float64(silent)
			out = append(out, g)
		}
	}
	for i := range out {
		out[i].Cause = gapCause(out[i], t0, events)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].FromS != out[j].FromS {
			return out[i].FromS < out[j].FromS
		}
		return out[i].Instance < out[j].Instance
	})
	return out
}

// gapCause is the last event about the gap's instance from 2 s before the
// gap to its first silent second's end.
func gapCause(g reports.TelemetryGap, t0 time.Time, events []record.Event) string {
	from := t0.Add(time.Duration(g.FromS-2) * time.Second)
	to := t0.Add(time.Duration(g.FromS+1) * time.Second)
	cause := ""
	for _, e := range events {
		if e.Target == g.Instance && !e.At.Before(from) && e.At.Before(to) {
			cause = e.Kind + ": " + e.Message
		}
	}
	return cause
}
