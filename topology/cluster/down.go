package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// down stops routing, removes every instance, then lets the launcher
// release the rest. Concurrent callers wait for the first one's result.
func (c *Cluster) down(ctx context.Context) error {
	c.downOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.DownTimeout)
		defer cancel()
		c.mu.Lock()
		c.closed = true // no start begins from here on
		c.mu.Unlock()
		c.cancel() // ends an Up or a Deploy still running, and the launcher's background work
		if err := wait(ctx, c.upDone, &c.launching); err != nil {
			c.downErr = fmt.Errorf("%s: down: %w; "+c.cfg.Leftovers, c.cfg.Name, err, c.opts.RunID)
			return
		}
		// Up's and every start's state is settled from here on.
		c.mu.Lock()
		var all []Instance
		for _, s := range c.order {
			all = append(all, s.insts...)
		}
		c.mu.Unlock()
		var errs []error
		if c.dp != nil {
			// Routers first, so no new traffic reaches instances being stopped.
			errs = append(errs, c.dp.Close(ctx))
		}
		ierrs := make([]error, len(all))
		var wg sync.WaitGroup
		for i, in := range all {
			wg.Go(func() { ierrs[i] = in.Remove(ctx, ReasonDown) })
		}
		wg.Wait()
		errs = append(errs, ierrs...)
		errs = append(errs, c.launcher.Close(ctx))
		if err := errors.Join(errs...); err != nil {
			c.downErr = fmt.Errorf("%s: down: %w; "+c.cfg.Leftovers, c.cfg.Name, err, c.opts.RunID)
		}
	})
	return c.downErr
}

// wait waits until up returned and no start is in flight, or ctx ends.
func wait(ctx context.Context, upDone <-chan struct{}, starts *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		<-upDone
		starts.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("a start did not stop: %w", ctx.Err())
	}
}
