// Package local runs a scenario's topology as child processes of the
// harness: one router per service and the embedded Toxiproxy live in the
// harness (dataplane.go), each instance is a process in its own process
// group that dies with the harness (instance.go). The control plane is
// topology/cluster's; this package implements its Launcher and DataPlane.
package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
	"github.com/firedrill/firedrill/topology/router"
	"github.com/firedrill/firedrill/topology/toxi"
)

// DefaultStartTimeout bounds an instance's start when its service sets none.
const DefaultStartTimeout = 30 * time.Second

// Runtime is the local-process runtime; one Runtime runs one topology at a
// time. A failure of the machinery is an *InfraError (errors.Is(err,
// ErrInfra)).
type Runtime = cluster.Runtime

// New returns a local runtime.
func New() *Runtime {
	return cluster.NewRuntime(cluster.Config{
		Name: "local runtime", StartTimeout: DefaultStartTimeout, DownTimeout: 30 * time.Second,
		Leftovers: "look for leftover processes of run %s",
	}, newLauncher)
}

// launcher is one run on this machine: its log directory, its Toxiproxy
// server and data plane, and the instances' processes.
type launcher struct {
	sc   *scenarios.Scenario
	opts topology.Options
	life context.Context

	logDir    string
	tmpLogDir bool // logDir is ours to remove (no RunDir given)
	toxiLog   *os.File
	toxi      *toxi.Server
}

func newLauncher(life context.Context, sc *scenarios.Scenario, opts topology.Options) cluster.Launcher {
	return &launcher{sc: sc, opts: opts, life: life}
}

// Prepare creates the log directory, starts the embedded Toxiproxy and
// returns the in-process data plane.
func (l *launcher) Prepare(ctx context.Context, _ []*cluster.Service) (cluster.DataPlane, error) {
	if err := l.prepareLogs(); err != nil {
		return nil, err
	}
	// The edge proxies reach the routers in memory (router.Directory): both
	// live in this process, so the loopback hop between them is pure cost.
	dir := &router.Directory{}
	srv, err := toxi.StartDialing(ctx, l.toxiLog, dir.DialUpstream)
	if err != nil {
		return nil, &InfraError{Err: fmt.Errorf("start the embedded Toxiproxy: %w", err)}
	}
	l.toxi = srv
	return newDataplane(l.life, l.sc, l.opts, srv, dir), nil
}

// prepareLogs creates RunDir/logs (or a temporary directory) and the
// Toxiproxy log.
func (l *launcher) prepareLogs() error {
	l.tmpLogDir = l.opts.RunDir == ""
	if l.tmpLogDir {
		d, err := os.MkdirTemp("", "firedrill-logs-")
		if err != nil {
			return &InfraError{Err: fmt.Errorf("create a log directory: %w", err)}
		}
		l.logDir = d
	} else {
		l.logDir = filepath.Join(l.opts.RunDir, "logs")
		if err := os.MkdirAll(l.logDir, 0o755); err != nil {
			return &InfraError{Err: fmt.Errorf("create %s: %w; check that the output directory is writable", l.logDir, err)}
		}
	}
	path := filepath.Join(l.opts.RunDir, "toxiproxy.log")
	if l.tmpLogDir {
		path = filepath.Join(l.logDir, "toxiproxy.log")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return &InfraError{Err: fmt.Errorf("create the toxiproxy log: %w", err)}
	}
	l.toxiLog = f
	return nil
}

// Close stops Toxiproxy and closes its log; a temporary log directory goes.
func (l *launcher) Close(ctx context.Context) error {
	var err error
	if l.toxi != nil {
		err = bounded(ctx, "toxiproxy", l.toxi.Close)
	}
	if l.toxiLog != nil {
		_ = l.toxiLog.Close()
	}
	if l.tmpLogDir && l.logDir != "" {
		_ = os.RemoveAll(l.logDir)
	}
	return err
}

// bounded runs a close function, giving up waiting when ctx ends, so that a
// stuck component cannot hang Down (and with it a signal handler).
func bounded(ctx context.Context, what string, close func() error) error {
	done := make(chan error, 1)
	go func() { done <- close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("close %s: did not finish: %w", what, ctx.Err())
	}
}
