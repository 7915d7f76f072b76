package analysis

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Call is one request a caller made through its circuit breaker, as its
// client saw it.
type Call struct {
	At      time.Duration // intended send time, from the run's start
	Latency time.Duration
	OK      bool
}

// BreakerInput is what a breaker check sees from outside: the caller's calls
// and the instants requests reached the dependency (Toxiproxy or the
// dependency's own log), around a fault that made the dependency fail.
type BreakerInput struct {
	Calls    []Call
	Arrivals []time.Duration
	// FaultFrom and FaultTo bound the dependency's failure.
	FaultFrom, FaultTo time.Duration
	// FastFail: a failed call at most this slow was refused by an open
	// breaker without trying the dependency (default 10ms).
	FastFail time.Duration
	// Stable is how long calls must go without a fast-fail after a success
	// for the breaker to count as closed again (default 1s).
	Stable time.Duration
}

// BreakerReport is the breaker's behaviour as seen from outside.
type BreakerReport struct {
	Tripped bool
	// TripAt is the first fast-fail at or after FaultFrom.
	TripAt time.Duration
	// CallsBeforeTrip counts dependency arrivals in [FaultFrom, TripAt):
	// the failing calls the breaker let through before opening.
	CallsBeforeTrip int
	// FastFails and their latency quantiles while open.
	FastFails                             int
	FastFailP50, FastFailP99, FastFailMax time.Duration
	// Reclosed: a success at RecloseAt, with no fast-fail for Stable after.
	Reclosed  bool
	RecloseAt time.Duration
	// RecloseDelay is RecloseAt - FaultTo: how long after the dependency
	// recovered the breaker let traffic through again.
	RecloseDelay time.Duration
	// OpenDuration is RecloseAt - TripAt (to the last call when it never
	// reclosed).
	OpenDuration time.Duration
	// ArrivalsWhileOpen counts dependency arrivals in [TripAt, RecloseAt):
	// half-open probes, and anything a leaky breaker let through.
	ArrivalsWhileOpen int
	// ProbesSeen counts caller calls in the open period that were not
	// fast-fails (trial calls in half-open state).
	ProbesSeen int
	// Opens counts open episodes: runs of fast-fails separated by probes.
	Opens  int
	Detail string
}

// VerifyBreaker reconstructs a breaker's trip, open period and reclose from
// its caller's calls and the dependency's arrivals.
func VerifyBreaker(in BreakerInput) BreakerReport {
	if in.FastFail == 0 {
		in.FastFail = 10 * time.Millisecond
	}
	if in.Stable == 0 {
		in.Stable = time.Second
	}
	calls := slices.Clone(in.Calls)
	slices.SortFunc(calls, func(a, b Call) int { return cmpInt64(int64(a.At), int64(b.At)) })
	arr := slices.Clone(in.Arrivals)
	slices.Sort(arr)
	fast := func(c Call) bool { return !c.OK && c.Latency <= in.FastFail }

	var r BreakerReport
	trip := -1
	for i, c := range calls {
		if c.At >= in.FaultFrom && fast(c) {
			trip = i
			break
		}
	}
	if trip < 0 {
		r.Detail = fmt.Sprintf("no fast-fail (a failure within %s) after the fault at %s: the breaker never opened", in.FastFail, in.FaultFrom)
		return r
	}
	r.Tripped = true
	r.TripAt = calls[trip].At
	r.CallsBeforeTrip = countIn(arr, in.FaultFrom, r.TripAt)

	var fastTimes []time.Duration
	for _, c := range calls[trip:] {
		if fast(c) {
			fastTimes = append(fastTimes, c.At)
		}
	}
	// Reclose: the first success after the trip with no fast-fail in the
	// following Stable, inside the data.
	end := calls[len(calls)-1].At
	reclose := -1
	for i := trip; i < len(calls); i++ {
		c := calls[i]
		if !c.OK || c.At+in.Stable > end {
			continue
		}
		if countIn(fastTimes, c.At, c.At+in.Stable) == 0 {
			reclose = i
			break
		}
	}
	openEnd := end
	if reclose >= 0 {
		r.Reclosed = true
		r.RecloseAt = calls[reclose].At
		r.RecloseDelay = r.RecloseAt - in.FaultTo
		openEnd = r.RecloseAt
	}
	r.OpenDuration = openEnd - r.TripAt
	r.ArrivalsWhileOpen = countIn(arr, r.TripAt, openEnd)

	var lat []time.Duration
	prevFast := false
	for _, c := range calls[trip:] {
		if c.At >= openEnd {
			break
		}
		if fast(c) {
			lat = append(lat, c.Latency)
			if !prevFast {
				r.Opens++
			}
			prevFast = true
			continue
		}
		r.ProbesSeen++
		prevFast = false
	}
	r.FastFails = len(lat)
	q := DurationQuantiles(lat, 0.5, 0.99, 1)
	r.FastFailP50, r.FastFailP99, r.FastFailMax = q[0], q[1], q[2]
	if r.Reclosed {
		r.Detail = fmt.Sprintf("opened %s after the fault after %d calls reached the dependency; %d fast-fails (p99 %s); %d arrivals while open; reclosed %s after the dependency recovered",
			r.TripAt-in.FaultFrom, r.CallsBeforeTrip, r.FastFails, r.FastFailP99, r.ArrivalsWhileOpen, r.RecloseDelay)
	} else {
		r.Detail = fmt.Sprintf("opened %s after the fault after %d calls reached the dependency; %d fast-fails (p99 %s); %d arrivals while open; never reclosed (no success followed by %s without fast-fails)",
			r.TripAt-in.FaultFrom, r.CallsBeforeTrip, r.FastFails, r.FastFailP99, r.ArrivalsWhileOpen, in.Stable)
	}
	return r
}

