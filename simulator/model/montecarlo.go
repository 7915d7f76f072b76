package model

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firedrill/firedrill/scenarios"
)

// Options of Simulate.
type Options struct {
	Trials  int    // default 1000
	Seed    uint64 // trial i's seed derives from Seed and i alone
	Workers int    // default GOMAXPROCS; never changes the figures
	// Progress, when set, is called after each trial with the number done
	// (from the workers' goroutines).
	Progress func(done int)
}

// DefaultTrials is the trials of Simulate when Options.Trials is 0.
const DefaultTrials = 1000

// TrialSeed is trial i's seed: a SplitMix64 mix of seed and i, so that a
// trial's figures do not depend on which worker ran it, or when.
func TrialSeed(seed uint64, i int) uint64 {
	return splitmix(seed ^ splitmix(uint64(i)+0x632be59bd9b4e019))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Simulate runs opt.Trials trials of sc's rollout and sums them up. Its
// memory does not grow with the trials: each worker folds its trials into
// counts and histograms of integer values (milliseconds, requests).
func Simulate(ctx context.Context, sc *scenarios.Scenario, opt Options) (*Summary, error) {
	top, err := Build(sc)
	if err != nil {
		return nil, err
	}
	return SimulateTopology(ctx, top, opt)
}

// SimulateTopology is Simulate on a model already built.
func SimulateTopology(ctx context.Context, top *Topology, opt Options) (*Summary, error) {
	start := time.Now()
	if opt.Trials <= 0 {
		opt.Trials = DefaultTrials
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	opt.Workers = min(opt.Workers, opt.Trials)
	var next, done atomic.Int64
	accs := make([]*acc, opt.Workers)
	errs := make([]error, opt.Workers)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obj := objective(top.Scenario)
	var wg sync.WaitGroup
	for k := range opt.Workers {
		accs[k] = newAcc(len(top.Scenario.Expectations))
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= opt.Trials || ctx.Err() != nil {
					return
				}
				tr, err := RunTrial(ctx, top, TrialSeed(opt.Seed, i))
				if err != nil {
					errs[k] = fmt.Errorf("trial %d: %w", i, err)
					cancel()
					return
				}
				accs[k].add(tr, obj)
				d := done.Add(1)
				if opt.Progress != nil {
					opt.Progress(int(d))
				}
			}
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, fmt.Errorf("simulation interrupted after %d of %d trials: %w", done.Load(), opt.Trials, err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	total := newAcc(len(top.Scenario.Expectations))
	for _, a := range accs {
		total.merge(a)
	}
	s := total.summary(top, opt)
	s.WallS = time.Since(start).Seconds()
	return s, nil
}
