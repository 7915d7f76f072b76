package observe

import (
	"context"
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// memStore is the run's series as a Prometheus storage.Queryable: the
// query engine reads it the way it reads a TSDB. Points of a series are
// appended in time order; a recording rule appends its results as it is
// evaluated, in time order too.
type memStore struct {
	byKey map[string]*memSeries
}

type memSeries struct {
	lset labels.Labels
	pts  []fpoint
}

func newMemStore() *memStore { return &memStore{byKey: map[string]*memSeries{}} }

// add appends (t ms, v) to the series lset.
func (s *memStore) add(lset labels.Labels, t int64, v float64) {
	k := lset.String()
	ser := s.byKey[k]
	if ser == nil {
		ser = &memSeries{lset: lset}
		s.byKey[k] = ser
	}
	if n := len(ser.pts); n > 0 && ser.pts[n-1].t >= t {
		return // one point per instant, in order
	}
	ser.pts = append(ser.pts, fpoint{t: t, v: v})
}

// Querier implements storage.Queryable.
func (s *memStore) Querier(mint, maxt int64) (storage.Querier, error) {
	return &memQuerier{s: s, mint: mint, maxt: maxt}, nil
}

type memQuerier struct {
	s          *memStore
	mint, maxt int64
}

func (q *memQuerier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, ser := range q.s.byKey {
		if !matches(ser.lset, ms) {
			continue
		}
		lo := sort.Search(len(ser.pts), func(i int) bool { return ser.pts[i].t >= q.mint })
		hi := sort.Search(len(ser.pts), func(i int) bool { return ser.pts[i].t > q.maxt })
		if lo >= hi {
			continue
		}
		smp := make([]chunks.Sample, 0, hi-lo)
		for _, p := range ser.pts[lo:hi] {
			smp = append(smp, p)
		}
		out = append(out, storage.NewListSeries(ser.lset, smp))
	}
	// The engine merges and joins by label order.
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Labels(), out[j].Labels()) < 0 })
	return &seriesSet{list: out, i: -1}
}

func matches(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (q *memQuerier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]bool{}
	for _, ser := range q.s.byKey {
		if v := ser.lset.Get(name); v != "" && matches(ser.lset, ms) {
			seen[v] = true
		}
	}
	return sortedKeys(seen), nil, nil
}

func (q *memQuerier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]bool{}
	for _, ser := range q.s.byKey {
		if matches(ser.lset, ms) {
			ser.lset.Range(func(l labels.Label) { seen[l.Name] = true })
		}
	}
	return sortedKeys(seen), nil, nil
}

func (q *memQuerier) Close() error { return nil }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type seriesSet struct {
	list []storage.Series
	i    int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.list) }
func (s *seriesSet) At() storage.Series                { return s.list[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// fpoint is one float sample (chunks.Sample).
type fpoint struct {
	t int64
	v float64
}

func (p fpoint) T() int64                      { return p.t }
func (p fpoint) ST() int64                     { return 0 }
func (p fpoint) F() float64                    { return p.v }
func (p fpoint) H() *histogram.Histogram       { return nil }
func (p fpoint) FH() *histogram.FloatHistogram { return nil }
func (p fpoint) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p fpoint) Copy() chunks.Sample           { return p }
