package verdict

import (
	"errors"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// migration judges a migration: it ran (its verify query counting 0),
// within max_duration and max_lock_wait, and app's old version kept
// serving min_availability of its requests from the migration to the end.
func migration(ev *Evidence, e *scenarios.Expectation, d *Database, x *reports.Expectation, _ *Findings) {
	x.Threshold = "runs"
	if e.MaxDuration > 0 {
		x.Threshold += ", within " + e.MaxDuration.String()
	}
	if e.MaxLockWait > 0 {
		x.Threshold += ", lock waits <= " + e.MaxLockWait.String()
	}
	var m *Migration
	for i := range d.Migrations {
		if d.Migrations[i].Name == e.Migration {
			m = &d.Migrations[i]
		}
	}
	if m == nil {
		x.Observed, x.Detail = "did not run", "the migrate action "+e.Migration+" never ran"
		return
	}
	var problems []error
	detail := fmt.Sprintf("ran in %s, longest lock wait %s (%d waiting at most)", m.Took.Round(time.Millisecond),
		m.MaxLockWait.Round(time.Millisecond), m.MaxWaiters)
	if m.Verified && m.VerifyErr == nil {
		detail = fmt.Sprintf("verify_sql counted %d; ", m.Verify) + detail
	}
	if m.Err != nil {
		problems = append(problems, m.Err)
	}
	if e.MaxDuration > 0 && m.Took > e.MaxDuration.D() {
		problems = append(problems, fmt.Errorf("took %s, more than %s", m.Took.Round(time.Millisecond), e.MaxDuration))
	}
	if e.MaxLockWait > 0 && m.MaxLockWait > e.MaxLockWait.D() {
		problems = append(problems, fmt.Errorf("a query waited %s on a lock, more than %s", m.MaxLockWait.Round(time.Millisecond), e.MaxLockWait))
	}
	x.Observed = "ran"
	if app := ev.Scenario.Service(e.App); app != nil && !m.At.IsZero() {
		problems = append(problems, oldVersionServes(ev, e, app, m, x, &detail)...)
	}
	x.Passed = len(problems) == 0
	if err := errors.Join(problems...); err != nil {
		if m.Err != nil {
			x.Observed = "failed"
		}
		detail = err.Error() + "; " + detail
	}
	x.Detail = detail
}

// oldVersionServes checks that app's old version served its requests after
// the migration started: a backward-incompatible migration breaks it.
func oldVersionServes(ev *Evidence, e *scenarios.Expectation, app *scenarios.Service, m *Migration, x *reports.Expectation, detail *string) []error {
	x.Threshold += fmt.Sprintf(", %s %s serves >= %.4g%% after it", app.Name, app.Version, 100*e.MinAvailability)
	s := analysis.Summarize(ev.Samples.Select(record.Filter{Source: record.Hop, Service: app.Name, Version: app.Version, From: m.At.Sub(ev.T0)}))
	if s.Requests == 0 {
		return []error{fmt.Errorf("%s %s served no request after the migration: backward compatibility was not exercised", app.Name, app.Version)}
	}
	avail := 1 - s.ErrorRate
	x.Observed = fmt.Sprintf("ran; %s %s served %.2f%%", app.Name, app.Version, 100*avail)
	setNum(x, 100*avail, ">=", 100*e.MinAvailability, "%")
	*detail += fmt.Sprintf("; after it %s %s answered %d of %d requests", app.Name, app.Version, s.Requests-s.Errors, s.Requests)
	if avail < e.MinAvailability {
		return []error{fmt.Errorf("the old version %s of %s failed %d of %d requests after it: the migration is not backward compatible",
			app.Version, app.Name, s.Errors, s.Requests)}
	}
	return nil
}
