package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/moby/client"

	"github.com/firedrill/firedrill/record"
)

// watchEvents follows the Docker events of the run's containers and
// reports instances that die on their own (until the topology goes down).
func (t *run) watchEvents() {
	f := client.Filters{}.
		Add("label", LabelRun+"="+t.opts.RunID).
		Add("type", "container").
		Add("event", "die")
	res := t.c.Events(t.life, client.EventsListOptions{Filters: f})
	t.bg.Go(func() {
		for {
			select {
			case <-t.life.Done():
				return
			case err := <-res.Err:
				if err != nil && t.life.Err() == nil {
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
func (t *run) saveLog(ctx context.Context, name, id string) {
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

// sweepSettle is how long Down waits for container creates that an
// interrupted Up cut off client-side to complete in the daemon.
const sweepSettle = time.Second

// sweep removes everything labelled with the run. After an interrupted create it
// sweeps again until a sweep after sweepSettle finds nothing.
func (t *run) sweep(ctx context.Context) error {
	rounds := 1
	if t.cutOff.Load() {
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
