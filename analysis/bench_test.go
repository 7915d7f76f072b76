package analysis

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/firedrill/firedrill/record"
)

func benchArms(n int) (base, can []record.Sample) {
	rng := rand.New(rand.NewPCG(1, 1))
	base, can = make([]record.Sample, n), make([]record.Sample, n)
	simulateArm(rng, ArmModel{ErrorRate: 0.01, LatencyMedian: 20 * time.Millisecond, LatencyLogSD: 0.5}, base)
	simulateArm(rng, ArmModel{ErrorRate: 0.012, LatencyMedian: 21 * time.Millisecond, LatencyLogSD: 0.5}, can)
	return base, can
}

// BenchmarkJudge times one fixed-horizon judgement of 10,000 requests per arm.
func BenchmarkJudge(b *testing.B) {
	base, can := benchArms(10000)
	for b.Loop() {
		if _, err := Judge(JudgeConfig{}, base, can); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExactUnconditional times the small-count test with a large
// baseline arm (200,000 requests) and a thin canary (80).
func BenchmarkExactUnconditional(b *testing.B) {
	for b.Loop() {
		if _, err := ErrorRateTest(200000, 2000, 80, 3, 0.01, 0.05); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSequentialUpdate times one look of the sequential test.
func BenchmarkSequentialUpdate(b *testing.B) {
	s, _ := NewSequentialTest(SequentialConfig{})
	for b.Loop() {
		s.Update(50, 1, 50, 1)
	}
}