// countIn counts sorted times in [from, to).
func countIn(sorted []time.Duration, from, to time.Duration) int {
	if to <= from {
		return 0
	}
	a := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= from })
	b := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= to })
	return b - a
}

// FastFailsIn counts fast-fails (failures within fastFail) among calls in
// w. Under a background error rate the scenario declares harmless, a
// correctly tuned breaker never opens, so the count must be 0.
func FastFailsIn(calls []Call, w Window, fastFail time.Duration) int {
	if fastFail == 0 {
		fastFail = 10 * time.Millisecond
	}
	n := 0
	for _, c := range calls {
		if c.At >= w.From && c.At < w.To && !c.OK && c.Latency <= fastFail {
			n++
		}
	}
	return n
}

// BreakerExpect are the limits a breaker should meet; zero fields are not
// checked.
type BreakerExpect struct {
	MaxCallsBeforeTrip   int
	MaxFastFailP99       time.Duration
	MaxArrivalsWhileOpen int
	MustReclose          bool
	MaxRecloseDelay      time.Duration
}

// Finding is one checked expectation with its evidence.
type Finding struct {
	Check     string
	OK        bool
	Observed  string
	Threshold string
}

// Check compares the report with the expectations; a breaker that never
// tripped fails every check (there is no open state to judge).
func (r BreakerReport) Check(e BreakerExpect) []Finding {
	var out []Finding
	add := func(name string, ok bool, obs, thr string) {
		out = append(out, Finding{Check: name, OK: ok, Observed: obs, Threshold: thr})
	}
	add("breaker trips", r.Tripped, fmt.Sprintf("tripped=%v", r.Tripped), "tripped=true")
	if e.MaxCallsBeforeTrip > 0 {
		add("calls before trip", r.Tripped && r.CallsBeforeTrip <= e.MaxCallsBeforeTrip,
			fmt.Sprint(r.CallsBeforeTrip), fmt.Sprintf("<= %d", e.MaxCallsBeforeTrip))
	}
	if e.MaxFastFailP99 > 0 {
		add("fast-fail p99", r.Tripped && r.FastFailP99 <= e.MaxFastFailP99,
			r.FastFailP99.String(), "<= "+e.MaxFastFailP99.String())
	}
	if e.MaxArrivalsWhileOpen > 0 {
		add("arrivals while open", r.Tripped && r.ArrivalsWhileOpen <= e.MaxArrivalsWhileOpen,
			fmt.Sprint(r.ArrivalsWhileOpen), fmt.Sprintf("<= %d", e.MaxArrivalsWhileOpen))
	}
	if e.MustReclose || e.MaxRecloseDelay > 0 {
		obs := "never"
		if r.Reclosed {
			obs = r.RecloseDelay.String() + " after recovery"
		}
		ok := r.Reclosed && (e.MaxRecloseDelay == 0 || r.RecloseDelay <= e.MaxRecloseDelay)
		thr := "recloses"
		if e.MaxRecloseDelay > 0 {
			thr = "<= " + e.MaxRecloseDelay.String() + " after recovery"
		}
		add("recloses", ok, obs, thr)
	}
	return out
}
