package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
)

// progress shows a run as it happens: bars on a terminal, plain timestamped
// lines otherwise (CI logs).
type progress interface {
	Healthy(service, instance string, done, total int)
	Event(e record.Event)
	// Interrupted stops the display and says that cleanup is under way.
	Interrupted()
	Close()
}

type nopProgress struct{}

func (nopProgress) Healthy(string, string, int, int) {}
func (nopProgress) Event(record.Event)               {}
func (nopProgress) Interrupted()                     {}
func (nopProgress) Close()                           {}

// cleaningUp is what an interrupted run says while it cleans up.
const cleaningUp = "interrupted: cleaning up (reverting faults, stopping everything, writing the partial result); Ctrl-C again to quit at once"

// worth says whether an event is shown as a line (analysis passes and
// per-instance health flaps would drown the rest).
func worth(e record.Event) bool {
	switch e.Kind {
	case record.EvAnalysis:
		return e.Fields["verdict"] == "fail"
	case record.EvInstanceHealthy, record.EvInstanceStarted, record.EvInstanceStopped:
		return false
	}
	return true
}

func line(e record.Event) string {
	msg := e.Message
	if msg == "" {
		msg = e.Target
	}
	return fmt.Sprintf("%s  %-18s %s", e.At.Local().Format("15:04:05.000"), e.Kind, msg)
}

func newProgress(w io.Writer, tty bool, sc *scenarios.Scenario) progress {
	if !tty {
		return &plainProgress{w: w}
	}
	return newBars(w, sc)
}

type plainProgress struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *plainProgress) Healthy(service, instance string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s  %-18s %s healthy (%d/%d)\n", time.Now().Format("15:04:05.000"), "instance_healthy", instance, done, total)
}

func (p *plainProgress) Event(e record.Event) {
	if !worth(e) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, line(e))
}

func (p *plainProgress) Interrupted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s  %s\n", time.Now().Format("15:04:05.000"), cleaningUp)
}

func (p *plainProgress) Close() {}

// bars: one bar for the topology coming up, one for the traffic's duration,
// and a status line with the rollout step and the faults now active.
type bars struct {
	p        *mpb.Progress
	up       *mpb.Bar
	traffic  *mpb.Bar
	duration time.Duration

	mu     sync.Mutex
	step   string
	active map[string]bool
	start  time.Time
	done   chan struct{}
	stop   sync.Once // closes done
}

func newBars(w io.Writer, sc *scenarios.Scenario) *bars {
	b := &bars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40)), duration: sc.Traffic.Duration.D(),
		active: map[string]bool{}, done: make(chan struct{}), step: "waiting"}
	total := 0
	for _, s := range sc.Services {
		total += s.Replicas
	}
	b.up = b.p.AddBar(int64(total), mpb.PrependDecorators(decor.Name("services ", decor.WC{W: 10}), decor.CountersNoUnit("%d/%d healthy")),
		mpb.BarRemoveOnComplete())
	b.traffic = b.p.AddBar(int64(b.duration/time.Second),
		mpb.PrependDecorators(decor.Name("traffic ", decor.WC{W: 10}), decor.Any(func(decor.Statistics) string {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.start.IsZero() {
				return "starting"
			}
			left := b.duration - time.Since(b.start)
			if left < 0 {
				left = 0
			}
			return fmt.Sprintf("%s left", left.Round(time.Second))
		})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return b.status() })))
	return b
}

func (b *bars) status() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var faults []string
	for f := range b.active {
		faults = append(faults, f)
	}
	sort.Strings(faults)
	s := "rollout: " + b.step
	if len(faults) > 0 {
		s += " | faults: " + strings.Join(faults, ", ")
	}
	return s
}

func (b *bars) Healthy(_, _ string, done, total int) { b.up.SetCurrent(int64(done)) }

func (b *bars) Event(e record.Event) {
	b.mu.Lock()
	switch e.Kind {
	case record.EvTrafficStarted:
		b.start = e.At
		b.up.SetTotal(-1, true)
		go b.tick()
	case record.EvRolloutStarted:
		b.step = "deploying"
	case record.EvStepStarted:
		b.step = fmt.Sprintf("step %v (%v%%)", e.Fields["step"], e.Fields["weight"])
	case record.EvRollbackStarted:
		b.step = "rolling back"
	case record.EvRollbackCompleted:
		b.step = "rolled back"
	case record.EvPromoted:
		b.step = "promoted"
	case simulator.EvGateOpened:
		b.step = fmt.Sprintf("step %v: gate open (firedrill approve|reject)", e.Fields["step"])
	case simulator.EvAlert:
		b.step = "alert raised (firedrill decide RUN rollback|ignore)"
	case record.EvFaultInjected:
		b.active[fmt.Sprint(e.Fields["fault"])] = true
	case record.EvFaultReverted:
		delete(b.active, fmt.Sprint(e.Fields["fault"]))
	}
	b.mu.Unlock()
	if worth(e) {
		fmt.Fprintln(b.p, line(e))
	}
}

func (b *bars) tick() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			b.mu.Lock()
			el := time.Since(b.start)
			b.mu.Unlock()
			b.traffic.SetCurrent(int64(el / time.Second))
		}
	}
}

// Interrupted stops the bars where they are (the traffic bar no longer
// counts time that is not run) and prints the cleanup line under them.
func (b *bars) Interrupted() {
	b.stop.Do(func() { close(b.done) })
	b.up.Abort(true)
	b.traffic.Abort(false)
	fmt.Fprintln(b.p, cleaningUp)
}

func (b *bars) Close() {
	b.stop.Do(func() { close(b.done) })
	b.up.Abort(true)
	b.traffic.SetTotal(-1, true)
	b.p.Wait()
}
