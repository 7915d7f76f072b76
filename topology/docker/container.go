package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"
)

// containerReq describes one container of a run.
type containerReq struct {
	name       string // unique suffix: the container is firedrill-<run>-<name>
	image      string
	role       string
	labels     map[string]string // on top of the run's
	aliases    []string          // on the run network
	entrypoint []string
	cmd        []string
	env        map[string]string
	publish    []int // container TCP ports published on 127.0.0.1 (random host ports)
	binds      []string
	autoRemove bool
	wait       wait.Strategy // nil: running is enough
}

// containerName is the Docker name of a run's container.
func containerName(runID, name string) string { return "firedrill-" + runID + "-" + name }

// runContainer creates and starts a container on the run network through
// testcontainers-go and waits for its wait strategy. Ports are published on
// 127.0.0.1 only; nothing is privileged. On error the container, if one was
// created, is returned too (Down removes it by its label anyway).
func (t *run) runContainer(ctx context.Context, r containerReq) (testcontainers.Container, error) {
	labels := RunLabels(t.opts.RunID, t.sc.Name, r.role)
	maps.Copy(labels, r.labels)
	exposed := make([]string, 0, len(r.publish))
	bindings := network.PortMap{}
	loopback := netip.MustParseAddr("127.0.0.1")
	for _, p := range r.publish {
		port := network.MustParsePort(strconv.Itoa(p) + "/tcp")
		exposed = append(exposed, port.String())
		bindings[port] = []network.PortBinding{{HostIP: loopback}}
	}
	var logger tclog.Logger = tclog.NewNoopLogger()
	if os.Getenv("FIREDRILL_DOCKER_DEBUG") != "" {
		logger = tclog.Default()
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Name:           containerName(t.opts.RunID, r.name),
			Image:          r.image,
			Entrypoint:     r.entrypoint,
			Cmd:            r.cmd,
			Env:            r.env,
			Labels:         labels,
			Networks:       []string{t.netName},
			NetworkAliases: map[string][]string{t.netName: r.aliases},
			// Exposing exactly these ports also keeps testcontainers from
			// publishing the image's EXPOSEd ports on every interface.
			ExposedPorts: exposed,
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.PortBindings = bindings
				hc.Binds = r.binds
				hc.AutoRemove = r.autoRemove
				hc.Privileged = false
			},
			WaitingFor: r.wait,
		},
		Started: true,
		Logger:  logger,
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	t.noteCut(ctx, err)
	return ctr, err
}

// hostAddr is 127.0.0.1:<host port> of a container's published port.
func hostAddr(ctx context.Context, c testcontainers.Container, port int) (string, error) {
	p, err := c.MappedPort(ctx, strconv.Itoa(port)+"/tcp")
	if err != nil {
		return "", fmt.Errorf("published port of %d/tcp: %w", port, err)
	}
	return "127.0.0.1:" + p.Port(), nil
}

// containerLogs returns a container's stdout and stderr, interleaved as
// well as Docker keeps them apart; tail "all" or a line count.
func containerLogs(ctx context.Context, c *client.Client, id, tail string) ([]byte, error) {
	rc, err := c.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: tail})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, io.LimitReader(rc, 64<<20)); err != nil {
		return out.Bytes(), err
	}
	return out.Bytes(), nil
}

// logTail is the end of a container's log, indented for an error message.
func logTail(ctx context.Context, c *client.Client, id string, n int) string {
	b, err := containerLogs(ctx, c, id, strconv.Itoa(n))
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return "\n  last lines of its log:\n    " + strings.Join(lines, "\n    ")
}
