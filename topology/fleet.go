package topology

import (
	"context"
	"fmt"
)

// What the local and docker runtimes share about their instances: the
// lifecycle lock of one instance, and the lists of a service's instances
// (kept by each runtime under its own lock, in start order).

// OpLock serialises one instance's lifecycle operations (kill, start,
// restart, stop) so that a start never races the exit of what it replaces.
// Unlike a mutex, taking it gives up when ctx ends.
type OpLock chan struct{}

// NewOpLock returns an unlocked OpLock.
func NewOpLock() OpLock { return make(OpLock, 1) }

// Lock takes the lock for the instance named name, or fails when ctx ends.
func (l OpLock) Lock(ctx context.Context, name string) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("instance %s: busy with another operation: %w", name, ctx.Err())
	}
}

// Unlock releases the lock.
func (l OpLock) Unlock() { <-l }

// Member is what the list helpers need of a runtime's instance.
type Member interface {
	Instance
	// Index is the instance's number within its version (name suffix).
	Index() int
}

// OfVersion returns the instances of version ("" for all), in order.
func OfVersion[I Member](ins []I, version string) []I {
	var out []I
	for _, in := range ins {
		if version == "" || in.Version() == version {
			out = append(out, in)
		}
	}
	return out
}

// NextIndex is the index the next instance of version gets: one past the
// highest in use, so that names stay unique after retirements.
func NextIndex[I Member](ins []I, version string) int {
	next := 0
	for _, in := range ins {
		if in.Version() == version {
			next = max(next, in.Index()+1)
		}
	}
	return next
}

// AsInstances returns ins as the Instance interface.
func AsInstances[I Member](ins []I) []Instance {
	out := make([]Instance, len(ins))
	for i, in := range ins {
		out[i] = in
	}
	return out
}

// Oldest returns the n oldest of ins (instances of service's version), for
// RetireInstances; asking for more than there are is an error.
func Oldest[I Member](ins []I, n int, service, version string) ([]I, error) {
	if n > len(ins) {
		return nil, fmt.Errorf("retire %d instance(s) of %s version %s: it has %d", n, service, version, len(ins))
	}
	return ins[:max(n, 0)], nil
}
