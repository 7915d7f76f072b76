package history

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Release is what the gate is asked about: a scenario file as it is now.
type Release struct {
	Scenario string
	Risk     string // "" the policy's default_risk
	Version  string // the version the scenario rolls out ("" none)
	FileHash string
}

// Verdict is the gate's answer: the release may go when Reasons is empty.
type Verdict struct {
	Risk     string
	Evidence *Run     // the GO rehearsal the gate accepted, if any
	Approved []string // who approved the version
	Reasons  []string // one line per reason the release may not go
}

// Go reports whether the release may go.
func (v *Verdict) Go() bool { return len(v.Reasons) == 0 }

// Gate decides with the store's runs and decisions (st may be nil: no
// history, so no evidence and no approvals).
func Gate(ctx context.Context, p *Policy, st *Store, rel Release, at time.Time) (*Verdict, error) {
	var runs []Run
	var decisions []Decision
	if st != nil {
		var err error
		if runs, err = st.Runs(ctx, Filter{Scenario: rel.Scenario, Until: at, Kind: KindRun}); err != nil {
			return nil, err
		}
		if decisions, err = st.Decisions(ctx, rel.Scenario); err != nil {
			return nil, err
		}
	}
	return Decide(p, rel, runs, decisions, at), nil
}

// Decide is the gate's pure logic over the scenario's runs (oldest first)
// and decisions.
func Decide(p *Policy, rel Release, runs []Run, decisions []Decision, at time.Time) *Verdict {
	runs = LiveRuns(runs) // a simulation is never a rehearsal, passing or failing
	v := &Verdict{Risk: rel.Risk}
	if v.Risk == "" {
		v.Risk = p.DefaultRisk
	}
	for _, fz := range p.Freezes {
		if !at.Before(fz.From) && at.Before(fz.To) && (len(fz.Risks) == 0 || slices.Contains(fz.Risks, v.Risk)) {
			v.Reasons = append(v.Reasons, fmt.Sprintf("freeze %q until %s", fz.Name, fz.To.UTC().Format(time.RFC3339)))
		}
	}
	if v.Risk == "" {
		v.Reasons = append(v.Reasons, fmt.Sprintf("scenario %s has no risk: and the policy %s no default_risk; add risk: low|medium|high to the scenario", rel.Scenario, p.file))
		return v
	}
	class := p.RiskClasses[v.Risk]
	if class == nil {
		v.Reasons = append(v.Reasons, fmt.Sprintf("risk %q has no class in the policy %s; add risk_classes.%s", v.Risk, p.file, v.Risk))
		return v
	}
	v.Reasons = append(v.Reasons, evidence(v, class, rel, runs, at)...)
	if class.Approvals > 0 {
		v.Approved = approvers(class, rel, decisions, at)
		if len(v.Approved) < class.Approvals {
			who := "none yet"
			if len(v.Approved) > 0 {
				who = "approved by " + strings.Join(v.Approved, ", ")
			}
			v.Reasons = append(v.Reasons, fmt.Sprintf("approvals missing: %d of %d for %s %s (%s); firedrill history approve FILE --by NAME",
				class.Approvals-len(v.Approved), class.Approvals, rel.Scenario, versionLabel(rel.Version), who))
		}
	}
	return v
}

// evidence finds the newest GO rehearsal of the release within max_age
// that passed every required kind, and otherwise says what is missing.
func evidence(v *Verdict, class *RiskClass, rel Release, runs []Run, at time.Time) []string {
	var fresh []*Run
	var lastGO *Run
	for i := range runs {
		r := &runs[i]
		if !r.GO() || r.Interrupted || r.Version != rel.Version || r.StartedAt.After(at) ||
			(class.SameFile && r.FileHash != rel.FileHash) {
			continue
		}
		lastGO = r
		if class.MaxAge == 0 || at.Sub(r.EndedAt) <= time.Duration(class.MaxAge) {
			fresh = append(fresh, r)
		}
	}
	what := fmt.Sprintf("%s %s", rel.Scenario, versionLabel(rel.Version))
	if class.SameFile {
		what += " (this file)"
	}
	if len(fresh) == 0 {
		within := ""
		if class.MaxAge > 0 {
			within = " within " + class.MaxAge.String()
		}
		last := "never"
		if lastGO != nil {
			last = fmt.Sprintf("last: run #%d at %s, %s ago", lastGO.ID, lastGO.EndedAt.UTC().Format(time.RFC3339), roundAge(at.Sub(lastGO.EndedAt)))
		}
		return []string{fmt.Sprintf("no passing rehearsal of %s%s (%s)", what, within, last)}
	}
	var best []string
	for i := len(fresh) - 1; i >= 0; i-- {
		missing := missingKinds(class.Require, fresh[i])
		if len(missing) == 0 {
			v.Evidence = fresh[i]
			return laterNoGo(fresh[i], class, rel, runs, at, what)
		}
		if i == len(fresh)-1 {
			best = missing
		}
	}
	newest := fresh[len(fresh)-1]
	out := make([]string, len(best))
	for i, k := range best {
		out[i] = fmt.Sprintf("required check %s missing from run #%d, the newest passing rehearsal of %s", k, newest.ID, what)
	}
	return out
}

// laterNoGo says when a rehearsal of the release after the evidence was
// NO-GO: the newest word on the version wins over an older GO.
func laterNoGo(ev *Run, class *RiskClass, rel Release, runs []Run, at time.Time, what string) []string {
	for i := len(runs) - 1; i >= 0; i-- {
		r := &runs[i]
		if r.Interrupted || r.Version != rel.Version || r.StartedAt.After(at) || !r.StartedAt.After(ev.StartedAt) ||
			(class.SameFile && r.FileHash != rel.FileHash) {
			continue
		}
		if !r.GO() {
			return []string{fmt.Sprintf("the newest rehearsal of %s, run #%d at %s, was NO-GO (after the passing run #%d); rehearse again",
				what, r.ID, r.EndedAt.UTC().Format(time.RFC3339), ev.ID)}
		}
	}
	return nil
}

// missingKinds lists the required kinds the run has not passed.
func missingKinds(require []string, r *Run) []string {
	var out []string
	for _, k := range require {
		ok := false
		for _, x := range r.Expectations {
			ok = ok || (x.Kind == k && x.Passed)
		}
		if !ok {
			out = append(out, k)
		}
	}
	return out
}

// approvers are the people whose approval of the release stands at `at`
// (approved, and not revoked since).
func approvers(class *RiskClass, rel Release, decisions []Decision, at time.Time) []string {
	sort.SliceStable(decisions, func(i, j int) bool { return decisions[i].At.Before(decisions[j].At) })
	stands := map[string]bool{}
	for _, d := range decisions {
		if d.Scenario != rel.Scenario || d.Version != rel.Version || d.At.After(at) ||
			(class.SameFile && d.FileHash != rel.FileHash) {
			continue
		}
		switch d.Kind {
		case DecisionApproval:
			stands[d.Actor] = true
		case DecisionRevoke:
			delete(stands, d.Actor)
		}
	}
	out := make([]string, 0, len(stands))
	for a := range stands {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func versionLabel(v string) string {
	if v == "" {
		return "(no rollout)"
	}
	return v
}

func roundAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}
