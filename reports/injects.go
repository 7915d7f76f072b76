package reports

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
)

// EvAcknowledged is a responder saying they noticed something (`firedrill
// ack`, the dashboard's button): Fields "by" and "inject" (a fault's name,
// "rollout", or "" for whatever was under way).
const EvAcknowledged = "acknowledged"

// Inject is one thing a game day set loose on its responders (a fault, or
// the new version on traffic) and how they met it.
type Inject struct {
	Name      string     `json:"name"` // the fault's name, or "rollout"
	Kind      string     `json:"kind"` // the fault's kind, or "rollout"
	Note      string     `json:"note,omitempty"`
	Announced bool       `json:"announced"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"` // nil: it was never ended (a promoted release)
	// AcknowledgedAt is the first acknowledgement that covers it (see
	// Covers); TimeToAcknowledgeS is from StartedAt.
	AcknowledgedAt     *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy     string     `json:"acknowledged_by,omitempty"`
	TimeToAcknowledgeS *float64   `json:"time_to_acknowledge_s,omitempty"`
	// MitigatedAt is when its effect ended (EndedAt) and MitigatedBy what
	// ended it: a rollback (and who decided it), a flag, a scheduled revert.
	MitigatedAt     *time.Time `json:"mitigated_at,omitempty"`
	MitigatedBy     string     `json:"mitigated_by,omitempty"`
	TimeToMitigateS *float64   `json:"time_to_mitigate_s,omitempty"`
	Actions         []Action   `json:"actions,omitempty"`
}

// Action is something a person (or the schedule) did while an inject was
// under way: acknowledged, approved, rejected, decided.
type Action struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // acknowledged, gate_approved, gate_rejected, decision
	By   string    `json:"by"`
	What string    `json:"what,omitempty"` // the decision, the inject acknowledged
}

// KindRollout is the kind of the inject that is the new version on traffic.
const KindRollout = "rollout"

// InjectSpec is an inject's script and window, from the scenario and the
// fault and rollout records. EndedBy says what ended it ("scheduled
// revert", "rollback (trigger analysis)").
type InjectSpec struct {
	Name, Kind, Note string
	Announced        bool
	Start            time.Time
	End              *time.Time
	EndedBy          string
}

// Covers says whether an acknowledgement at at, naming named ("" for
// whatever is under way), acknowledges the inject s: a named one once it
// started, an unnamed one while it is under way.
func (s InjectSpec) Covers(at time.Time, named string) bool {
	if at.Before(s.Start) {
		return false
	}
	if named != "" {
		return named == s.Name
	}
	return s.End == nil || !at.After(*s.End)
}

// Injects times each inject's acknowledgement and mitigation from the
// run's events.
func Injects(specs []InjectSpec, events []record.Event) []Inject {
	var out []Inject
	for _, s := range specs {
		in := Inject{Name: s.Name, Kind: s.Kind, Note: s.Note, Announced: s.Announced, StartedAt: s.Start, EndedAt: s.End}
		for _, e := range events {
			a, ok := actionOf(e)
			if !ok || a.At.Before(s.Start) || (s.End != nil && a.At.After(*s.End) && a.Kind != EvAcknowledged) {
				continue
			}
			if a.Kind == EvAcknowledged {
				if !s.Covers(a.At, a.What) {
					continue
				}
				if in.AcknowledgedAt == nil {
					at := a.At
					in.AcknowledgedAt, in.AcknowledgedBy = &at, a.By
					in.TimeToAcknowledgeS = seconds(at.Sub(s.Start))
				}
			}
			in.Actions = append(in.Actions, a)
		}
		if s.End != nil {
			in.MitigatedAt, in.MitigatedBy = s.End, s.EndedBy
			if d := lastDecision(in.Actions); d != nil && s.Kind == KindRollout { // a person's rollback
				in.MitigatedBy += fmt.Sprintf(" after %s by %s", d.Kind, d.By)
			}
			in.TimeToMitigateS = seconds(s.End.Sub(s.Start))
		}
		out = append(out, in)
	}
	return out
}

// actionOf is e as a person's action, when it is one.
func actionOf(e record.Event) (Action, bool) {
	by, _ := e.Fields["by"].(string)
	switch e.Kind {
	case EvAcknowledged:
		what, _ := e.Fields["inject"].(string)
		return Action{At: e.At, Kind: e.Kind, By: by, What: what}, true
	case "gate_approved", "gate_rejected":
		return Action{At: e.At, Kind: e.Kind, By: by}, true
	case "decision":
		what, _ := e.Fields["action"].(string)
		return Action{At: e.At, Kind: e.Kind, By: by, What: what}, true
	}
	return Action{}, false
}

// lastDecision is the last rejection or rollback decision among as: the
// one that ended a rollout a person rolled back.
func lastDecision(as []Action) *Action {
	for i := len(as) - 1; i >= 0; i-- {
		a := as[i]
		if a.Kind == "gate_rejected" || (a.Kind == "decision" && a.What == "rollback") {
			return &as[i]
		}
	}
	return nil
}

func seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}
