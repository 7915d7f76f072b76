package pg

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Sample is one look at the cluster: the replication state of every replica
// as the primary reports it, and which nodes accept writes.
type Sample struct {
	At time.Time
	// Primary is the node the clients are pointed at; PrimaryUp says
	// whether it answered.
	Primary   string
	PrimaryUp bool
	// Replicas has one entry per node that is a replica now, connected or
	// not: a replica missing from pg_stat_replication is not streaming,
	// which is a failure, not a lag of zero.
	Replicas []ReplicaState
	// Writable lists the nodes that answered "not in recovery": they accept
	// writes. Two at once is split brain.
	Writable []string
}

// ReplicaState is one replica in one sample.
type ReplicaState struct {
	Node string
	// Streaming: present in the primary's pg_stat_replication, state streaming.
	Streaming bool
	SyncState string
	// LagBytes is WAL the primary wrote that the replica has not replayed.
	LagBytes int64
	// ReplayLag is how long ago the WAL the replica last replayed was
	// written on the primary (0 when caught up and idle).
	ReplayLag time.Duration
}

// Sample looks at the cluster once; each query gets at most timeout. It
// never fails: what cannot be read is reported as not streaming, not up.
func (c *Cluster) Sample(ctx context.Context, timeout time.Duration) Sample {
	s := Sample{At: time.Now()}
	primary := c.Primary()
	replicas := c.Replicas()
	nodes := c.Nodes()

	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range nodes {
		if !n.Running() || n.Paused() || n.Role() == RoleRestored {
			continue // a paused server answers nothing; it accepts no write either
		}
		wg.Go(func() {
			qctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			rec, err := n.InRecovery(qctx)
			if err == nil && !rec {
				mu.Lock()
				s.Writable = append(s.Writable, n.name)
				mu.Unlock()
			}
		})
	}
	byName := map[string]ReplicaState{}
	if primary != nil {
		s.Primary = primary.name
		if primary.Running() && !primary.Paused() {
			wg.Go(func() {
				rows, up := c.replicationRows(ctx, primary, timeout)
				mu.Lock()
				s.PrimaryUp = up
				for _, r := range rows {
					byName[r.Node] = r
				}
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for _, r := range replicas {
		st, ok := byName[r.name]
		if !ok {
			st = ReplicaState{Node: r.name}
		}
		s.Replicas = append(s.Replicas, st)
	}
	slices.Sort(s.Writable)
	return s
}

// replicationRows reads pg_stat_replication on the primary; a replica is
// named by its cluster_name, which its WAL receiver uses as application_name.
func (c *Cluster) replicationRows(ctx context.Context, primary *Node, timeout time.Duration) ([]ReplicaState, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := Connect(ctx, primary.Addr())
	if err != nil {
		return nil, false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT application_name, state = 'streaming', sync_state,
		COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), -1)::bigint,
		COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float8
		FROM pg_stat_replication`)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	var out []ReplicaState
	for rows.Next() {
		var r ReplicaState
		var lag float64
		if err := rows.Scan(&r.Node, &r.Streaming, &r.SyncState, &r.LagBytes, &lag); err != nil {
			return out, false
		}
		r.ReplayLag = time.Duration(lag * float64(time.Second))
		out = append(out, r)
	}
	return out, rows.Err() == nil
}
