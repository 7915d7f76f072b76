package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/firedrill/firedrill/record"
)

// debriefLines is the game-day debrief: for each thing that went wrong
// (a fault, the new version on traffic), what noticed it (an alert, and
// how fast), what people decided and when, and when it was over; then the
// alerts that stayed silent or cried wolf. Empty without alerts or
// decisions to speak of.
func debriefLines(r *Result) []string {
	decisions := decisionEvents(r)
	if len(r.Alerts) == 0 && len(decisions) == 0 && len(r.Injects) == 0 {
		return nil
	}
	z := Zero(r)
	var out []string
	if len(r.Injects) > 0 { // the game-day script's own timings (injects.go)
		for _, in := range r.Injects {
			out = append(out, injectLine(r, z, in))
		}
	} else {
		out = append(out, windowLines(r, z, decisions)...)
	}
	for _, a := range r.Alerts {
		switch {
		case a.Error != "":
			out = append(out, fmt.Sprintf("alert %s could not be evaluated: %s", a.Name, a.Error))
		case !a.Fired:
			out = append(out, fmt.Sprintf("alert %s never fired", a.Name))
		case a.FalseAlarms > 0:
			out = append(out, fmt.Sprintf("alert %s: %d false alarms (firings outside every fault and the rollout)", a.Name, a.FalseAlarms))
		}
	}
	return out
}

// windowLines debriefs the faults and the release of a run without
// game-day injects: what noticed each, who decided what, when it was over.
func windowLines(r *Result, z time.Time, decisions []record.Event) []string {
	var out []string
	inject := func(name string, from time.Time, to *time.Time) {
		line := fmt.Sprintf("%s at %s: %s", name, fmtRel(relSec(z, from)), noticedBy(r, name, from))
		for _, d := range decisions {
			if !d.At.Before(from) && (to == nil || !d.At.After(to.Add(30*time.Second))) {
				line += fmt.Sprintf("; %s by %v after %.1fs", d.Kind, d.Fields["by"], d.At.Sub(from).Seconds())
			}
		}
		if to != nil {
			line += fmt.Sprintf("; over after %.1fs", to.Sub(from).Seconds())
		}
		out = append(out, line)
	}
	for _, f := range r.Faults {
		if f.InjectedAt != nil {
			inject("fault "+f.Name, *f.InjectedAt, f.RevertedAt)
		}
	}
	if ro := r.Rollout; ro.RegressionAt != nil {
		end := ro.TrafficRestoredAt // promoted: the new version stays
		if end == nil && ro.Outcome == RolledBack {
			end = ro.CompletedAt
		}
		inject("rollout", *ro.RegressionAt, end)
	}
	return out
}

// Unannounced starts the debrief line of an inject responders were not
// told of (reports highlight it).
const Unannounced = "UNANNOUNCED: "

// injectLine is one inject of a game day: what happened (and the
// facilitator's note) against who noticed it, alert or person, and when.
func injectLine(r *Result, z time.Time, in Inject) string {
	name := "fault " + in.Name
	if in.Kind == KindRollout {
		name = "rollout"
	}
	head := fmt.Sprintf("%s at %s", name, fmtRel(relSec(z, in.StartedAt)))
	if !in.Announced {
		head = Unannounced + head
	}
	if in.Note != "" {
		head += fmt.Sprintf(" (note: %s)", strings.Join(strings.Fields(in.Note), " "))
	}
	line := head + ": " + noticedBy(r, name, in.StartedAt)
	if in.TimeToAcknowledgeS != nil {
		line += fmt.Sprintf("; acknowledged by %s after %.1fs", in.AcknowledgedBy, *in.TimeToAcknowledgeS)
	} else {
		line += "; nobody acknowledged it"
	}
	for _, a := range in.Actions {
		if a.Kind != EvAcknowledged {
			line += fmt.Sprintf("; %s by %s after %.1fs", a.Kind, a.By, a.At.Sub(in.StartedAt).Seconds())
		}
	}
	if in.TimeToMitigateS != nil {
		line += fmt.Sprintf("; mitigated after %.1fs by %s", *in.TimeToMitigateS, in.MitigatedBy)
	} else {
		line += "; never mitigated (it stayed)"
	}
	return line
}

// noticedBy says which alerts fired on the window called name, and how
// fast after from.
func noticedBy(r *Result, name string, from time.Time) string {
	var noticed []string
	z := Zero(r)
	for _, a := range r.Alerts {
		for _, f := range a.Firings {
			if f.Window == name {
				noticed = append(noticed, fmt.Sprintf("%s fired after %.1fs", a.Name, f.StartS-relSec(z, from)))
				break
			}
		}
	}
	if len(noticed) == 0 {
		return "no alert fired"
	}
	return strings.Join(noticed, ", ")
}

// decisionEvents are the decisions people (or the schedule) made: gates
// approved or rejected, alerts acted on.
func decisionEvents(r *Result) []record.Event {
	var out []record.Event
	for _, e := range r.Events {
		switch e.Kind {
		case "gate_approved", "gate_rejected", "decision":
			out = append(out, e)
		}
	}
	return out
}

// htmlDebrief is one debrief line of the HTML report; Unannounced ones
// are highlighted.
type htmlDebrief struct {
	Text        string
	Unannounced bool
}

func htmlDebriefOf(r *Result) []htmlDebrief {
	var out []htmlDebrief
	for _, l := range debriefLines(r) {
		rest, quiet := strings.CutPrefix(l, Unannounced)
		out = append(out, htmlDebrief{Text: rest, Unannounced: quiet})
	}
	return out
}
