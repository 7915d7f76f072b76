package cluster

import (
	"context"
	"fmt"
)

// OpLock serialises one instance's lifecycle operations (kill, start,
// restart, stop) so that a start never races the exit of what it replaces.
// Unlike a mutex, taking it gives up when ctx ends. Runtimes' instances use
// it.
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
