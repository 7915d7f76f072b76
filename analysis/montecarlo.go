package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/firedrill/firedrill/record"
)

// ArmModel is a statistical model of one version's requests for simulation:
// independent errors at ErrorRate and log-normal latencies.
type ArmModel struct {
	ErrorRate     float64
	LatencyMedian time.Duration
	// LatencyLogSD is the standard deviation of ln(latency); 0 makes every
	// latency equal to the median.
	LatencyLogSD float64
}

// MonteCarloConfig is one power case: the judge, the arms' sizes and their
// models (identical models give the judge's false-alarm rate).
type MonteCarloConfig struct {
	Judge              JudgeConfig
	BaselineN, CanaryN int
	Baseline, Canary   ArmModel
}

// MonteCarloResult is the share of trials with each outcome.
type MonteCarloResult struct {
	Trials int
	// Fail is the share of trials the judge failed: its power against the
	// modelled regression (or its false-alarm rate for equal arms).
	Fail float64
	// NotPass counts marginal verdicts as well.
	NotPass float64
	// High is, per metric name, the share of trials it was classed high.
	High map[string]float64
}

// MonteCarloPower runs the judge on trials simulated canaries drawn from
// cfg's models, seeded: the same seed gives the same result.
func MonteCarloPower(cfg MonteCarloConfig, trials int, seed uint64) (MonteCarloResult, error) {
	if trials <= 0 {
		return MonteCarloResult{}, fmt.Errorf("monte-carlo needs at least one trial, got %d", trials)
	}
	if cfg.BaselineN <= 0 || cfg.CanaryN <= 0 {
		return MonteCarloResult{}, fmt.Errorf("monte-carlo needs requests in both arms (baseline %d, canary %d)", cfg.BaselineN, cfg.CanaryN)
	}
	jc := cfg.Judge.WithDefaults()
	if err := jc.Validate(); err != nil {
		return MonteCarloResult{}, err
	}
	jc.classOnly = true // effects do not change verdicts; skip their cost
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	base := make([]record.Sample, cfg.BaselineN)
	can := make([]record.Sample, cfg.CanaryN)
	res := MonteCarloResult{Trials: trials, High: map[string]float64{}}
	for range trials {
		simulateArm(rng, cfg.Baseline, base)
		simulateArm(rng, cfg.Canary, can)
		j, err := Judge(jc, base, can)
		if err != nil {
			return MonteCarloResult{}, err
		}
		if j.Verdict == VerdictFail {
			res.Fail++
		}
		if j.Verdict == VerdictFail || j.Verdict == VerdictMarginal {
			res.NotPass++
		}
		for _, m := range j.Metrics {
			if m.Class == ClassHigh {
				res.High[m.Name]++
			}
		}
	}
	t := float64(trials)
	res.Fail /= t
	res.NotPass /= t
	for k := range res.High {
		res.High[k] /= t
	}
	return res, nil
}

// simulateArm fills out with samples drawn from m.
func simulateArm(rng *rand.Rand, m ArmModel, out []record.Sample) {
	med := float64(m.LatencyMedian / time.Microsecond)
	for i := range out {
		s := record.Sample{At: int64(i), Status: 200, Source: record.Hop}
		if rng.Float64() < m.ErrorRate {
			s.Status = 500
		}
		us := med
		if m.LatencyLogSD > 0 {
			us = med * math.Exp(m.LatencyLogSD*rng.NormFloat64())
		}
		s.LatencyUS = uint32(math.Min(math.Round(us), math.MaxUint32))
		out[i] = s
	}
}
