package reports

import (
	"testing"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/stretchr/testify/assert"
)

func TestFmtNum(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0", 1: "1", 1.5: "1.5", 1.234: "1.23", 12.34: "12.3", 412.6: "413", 12000: "12000",
		0.475: "0.475", 0.0333: "0.0333", 0.1: "0.1", -2.5: "-2.5", 10: "10",
	} {
		assert.Equal(t, want, fmtNum(in), "%v", in)
	}
}

func TestFmtCountAndPlural(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		assert.Equal(t, want, fmtCount(in))
	}
	assert.Equal(t, "1 error", plural(1, "error"))
	assert.Equal(t, "0 errors", plural(0, "error"))
	assert.Equal(t, "2,000 errors", plural(2000, "error"))
}

func TestFmtDur(t *testing.T) {
	for in, want := range map[time.Duration]string{
		850 * time.Millisecond: "850 ms", 16400 * time.Millisecond: "16.4 s",
		125 * time.Second: "2m05s", -2 * time.Second: "-2.0 s",
	} {
		assert.Equal(t, want, fmtDur(in))
	}
}

func TestShortfall(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		e    Expectation
		want string
	}{
		// 0.47 - 0.1 = 0.37 over; 0.47 / 0.1 = 4.7 times the limit.
		{Expectation{Value: f(0.47), Limit: f(0.1), Op: "<=", Unit: "%"}, "over by 0.37% (4.7× the limit)"},
		// 393 - 250 = 143 over; 393 / 250 = 1.572.
		{Expectation{Value: f(393), Limit: f(250), Op: "<", Unit: "ms"}, "over by 143 ms (1.57× the limit)"},
		// A minimum missed: 0.62 power against 0.8 is 0.18 short; 0.62 / 0.8 = 0.775.
		{Expectation{Value: f(0.62), Limit: f(0.8), Op: ">="}, "under by 0.18 (0.775× the limit)"},
		{Expectation{Value: f(3), Limit: f(0), Op: "=="}, "off by 3"},
		{Expectation{Value: f(3), Limit: f(1), Op: "<=", Passed: true}, ""},
		{Expectation{Observed: "93 ms", Threshold: "<= 50 ms"}, ""},
	} {
		assert.Equal(t, tc.want, Shortfall(tc.e))
	}
}

func TestZero(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	traffic := start.Add(3 * time.Second)
	series := start.Add(4 * time.Second)
	r := &Result{StartedAt: start}
	assert.Equal(t, start, Zero(r), "falls back to the run start")
	r.Events = []record.Event{{At: traffic, Kind: record.EvTrafficStarted}}
	assert.Equal(t, traffic, Zero(r), "then the traffic_started event")
	r.SeriesStart = &series
	assert.Equal(t, series, Zero(r), "SeriesStart wins")
}

func TestHeadline(t *testing.T) {
	assert.Equal(t, "no expectations were checked", headline(&Result{}))
	assert.Equal(t, "the one expectation failed; the run failed",
		headline(&Result{Expectations: []Expectation{{}}, Error: "x"}))
	assert.Equal(t, "1 of 2 expectations failed; run interrupted: results are partial",
		headline(&Result{Expectations: []Expectation{{Passed: true}, {}}, Interrupted: true, Error: "x"}))
}

func TestFailedFirstKeepsOrder(t *testing.T) {
	es := []Expectation{{Name: "a", Passed: true}, {Name: "b"}, {Name: "c", Passed: true}, {Name: "d"}}
	var names []string
	for _, e := range failedFirst(es) {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"b", "d", "a", "c"}, names)
	assert.Equal(t, "a", es[0].Name, "the input is not reordered")
}
