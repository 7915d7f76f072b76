package simulator

import (
	"sync"
	"time"
)

// StepClock is virtual time for a single actor: After(d) moves time forward
// by d at once. It lets a controller run through minutes of rollout in
// microseconds, deterministically, when nothing else shares its time.
type StepClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewStepClock starts virtual time at t.
func NewStepClock(t time.Time) *StepClock { return &StepClock{now: t} }

func (c *StepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *StepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	t := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- t
	return ch
}
