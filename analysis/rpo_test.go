package analysis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ledgerRun is a ledger of 100 writes, one every 100 ms (write id is due at
// (id-1) x 100 ms and answered 5 ms later), around a primary failure at
// 5.0 s under asynchronous replication lagging by 1 s:
//
//	ids  1..40  acknowledged by the old primary, replicated      -> present
//	ids 41..50  acknowledged by the old primary in its last second -> lost
//	ids 51..60  failed (no primary)                               -> 55 present anyway
//	id  61      unknown, committed                                -> present
//	id  62      unknown, not committed                            -> absent
//	ids 63..100 acknowledged by the new primary                   -> present, 70 twice
//
// plus id 999, which the ledger never wrote.
func ledgerRun() ([]Write, map[int64]int) {
	var ws []Write
	found := map[int64]int{}
	for id := int64(1); id <= 100; id++ {
		at := time.Duration(id-1) * 100 * ms
		w := Write{ID: id, At: at, Done: at + 5*ms, Status: WriteAcked, Instance: "db-0"}
		switch {
		case id <= 40:
			found[id] = 1
		case id <= 50:
		case id <= 60:
			w.Status, w.Instance = WriteFailed, ""
		case id <= 62:
			w.Status, w.Instance = WriteUnknown, ""
		default:
			w.Instance = "db-1"
			found[id] = 1
		}
		ws = append(ws, w)
	}
	found[55], found[61], found[70], found[999] = 1, 1, 2, 1
	return ws, found
}

func TestMeasureDataLoss(t *testing.T) {
	ws, found := ledgerRun()
	d := MeasureDataLoss(ws, found, 5*time.Second)
	assert.Equal(t, 40+10+38, d.Acked)
	assert.Equal(t, 10, d.Failed)
	assert.Equal(t, 2, d.Unknown)
	assert.Equal(t, []int64{41, 42, 43, 44, 45, 46, 47, 48, 49, 50}, d.Lost)
	assert.Equal(t, []int64{70}, d.Duplicated)
	assert.Equal(t, []int64{55}, d.FailedSurfaced)
	assert.Equal(t, 1, d.UnknownSurfaced)
	assert.Equal(t, 1, d.UnknownVanished)
	assert.Equal(t, 1, d.Strangers)
	// Write 41 was acknowledged at 4.005 s, write 50 at 4.905 s; the
	// failure at 5.0 s is later, so the window is 5.0 - 4.005 = 0.995 s.
	assert.Equal(t, 4005*ms, d.FirstLost)
	assert.Equal(t, 4905*ms, d.LastLost)
	assert.Equal(t, 995*ms, d.Window)
}

func TestMeasureDataLossWindowEndsAtLastLostWhenLater(t *testing.T) {
	ws, found := ledgerRun()
	// Failure said to be at 4.5 s: the last lost acknowledgement (4.905 s)
	// came after it, so the window runs to it: 4.905 - 4.005 = 0.9 s.
	assert.Equal(t, 900*ms, MeasureDataLoss(ws, found, 4500*ms).Window)
	assert.Equal(t, 900*ms, MeasureDataLoss(ws, found, NoFailure).Window)
}

func TestMeasureDataLossNothingLost(t *testing.T) {
	ws := []Write{{ID: 1, Status: WriteAcked, Done: time.Second}, {ID: 2, Status: WriteUnknown}}
	d := MeasureDataLoss(ws, map[int64]int{1: 1}, 500*ms)
	assert.Empty(t, d.Lost)
	assert.Zero(t, d.Window)
	assert.Equal(t, 1, d.UnknownVanished)
	assert.Zero(t, d.Strangers)
}

func TestMeasureWriteRecovery(t *testing.T) {
	ws, _ := ledgerRun()
	r, err := MeasureWriteRecovery(ws, 5*time.Second, RecoveryConfig{Objective: 0.99, Stability: 2 * time.Second})
	require.NoError(t, err)
	// The first write due after 5.0 s that was acknowledged is id 63, due
	// at 6.2 s and answered at 6.205 s.
	require.True(t, r.HasFirstAck)
	assert.Equal(t, 6205*ms, r.FirstAck)
	assert.Equal(t, 1205*ms, r.FirstAckRTO)
	// Bins from 5.0 s: [5,6) all failed, [6,7) 8 of 10 acknowledged
	// (< 0.99), [7,8) and [8,9) all acknowledged: stable from 7.0 s.
	require.True(t, r.Stable.Recovered)
	assert.Equal(t, 2*time.Second, r.Stable.RTO)
}

// A server that still answers for a moment after the instant (a clean
// shutdown, a pause landing) has not recovered from anything yet: the first
// write back is the first acknowledged after the first failure.
func TestMeasureWriteRecoveryIgnoresAcksBeforeTheOutage(t *testing.T) {
	ws := []Write{
		{ID: 1, At: 1000 * ms, Done: 1005 * ms, Status: WriteAcked}, // the old primary, still answering
		{ID: 2, At: 1100 * ms, Done: 1300 * ms, Status: WriteFailed},
		{ID: 3, At: 1200 * ms, Done: 1400 * ms, Status: WriteUnknown},
		{ID: 4, At: 1300 * ms, Done: 1750 * ms, Status: WriteAcked}, // the new primary
		{ID: 5, At: 1400 * ms, Done: 1450 * ms, Status: WriteAcked},
	}
	r, err := MeasureWriteRecovery(ws, time.Second, RecoveryConfig{Objective: 0.5, Stability: time.Second})
	require.NoError(t, err)
	require.True(t, r.HasFirstAck)
	// Writes 4 and 5 both follow the outage; 5 was answered first, at 1.45 s.
	assert.Equal(t, 1450*ms, r.FirstAck)
	assert.Equal(t, 450*ms, r.FirstAckRTO)

	// A failover: the old server "a" still answers write 4 during its
	// shutdown; writes come back when "b" answers write 6.
	fo := []Write{
		{ID: 1, At: 900 * ms, Done: 905 * ms, Status: WriteAcked, Instance: "a"},
		{ID: 2, At: 1000 * ms, Done: 1100 * ms, Status: WriteFailed},
		{ID: 3, At: 1100 * ms, Done: 1200 * ms, Status: WriteFailed},
		{ID: 4, At: 1200 * ms, Done: 1210 * ms, Status: WriteAcked, Instance: "a"},
		{ID: 5, At: 1300 * ms, Done: 1400 * ms, Status: WriteFailed},
		{ID: 6, At: 1400 * ms, Done: 1800 * ms, Status: WriteAcked, Instance: "b"},
	}
	r, err = MeasureWriteRecovery(fo, time.Second, RecoveryConfig{Objective: 0.5, Stability: time.Second})
	require.NoError(t, err)
	assert.Equal(t, 800*ms, r.FirstAckRTO, "b's first answer, 1.8 s, not a's last one")
	// A restart: the same server comes back; its first answer counts.
	fo[5].Instance = "a"
	r, err = MeasureWriteRecovery(fo, time.Second, RecoveryConfig{Objective: 0.5, Stability: time.Second})
	require.NoError(t, err)
	assert.Equal(t, 210*ms, r.FirstAckRTO)

	r, err = MeasureWriteRecovery(ws[:1], time.Second, RecoveryConfig{Objective: 0.5, Stability: time.Second})
	require.NoError(t, err)
	assert.True(t, r.HasFirstAck)
	assert.Zero(t, r.FirstAckRTO, "no write failed: no outage")
}

func TestMeasureWriteRecoveryNeverAcked(t *testing.T) {
	ws := []Write{{ID: 1, At: 0, Done: time.Second, Status: WriteAcked}, {ID: 2, At: 2 * time.Second, Done: 3 * time.Second, Status: WriteFailed}}
	r, err := MeasureWriteRecovery(ws, time.Second, RecoveryConfig{Objective: 0.99, Stability: time.Second})
	require.NoError(t, err)
	assert.False(t, r.HasFirstAck, "write 1 was due before the failure")
	assert.False(t, r.Stable.Recovered)
}

// accepts gives one accept every 100 ms in [from, to].
func accepts(inst string, from, to time.Duration) []Accept {
	var out []Accept
	for t := from; t <= to; t += 100 * ms {
		out = append(out, Accept{Instance: inst, At: t})
	}
	return out
}

func TestSplitBrain(t *testing.T) {
	cat := func(parts ...[]Accept) []Accept {
		var out []Accept
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	gap := 500 * ms
	for _, tc := range []struct {
		name    string
		accepts []Accept
		reigns  int
		splits  []SplitBrain
	}{
		{name: "failover hands over", accepts: cat(accepts("a", 0, 4900*ms), accepts("b", 6200*ms, 9900*ms)), reigns: 2},
		{name: "failback is no split brain", reigns: 3,
			accepts: cat(accepts("a", 0, 3*time.Second), accepts("b", 4*time.Second, 6*time.Second), accepts("a", 7*time.Second, 9*time.Second))},
		{name: "both accept", reigns: 2,
			accepts: cat(accepts("a", 0, 9900*ms), accepts("b", 5*time.Second, 6*time.Second)),
			splits: []SplitBrain{{A: Reign{"a", 0, 9900 * ms, 100}, B: Reign{"b", 5 * time.Second, 6 * time.Second, 11},
				From: 5 * time.Second, To: 6 * time.Second}}},
		{name: "one stray write", reigns: 2,
			accepts: cat(accepts("a", 0, 9900*ms), []Accept{{"b", 3 * time.Second}}),
			splits: []SplitBrain{{A: Reign{"a", 0, 9900 * ms, 100}, B: Reign{"b", 3 * time.Second, 3 * time.Second, 1},
				From: 3 * time.Second, To: 3 * time.Second}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Len(t, Reigns(tc.accepts, gap), tc.reigns)
			assert.Equal(t, tc.splits, FindSplitBrain(tc.accepts, gap))
		})
	}
}

func TestSummarizeLag(t *testing.T) {
	pts := []LagPoint{
		{T: 0, Replica: "r1", Streaming: true, Lag: 10 * ms, Bytes: 100},
		{T: time.Second, Replica: "r1", Streaming: true, Lag: 900 * ms, Bytes: 5000},
		{T: 2 * time.Second, Replica: "r1", Streaming: false},
		{T: 3 * time.Second, Replica: "r1", Streaming: true, Lag: 2 * time.Second, Bytes: 9000},
	}
	s := SummarizeLag(pts, 0, 3*time.Second)
	assert.Equal(t, LagSummary{Samples: 3, Failing: 1, Max: 900 * ms, MaxBytes: 5000, Worst: "r1", WorstAt: time.Second}, s)
	assert.Equal(t, 2*time.Second, SummarizeLag(pts, 0, 0).Max)

	assert.True(t, LagBelow(pts[:1], time.Second, 0))
	assert.False(t, LagBelow(pts[:2], 500*ms, 0), "900ms is not below 500ms")
	assert.False(t, LagBelow(pts[:2], time.Second, 1000), "5000 bytes is not below 1000")
	assert.False(t, LagBelow(pts[2:3], time.Hour, 0), "a replica that does not stream never passes")
	assert.False(t, LagBelow(nil, time.Hour, 0), "no replica is no evidence")
}
