package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/firedrill/firedrill/record"
)

// watchEvents follows the Docker events of the run's containers and
// reports instances that die on their own (until the topology goes down).
func (t *topo) watchEvents() {
	f := client.Filters{}.
		Add("label", LabelRun+"="+t.opts.RunID).
		Add("type", "container").
		Add("event", "die")
	res := t.c.Events(t.ctx, client.EventsListOptions{Filters: f})
	t.bg.Go(func() {
		for {
			select {
			case <-t.ctx.Done():
				return
			case err := <-res.Err:
				if err != nil && t.ctx.Err() == nil {
					t.event(record.Event{Kind: EvEventsLost, Message: fmt.Sprintf("docker event stream ended (%v): instances that exit on their own are no longer reported", err)})
				}
				return
			case m := <-res.Messages:
				t.mu.Lock()
				in := t.byName[m.Actor.Attributes["name"]]
				t.mu.Unlock()
				if in != nil {
					in.dieEvent(time.Unix(0, m.TimeNano), m.Actor.Attributes["exitCode"])
				}
			}
		}
	})
}

// saveLog writes a container's log to RunDir/logs/<name>.log (when the run
// has a directory).
func (t *topo) saveLog(ctx context.Context, name, id string) {
	if t.logDir == "" || id == "" {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := containerLogs(lctx, t.c, id, "all")
	if err != nil && len(b) == 0 {
		return
	}
	_ = os.WriteFile(filepath.Join(t.logDir, name+".log"), b, 0o644)
}

// down fetches the routers' last samples, saves the logs, and removes every
// container and the network of the run by its label. Concurrent callers
// wait for the first one's result.
func (t *topo) down(ctx context.Context) error {
	t.downOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, downTimeout)
		defer cancel()
		t.mu.Lock()
		t.closed = true
		t.mu.Unlock()
		t.cancel() // ends an Up still running, the poll loop and the event watcher
		select {
		case <-t.upDone: // Up's fields are settled from here on
		case <-ctx.Done():
			t.downErr = fmt.Errorf("docker runtime: down: Up did not stop: %w; run `firedrill clean`", ctx.Err())
			return
		}
		t.creating.Wait()
		t.bg.Wait()
		t.mu.Lock()
		var all []*instance
		for _, s := range t.order {
			all = append(all, s.insts...)
		}
		t.mu.Unlock()
		if t.c == nil {
			return // Up failed before it reached Docker: nothing was created
		}
		var errs []error
		if t.dp != nil {
			// The samples of the last moments, before the routers go.
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			_, _ = t.dp.poll(pctx)
			pcancel()
			t.dp.close()
		}

		var wg sync.WaitGroup
		ierrs := make([]error, len(all))
		for i, in := range all {
			wg.Go(func() { ierrs[i] = in.remove(ctx, reasonDown) })
		}
		if t.dpCtr != nil {
			wg.Go(func() { t.saveLog(ctx, "dataplane", t.dpCtr.GetContainerID()) })
		}
		wg.Wait()
		errs = append(errs, ierrs...)
		// Everything else labelled with the run: the data plane, the reaper,
		// whatever a failed Up created half-way, and the network.
		if err := t.sweep(ctx); err != nil {
			errs = append(errs, err)
		}
		t.reaper.close()
		_ = t.c.Close()
		if err := errors.Join(errs...); err != nil {
			t.downErr = fmt.Errorf("docker runtime: down: %w; run `firedrill clean` to remove what is left of run %s", err, t.opts.RunID)
		}
	})
	return t.downErr
}

// sweepSettle is how long Down waits for container creates that an
// interrupted Up cut off client-side to complete in the daemon.
const sweepSettle = time.Second

// sweep removes everything labelled with the run. After an interrupted Up it
// sweeps again until a sweep after sweepSettle finds nothing.
func (t *topo) sweep(ctx context.Context) error {
	rounds := 1
	if t.upInterrupted {
		rounds = 5
	}
	var err error
	for i := range rounds {
		var n int
		n, err = removeRun(ctx, t.c, t.opts.RunID, "")
		if i > 0 && n == 0 && err == nil {
			return nil
		}
		if i < rounds-1 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(sweepSettle):
			}
		}
	}
	return err
}

// instancesOf returns a copy of a service's instances (tests).
func (t *topo) instancesOf(service string) []*instance {
	s := t.service(service)
	if s == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(s.insts)
}
