package observe

import (
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/firedrill/firedrill/record"
)

// Window is a span in which the run knows something was wrong: a fault
// held, or the new version served traffic.
type Window struct {
	Name     string // "fault slow-db", "rollout" (the new version on traffic)
	Fault    string // the fault's name, kind and target ("" for the regression)
	Kind     string
	Target   string
	From, To time.Time
}

// perSecond is one request series' tallies, second by second from T0.
type perSecond struct {
	first int // first second with a sample
	secs  map[int]*tally
}

// buildStore turns the run's samples into the series /metrics served, as
// if scraped at the end of every second from t0 to end: the same metric
// names and labels, so a rule written against the live endpoint reads the
// recorded run the same way. Fault windows become firedrill_fault_active.
func buildStore(rec *record.Recorder, t0, end time.Time, windows []Window) *memStore {
	st := newMemStore()
	last := int(end.Sub(t0) / time.Second)
	series := map[key]*perSecond{}
	rec.Each(func(s record.Sample) {
		if s.Source == record.Shadow || s.At < 0 {
			return
		}
		k := key{src: s.Source, svc: s.Service, ver: s.Version}
		if s.Source == record.Client {
			k.ver = 0
		}
		sec := int(s.At / int64(time.Second))
		ps := series[k]
		if ps == nil {
			ps = &perSecond{first: sec, secs: map[int]*tally{}}
			series[k] = ps
		}
		ps.first = min(ps.first, sec)
		t := ps.secs[sec]
		if t == nil {
			t = &tally{buckets: make([]uint64, len(Buckets))}
			ps.secs[sec] = t
		}
		count(t, s)
	})
	keys := make([]key, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		addRequestSeries(st, k, series[k], rec, t0, last)
	}
	for sec := 0; sec <= last; sec++ {
		at := t0.Add(time.Duration(sec+1) * time.Second)
		for _, w := range windows {
			if w.Fault == "" {
				continue
			}
			v := 0.0
			if !at.Before(w.From) && at.Before(w.To) {
				v = 1
			}
			st.add(labels.FromStrings("__name__", "firedrill_fault_active", "fault", w.Fault, "kind", w.Kind, "target", w.Target), ms(at), v)
		}
	}
	return st
}

// addRequestSeries writes one request series' cumulative counters and
// histogram from its first second to the last.
func addRequestSeries(st *memStore, k key, ps *perSecond, rec *record.Recorder, t0 time.Time, last int) {
	svc, ver := rec.Name(k.svc), rec.Name(k.ver)
	counter, hist := "firedrill_requests_total", "firedrill_request_duration_seconds"
	base := []string{"service", svc, "version", ver}
	if k.src == record.Client {
		counter, hist = "firedrill_client_requests_total", "firedrill_client_request_duration_seconds"
		base = []string{"service", svc}
	}
	with := func(name string, kv ...string) labels.Labels {
		return labels.FromStrings(append(append([]string{"__name__", name}, base...), kv...)...)
	}
	cum := &tally{buckets: make([]uint64, len(Buckets))}
	for sec := ps.first; sec <= last; sec++ {
		if t := ps.secs[sec]; t != nil {
			cum.ok += t.ok
			cum.errs += t.errs
			cum.sum += t.sum
			for i := range t.buckets {
				cum.buckets[i] += t.buckets[i]
			}
		}
		at := ms(t0.Add(time.Duration(sec+1) * time.Second))
		st.add(with(counter, "outcome", "ok"), at, float64(cum.ok))
		st.add(with(counter, "outcome", "error"), at, float64(cum.errs))
		n := cum.ok + cum.errs
		st.add(with(hist+"_count"), at, float64(n))
		st.add(with(hist+"_sum"), at, cum.sum)
		var c uint64
		for i, b := range Buckets {
			c += cum.buckets[i]
			st.add(with(hist+"_bucket", "le", strconv.FormatFloat(b, 'f', -1, 64)), at, float64(c))
		}
		st.add(with(hist+"_bucket", "le", "+Inf"), at, float64(n))
	}
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func (k key) String() string {
	return strconv.Itoa(int(k.src)) + "/" + strconv.Itoa(int(k.svc)) + "/" + strconv.Itoa(int(k.ver))
}
