package faults

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// Steps tells step-relative faults when rollout steps start.
type Steps struct {
	mu      sync.Mutex
	started map[int]time.Time
	changed chan struct{}
	over    bool
}

// NewSteps returns an empty step tracker.
func NewSteps() *Steps { return &Steps{started: map[int]time.Time{}, changed: make(chan struct{})} }

// Started records that step i (from 1) started at t.
func (s *Steps) Started(i int, t time.Time) {
	s.mu.Lock()
	s.started[i] = t
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Over says no further step will start (the rollout ended).
func (s *Steps) Over() {
	s.mu.Lock()
	if !s.over {
		s.over = true
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
}

// Wait blocks until step i starts (ok) or will never start (!ok).
func (s *Steps) Wait(ctx context.Context, i int) (time.Time, bool) {
	for {
		s.mu.Lock()
		t, ok := s.started[i]
		over, ch := s.over, s.changed
		s.mu.Unlock()
		if ok {
			return t, true
		}
		if over {
			return time.Time{}, false
		}
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-ch:
		}
	}
}

// Outcome is what happened to one fault.
type Outcome struct {
	Fault      *scenarios.Fault
	InjectedAt time.Time
	RevertedAt time.Time
	Skipped    string
	Err        error
}

// RevertTimeout bounds a revert that runs after the run's context ended.
const RevertTimeout = 15 * time.Second

// Run injects every fault (built by reg) at its instant (from start, or from the start of
// its rollout step) and reverts it after its hold time, or at once when ctx
// ends. It returns when every fault is reverted or skipped. Reverts run on a
// context that outlives ctx: an interrupted run still takes its faults out.
func Run(ctx context.Context, start time.Time, list []*scenarios.Fault, reg *Registry, steps *Steps, events *record.Log) []Outcome {
	out := make([]Outcome, len(list))
	var wg sync.WaitGroup
	for i, f := range list {
		out[i].Fault = f
		wg.Add(1)
		go func(o *Outcome) {
			defer wg.Done()
			runOne(ctx, start, o, reg, steps, events)
		}(&out[i])
	}
	wg.Wait()
	return out
}

func runOne(ctx context.Context, start time.Time, o *Outcome, reg *Registry, steps *Steps, events *record.Log) {
	f := o.Fault
	emit := func(e record.Event) {
		if events != nil {
			e.Target = f.Target()
			if e.Fields == nil {
				e.Fields = map[string]any{}
			}
			e.Fields["fault"] = f.Name
			e.Fields["kind"] = f.Kind
			events.Add(e)
		}
	}
	base := start
	if f.Step > 0 {
		t, ok := steps.Wait(ctx, f.Step)
		if !ok {
			o.Skipped = fmt.Sprintf("rollout step %d never started", f.Step)
			if ctx.Err() != nil {
				o.Skipped = "run ended before its time"
			}
			emit(record.Event{Kind: record.EvFaultSkipped, Message: f.Name + ": " + o.Skipped})
			return
		}
		base = t
	}
	if !SleepUntil(ctx, base.Add(f.At.D())) {
		o.Skipped = "run ended before its time"
		emit(record.Event{Kind: record.EvFaultSkipped, Message: f.Name + ": " + o.Skipped})
		return
	}
	inj, err := reg.New(f)
	if err == nil {
		var revert func(context.Context) error
		revert, err = inj.Inject(ctx)
		if err == nil {
			o.InjectedAt = time.Now()
			emit(record.Event{At: o.InjectedAt, Kind: record.EvFaultInjected, Message: Describe(f)})
			SleepUntil(ctx, o.InjectedAt.Add(HoldFor(f)))
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RevertTimeout)
			err = revert(rctx)
			cancel()
			o.RevertedAt = time.Now()
			msg := "reverted " + f.Name
			if err != nil {
				msg = fmt.Sprintf("revert of %s failed: %v", f.Name, err)
			}
			emit(record.Event{At: o.RevertedAt, Kind: record.EvFaultReverted, Message: msg,
				Fields: map[string]any{"held_s": o.RevertedAt.Sub(o.InjectedAt).Seconds()}})
		}
	}
	if err != nil {
		o.Err = err
		if o.InjectedAt.IsZero() {
			emit(record.Event{Kind: record.EvFaultSkipped, Message: fmt.Sprintf("%s could not be injected: %v", f.Name, err)})
		}
	}
}

// Describe says what a fault does, for logs and reports.
func Describe(f *scenarios.Fault) string {
	switch f.Kind {
	case scenarios.FaultLatency:
		return fmt.Sprintf("%s: +%s latency (±%s) on %s", f.Name, f.Latency, f.Jitter, f.Edge)
	case scenarios.FaultKill:
		return fmt.Sprintf("%s: SIGKILL %s", f.Name, f.Target())
	case scenarios.FaultPause:
		return fmt.Sprintf("%s: SIGSTOP %s for %s", f.Name, f.Target(), f.Duration)
	case scenarios.FaultDown:
		return fmt.Sprintf("%s: edge %s down", f.Name, f.Edge)
	case scenarios.FaultHTTPAbort, scenarios.FaultHTTPDelay:
		return describeHTTP(f)
	case scenarios.FaultCPUThrottle, scenarios.FaultMemoryLimit:
		return describeResource(f)
	case scenarios.FaultNetem:
		return fmt.Sprintf("%s: netem on %s: latency %s ±%s, loss %g%%, corrupt %g%%", f.Name, f.Target(), f.Latency, f.Jitter, f.LossPercent, f.CorruptPercent)
	}
	return fmt.Sprintf("%s: %s on %s", f.Name, f.Kind, f.Target())
}

// SleepUntil waits until t; it reports false when ctx ended first.
func SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
