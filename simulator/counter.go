package simulator

// Counter is an Observer that can sum a window up without listing its
// samples: the virtual-time model keeps per-second counts (sufficient
// statistics), so a look costs O(1) instead of a pass over every request.
// p99 says whether the caller needs WindowStats.P99 (drawing it costs more
// than counting).
type Counter interface {
	Stats(q Query, p99 bool) WindowStats
}

// windowStats sums up the samples of q, through the Observer's Counter
// when it has one.
func (r *run) windowStats(q Query, p99 bool) WindowStats {
	if c, ok := r.Observer.(Counter); ok {
		return c.Stats(q, p99)
	}
	return r.stats(r.Observer.Samples(q))
}
