package reports

import (
	"fmt"
	"math"
	"time"
)

// RecentRun is a run of the same scenario from the run history, for the
// report's trend. The caller that has a store fills Result.Recent; reports
// never reads one.
type RecentRun struct {
	ID        int64     `json:"id"`
	StartedAt time.Time `json:"started_at"`
	Version   string    `json:"version,omitempty"`
	Verdict   string    `json:"verdict"`
	DetectS   *float64  `json:"detect_s,omitempty"`
	P99MS     *float64  `json:"p99_ms,omitempty"`
	// This marks the run the report is about.
	This bool `json:"this,omitempty"`
}

// htmlRecent is one row of the report's recent history.
type htmlRecent struct {
	ID                                     int64
	Started, Version, Verdict, Detect, P99 string
	This, GO                               bool
}

// htmlTrend is the recent history as sparklines, oldest first.
type htmlTrend struct{ Verdicts, Detect, P99 string }

func recentView(rs []RecentRun) ([]htmlRecent, htmlTrend) {
	rows := make([]htmlRecent, len(rs))
	var tr htmlTrend
	detect, p99 := make([]*float64, len(rs)), make([]*float64, len(rs))
	for i, r := range rs {
		rows[i] = htmlRecent{ID: r.ID, Started: r.StartedAt.UTC().Format("2006-01-02 15:04"), Version: r.Version,
			Verdict: r.Verdict, Detect: fmtOpt(r.DetectS, "%.2f s"), P99: fmtOpt(r.P99MS, "%.0f ms"), This: r.This, GO: r.Verdict == GO}
		if r.Verdict == GO {
			tr.Verdicts += "█"
		} else {
			tr.Verdicts += "▁"
		}
		detect[i], p99[i] = r.DetectS, r.P99MS
	}
	tr.Detect, tr.P99 = Sparkline(detect), Sparkline(p99)
	return rows, tr
}

func fmtOpt(v *float64, format string) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf(format, *v)
}

// Sparkline draws values as block characters scaled between their min and
// max; a nil value (not measured) is a space (also `firedrill history`).
func Sparkline(vals []*float64) string {
	blocks := []rune("▁▂▃▄▅▆▇█")
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if v != nil {
			lo, hi = math.Min(lo, *v), math.Max(hi, *v)
		}
	}
	out := make([]rune, len(vals))
	for i, v := range vals {
		switch {
		case v == nil:
			out[i] = ' '
		case hi == lo:
			out[i] = blocks[len(blocks)/2]
		default:
			out[i] = blocks[int(math.Round((*v-lo)/(hi-lo)*float64(len(blocks)-1)))]
		}
	}
	return string(out)
}
