package rehearsal

import (
	"fmt"

	"github.com/firedrill/firedrill/observe"
	"github.com/firedrill/firedrill/record"
)

// EvListening announces where the run's metrics are served.
const EvListening = "listening"

// startObserve serves the run's metrics when Config.Listen asks, before
// anything starts: a port that will not bind fails the run early.
func (r *rehearsal) startObserve() error {
	if r.cfg.Listen == "" {
		return nil
	}
	m := observe.NewMetrics(r.sc, r.rec)
	srv, err := observe.Serve(r.cfg.Listen, m, nil)
	if err != nil {
		return &InfraError{err}
	}
	r.events.Subscribe(m.Event)
	r.metrics, r.metricsSrv = m, srv
	r.events.Add(record.Event{Kind: EvListening, Message: fmt.Sprintf("metrics on http://%s/metrics", srv.Addr()),
		Fields: map[string]any{"addr": srv.Addr()}})
	return nil
}

// stopObserve publishes the verdict's expectations, then stops serving.
func (r *rehearsal) stopObserve() {
	if r.metricsSrv == nil {
		return
	}
	r.metrics.Judged(r.res.Expectations)
	r.metricsSrv.Close()
}
