package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// cpuPeriod is the CFS period a CPU limit is expressed in (Docker's
// default, 100 ms): a limit of c CPUs is a quota of c x cpuPeriod.
const cpuPeriod = 100_000

// MinCPUs and MinMemory are the smallest limits the engine accepts (a 1 ms
// CFS quota; Docker's 6 MB floor).
const (
	MinCPUs   = 0.01
	MinMemory = 6 << 20
)

// LimitResources changes the container's CPU limit (cpus > 0) and memory
// limit (memory > 0, bytes, no swap beyond it) live, with the engine's own
// ContainerUpdate; the revert puts back what the container had. The
// engine cannot unset a memory limit, so a container that had none gets
// the host's memory (and twice that with swap) back: no limit in effect.
func (in *instance) LimitResources(ctx context.Context, cpus float64, memory int64) (func(context.Context) error, error) {
	id := in.ContainerID()
	if id == "" {
		return nil, fmt.Errorf("instance %s: not started; nothing to limit", in.name)
	}
	res, err := in.t.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("instance %s: inspect before limiting: %w", in.name, err)
	}
	if res.Container.HostConfig == nil {
		return nil, fmt.Errorf("instance %s: inspect gave no host config", in.name)
	}
	was := res.Container.HostConfig.Resources
	var limit, undo container.Resources
	if cpus > 0 {
		limit.CPUPeriod, limit.CPUQuota = cpuPeriod, int64(cpus*cpuPeriod)
		undo.CPUPeriod, undo.CPUQuota = was.CPUPeriod, was.CPUQuota
		if undo.CPUQuota == 0 {
			undo.CPUPeriod, undo.CPUQuota = cpuPeriod, -1 // -1: no quota
		}
	}
	if memory > 0 {
		limit.Memory, limit.MemorySwap = memory, memory
		undo.Memory, undo.MemorySwap = was.Memory, was.MemorySwap
		if undo.Memory == 0 {
			total, err := in.hostMemory(ctx)
			if err != nil {
				return nil, err
			}
			undo.Memory, undo.MemorySwap = total, 2*total
		}
	}
	if err := in.update(ctx, limit); err != nil {
		return nil, err
	}
	in.event(EvInstanceLimited, "limits set: "+describeLimits(limit), limitFields(limit))
	return func(ctx context.Context) error {
		if err := in.update(ctx, undo); err != nil {
			return fmt.Errorf("put the limits back: %w", err)
		}
		in.event(EvInstanceLimited, "limits put back", limitFields(undo))
		return nil
	}, nil
}

// EvInstanceLimited is an instance's resource limits changed or put back.
const EvInstanceLimited = "instance_limited"

func (in *instance) update(ctx context.Context, r container.Resources) error {
	if _, err := in.t.c.ContainerUpdate(ctx, in.ContainerID(), client.ContainerUpdateOptions{Resources: &r}); err != nil {
		return fmt.Errorf("instance %s: docker update: %w", in.name, err)
	}
	return nil
}

func (in *instance) hostMemory(ctx context.Context) (int64, error) {
	info, err := in.t.c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return 0, fmt.Errorf("instance %s: docker info (host memory, to lift a memory limit): %w", in.name, err)
	}
	if info.Info.MemTotal <= 0 {
		return 0, errors.New("docker info reports no host memory; cannot lift a memory limit again")
	}
	return info.Info.MemTotal, nil
}

func describeLimits(r container.Resources) string {
	s := ""
	if r.CPUQuota > 0 {
		s += fmt.Sprintf("cpus %.2f", float64(r.CPUQuota)/float64(r.CPUPeriod))
	}
	if r.Memory > 0 {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("memory %d MB", r.Memory>>20)
	}
	return s
}

// limitFields are an event's fields for the limits r sets.
func limitFields(r container.Resources) map[string]any {
	f := map[string]any{}
	if r.CPUQuota != 0 {
		f["cpu_quota_us"], f["cpu_period_us"] = r.CPUQuota, r.CPUPeriod
	}
	if r.Memory != 0 {
		f["memory_bytes"] = r.Memory
	}
	return f
}
