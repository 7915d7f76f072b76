package rehearsal

import (
	"fmt"
	"strings"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// The game-day script: the faults and the new version on traffic are
// injects, announced to responders or not; responders acknowledge them
// through the control endpoint (`firedrill ack`, the dashboard) and the
// result times acknowledgement and mitigation per inject.

// injects times the injects of a game day: a scenario that scripts any
// (a note, announce) or a run somebody acknowledged something in.
func (r *rehearsal) injects() []reports.Inject {
	events := r.events.Events()
	script := r.sc.Rollout != nil && (r.sc.Rollout.Note != "" || r.sc.Rollout.Announce != nil)
	for _, f := range r.sc.Faults {
		script = script || f.Note != "" || f.Announce != nil
	}
	for _, e := range events {
		script = script || e.Kind == reports.EvAcknowledged
	}
	if !script {
		return nil
	}
	return reports.Injects(r.injectSpecs(), events)
}

// injectSpecs are the run's injects as they happened (for the result).
func (r *rehearsal) injectSpecs() []reports.InjectSpec {
	var out []reports.InjectSpec
	for i, f := range r.res.Faults {
		if f.InjectedAt == nil || i >= len(r.sc.Faults) {
			continue
		}
		sf := r.sc.Faults[i]
		out = append(out, reports.InjectSpec{Name: f.Name, Kind: f.Kind, Note: sf.Note, Announced: scenarios.Announced(sf.Announce),
			Start: *f.InjectedAt, End: f.RevertedAt, EndedBy: "scheduled revert"})
	}
	ro := r.res.Rollout
	if r.sc.Rollout == nil || ro.RegressionAt == nil {
		return out
	}
	s := reports.InjectSpec{Name: scenarios.InjectRollout, Kind: reports.KindRollout, Note: r.sc.Rollout.Note,
		Announced: scenarios.Announced(r.sc.Rollout.Announce), Start: *ro.RegressionAt}
	switch {
	case ro.Audit != nil && ro.Audit.MitigatedAt != nil:
		s.End, s.EndedBy = ro.Audit.MitigatedAt, "flag "+ro.Audit.Mitigation+" turned off"
	case ro.Outcome == reports.RolledBack:
		s.End = firstSet(ro.TrafficRestoredAt, ro.CompletedAt, ro.RollbackStartedAt)
		s.EndedBy = fmt.Sprintf("rollback (trigger %s)", ro.Trigger)
	}
	return append(out, s)
}

// liveInjects are the injects so far, from the run's events: what an
// acknowledgement during the run may cover.
func (r *rehearsal) liveInjects() []reports.InjectSpec {
	byName := map[string]*reports.InjectSpec{}
	var order []string
	announced := map[string]bool{}
	for _, f := range r.sc.Faults {
		announced[f.Name] = scenarios.Announced(f.Announce)
	}
	if r.sc.Rollout != nil {
		announced[scenarios.InjectRollout] = scenarios.Announced(r.sc.Rollout.Announce)
	}
	for _, e := range r.events.Events() {
		name, _ := e.Fields["fault"].(string)
		switch e.Kind {
		case record.EvRolloutStarted:
			name = scenarios.InjectRollout
		case record.EvFaultInjected:
		case record.EvFaultReverted, record.EvRollbackCompleted:
			if e.Kind == record.EvRollbackCompleted {
				name = scenarios.InjectRollout
			}
			if s := byName[name]; s != nil && s.End == nil {
				at := e.At
				s.End = &at
			}
			continue
		default:
			continue
		}
		if byName[name] == nil {
			byName[name] = &reports.InjectSpec{Name: name, Start: e.At, Announced: announced[name]}
			order = append(order, name)
		}
	}
	out := make([]reports.InjectSpec, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

// acknowledge records that by acknowledged inject ("" for whatever is
// under way). It names the announced injects covered and only counts the
// others: an acknowledgement must not tell responders what to look for.
func (r *rehearsal) acknowledge(by, inject string) ([]string, error) {
	if inject != "" && !r.isInject(inject) {
		return nil, fmt.Errorf("no inject is called %q in this run (leave the name out to acknowledge whatever is under way)", inject)
	}
	var covered []string
	quiet, now := 0, time.Now()
	for _, s := range r.liveInjects() {
		if !s.Covers(now, inject) {
			continue
		}
		if s.Announced {
			covered = append(covered, s.Name)
		} else {
			quiet++
		}
	}
	if len(covered) == 0 && quiet == 0 {
		if inject != "" {
			return nil, fmt.Errorf("%w: %s has not started", control.ErrNothingToAck, inject)
		}
		return nil, control.ErrNothingToAck
	}
	r.events.Add(record.Event{Kind: reports.EvAcknowledged, Message: ackMessage(by, inject),
		Fields: map[string]any{"by": by, "inject": inject}})
	if quiet > 0 {
		covered = append(covered, fmt.Sprintf("%d unannounced", quiet))
	}
	return covered, nil
}

func ackMessage(by, inject string) string {
	if inject == "" {
		return by + " acknowledged what is under way"
	}
	return by + " acknowledged " + inject
}

func (r *rehearsal) isInject(name string) bool {
	if name == scenarios.InjectRollout {
		return r.sc.Rollout != nil
	}
	for _, f := range r.sc.Faults {
		if f.Name == name && strings.TrimSpace(name) != "" {
			return true
		}
	}
	return false
}

// firstSet is the first of ts that is set.
func firstSet(ts ...*time.Time) *time.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}
