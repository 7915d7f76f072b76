package record

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Event kinds written by the harness. Other packages may add their own.
const (
	EvRunStarted        = "run_started"
	EvTopologyUp        = "topology_up"
	EvTrafficStarted    = "traffic_started"
	EvTrafficStopped    = "traffic_stopped"
	EvRolloutStarted    = "rollout_started"
	EvStepStarted       = "step_started"
	EvAnalysis          = "analysis"
	EvTriggerFired      = "trigger_fired"
	EvRollbackStarted   = "rollback_started"
	EvRollbackCompleted = "rollback_completed"
	EvPromoted          = "promoted"
	EvFaultInjected     = "fault_injected"
	EvFaultReverted     = "fault_reverted"
	EvFaultSkipped      = "fault_skipped"
	EvInstanceStarted   = "instance_started"
	EvInstanceStopped   = "instance_stopped"
	EvInstanceUnhealthy = "instance_unhealthy"
	EvInstanceHealthy   = "instance_healthy"
	EvInterrupted       = "interrupted"
	EvRunEnded          = "run_ended"
)

// Event is one thing that happened, as written to events.jsonl.
type Event struct {
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	Service string         `json:"service,omitempty"`
	Target  string         `json:"target,omitempty"`
	Message string         `json:"message,omitempty"`
	Fields  map[string]any `json:"fields,omitempty"`
}

// Log keeps events in memory and appends each one, as it happens, to an
// optional writer (events.jsonl), so that a killed run still leaves its trail.
type Log struct {
	mu     sync.Mutex
	events []Event
	w      io.Writer
	enc    *json.Encoder
	sync   func() error
	notify []func(Event)
}

// NewLog returns a log that also writes JSON lines to w (nil for none). If w
// has a Sync method (an *os.File) it is called after every event.
func NewLog(w io.Writer) *Log {
	l := &Log{w: w}
	if w != nil {
		l.enc = json.NewEncoder(w)
		if s, ok := w.(interface{ Sync() error }); ok {
			l.sync = s.Sync
		}
	}
	return l
}

// Subscribe registers fn to be called (synchronously, in order) for every
// event added after it. Used for progress output.
func (l *Log) Subscribe(fn func(Event)) {
	l.mu.Lock()
	l.notify = append(l.notify, fn)
	l.mu.Unlock()
}

// Add records e, stamping it with the current UTC time when At is zero.
func (l *Log) Add(e Event) Event {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	l.mu.Lock()
	l.events = append(l.events, e)
	if l.enc != nil {
		_ = l.enc.Encode(e)
		if l.sync != nil {
			_ = l.sync()
		}
	}
	subs := l.notify
	l.mu.Unlock()
	for _, fn := range subs {
		fn(e)
	}
	return e
}

// Events returns a copy of all events so far.
func (l *Log) Events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// Find returns the first event of the given kind (and service, when not
// empty) at or after from, if any.
func (l *Log) Find(kind, service string, from time.Time) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Kind == kind && (service == "" || e.Service == service) && !e.At.Before(from) {
			return e, true
		}
	}
	return Event{}, false
}
