package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Labels on everything a run creates. LabelRun is how Down, the reaper and
// `firedrill clean` find what belongs to a run.
const (
	LabelRun      = "firedrill.run"
	LabelScenario = "firedrill.scenario"
	LabelRole     = "firedrill.role"     // instance | dataplane | reaper
	LabelService  = "firedrill.service"  // instances only
	LabelInstance = "firedrill.instance" // instances only
	// LabelPID and LabelBoot name the harness process (pid and the host's
	// boot id), so that clean can tell a live run from a dead one even
	// without its reaper.
	LabelPID   = "firedrill.pid"
	LabelBoot  = "firedrill.boot"
	LabelImage = "firedrill.image" // on images built by EnsureImage
)

// Container roles.
const (
	RoleInstance  = "instance"
	RoleDataplane = "dataplane"
	RoleReaper    = "reaper"
)

// ryukEnv disables testcontainers' reaper (Ryuk): its image cannot be pulled
// where there is no registry, and the firedrill reaper does the job.
const ryukEnv = "TESTCONTAINERS_RYUK_DISABLED"

// hostOverrideEnv tells testcontainers where published ports are reached.
const hostOverrideEnv = "TESTCONTAINERS_HOST_OVERRIDE"

var setupOnce sync.Once

// setup disables Ryuk before testcontainers reads its configuration (once
// per process) and silences its log lines unless FIREDRILL_DOCKER_DEBUG is
// set.
func setup() error {
	setupOnce.Do(func() {
		if _, ok := os.LookupEnv(ryukEnv); !ok {
			_ = os.Setenv(ryukEnv, "true")
		}
		// Ports are published on 127.0.0.1 only, so that is where the
		// harness reaches them; testcontainers would otherwise guess a
		// gateway address when it finds itself inside a container.
		if _, ok := os.LookupEnv(hostOverrideEnv); !ok {
			_ = os.Setenv(hostOverrideEnv, "127.0.0.1")
		}
		if os.Getenv("FIREDRILL_DOCKER_DEBUG") == "" {
			tclog.SetDefault(tclog.NewNoopLogger())
		}
	})
	if v := os.Getenv(ryukEnv); v != "true" {
		return fmt.Errorf("%s=%q: the Ryuk reaper image cannot be pulled here and firedrill cleans up itself; unset it or set it to true", ryukEnv, v)
	}
	return nil
}

// ErrNoDaemon matches (errors.Is) a failure to reach the Docker daemon.
var ErrNoDaemon = errors.New("no Docker daemon answers")

// Client returns a Docker API client configured as testcontainers-go
// configures its own (DOCKER_HOST, docker context, ~/.testcontainers.properties),
// after checking that the daemon answers. Close it when done.
func Client(ctx context.Context) (*client.Client, error) {
	if err := setup(); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := newClient(pctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v; start Docker or point DOCKER_HOST at a running daemon", ErrNoDaemon, err)
	}
	if _, err := c.Ping(pctx, client.PingOptions{}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%w at %s: %v; start Docker or point DOCKER_HOST at a running daemon", ErrNoDaemon, c.DaemonHost(), err)
	}
	return c, nil
}

// newClient builds the client; testcontainers' discovery panics in some
// corners (no socket at all), which must become an error here.
func newClient(ctx context.Context) (c *client.Client, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("find the Docker daemon: %v", r)
		}
	}()
	tc, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, err
	}
	return tc.Client, nil
}

// Available reports whether a Docker daemon answers (nil) or why not.
func Available(ctx context.Context) error {
	c, err := Client(ctx)
	if err != nil {
		return err
	}
	return c.Close()
}

// dockerSocket is the host path of the daemon's unix socket, to mount into
// the reaper, or "" when the daemon is not reached through a unix socket.
func dockerSocket(ctx context.Context, c *client.Client) (path string) {
	host := c.DaemonHost()
	if !strings.HasPrefix(host, "unix://") {
		return ""
	}
	defer func() {
		if recover() != nil {
			path = strings.TrimPrefix(host, "unix://")
		}
	}()
	// testcontainers knows the cases where the socket to mount differs from
	// the one the client dials (Docker Desktop).
	return testcontainers.MustExtractDockerSocket(ctx)
}

// bootID identifies the current boot of this host, so that a pid label is
// only trusted on the host and boot that wrote it.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// processAlive reports whether pid runs on this host now.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(st), ')')
	if i < 0 || i+2 >= len(st) {
		return true
	}
	s := st[i+2]
	return s != 'Z' && s != 'X'
}

// RunLabels are the labels of everything a run creates (role says what it
// is: instance, dataplane, reaper, network, or a database of topology/pg/pgdocker);
// clean, the reaper and FindLeftovers find them by these.
func RunLabels(runID, scenario, role string) map[string]string {
	return map[string]string{
		LabelRun:      runID,
		LabelScenario: scenario,
		LabelRole:     role,
		LabelPID:      strconv.Itoa(os.Getpid()),
		LabelBoot:     bootID(),
	}
}
