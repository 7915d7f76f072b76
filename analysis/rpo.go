package analysis

import (
	"fmt"
	"slices"
	"time"

	"github.com/firedrill/firedrill/record"
)

// WriteStatus is what a client learnt about one write.
type WriteStatus uint8

const (
	// WriteAcked: the commit was acknowledged; it must survive.
	WriteAcked WriteStatus = iota + 1
	// WriteFailed: certainly not committed.
	WriteFailed
	// WriteUnknown: sent, never answered; it may have committed.
	WriteUnknown
)

// Write is one write of a ledger: an id unique to it, its intended instant
// (At) and when its outcome was known (Done), both from time zero.
type Write struct {
	ID       int64
	At, Done time.Duration
	Status   WriteStatus
	// Instance is the server that acknowledged it.
	Instance string
}

// DataLoss compares a ledger's writes with what a final read found.
type DataLoss struct {
	Acked, Failed, Unknown int
	// Lost are acknowledged writes that are missing, by id.
	Lost []int64
	// Duplicated are ids found more than once.
	Duplicated []int64
	// UnknownSurfaced / UnknownVanished: unknown writes that turned out
	// committed / not committed. Neither is an error; both say what a
	// client retrying on timeout would have to cope with.
	UnknownSurfaced, UnknownVanished int
	// FailedSurfaced are writes the client was told failed that are there:
	// a client that retried them would have written them twice.
	FailedSurfaced []int64
	// Strangers counts ids present that the ledger never wrote.
	Strangers int
	// FirstLost and LastLost are the acknowledgement instants of the
	// earliest and latest lost write.
	FirstLost, LastLost time.Duration
	// Window is the recovery point objective actually met: from the first
	// lost acknowledgement (every write acknowledged before it survived) to
	// the failure instant, or to the last lost acknowledgement when that
	// came later. Zero when nothing acknowledged was lost.
	Window time.Duration
}

// NoFailure is the failure instant to give MeasureDataLoss when there is
// none: the window then spans the lost writes only.
const NoFailure = time.Duration(-1)

// MeasureDataLoss finds the acknowledged writes missing from found (id ->
// times present), the duplicates, and what became of unknown writes.
func MeasureDataLoss(writes []Write, found map[int64]int, failure time.Duration) DataLoss {
	var d DataLoss
	written := make(map[int64]bool, len(writes))
	var lost []Write
	for _, w := range writes {
		written[w.ID] = true
		n := found[w.ID]
		switch w.Status {
		case WriteAcked:
			d.Acked++
			if n == 0 {
				lost = append(lost, w)
			}
		case WriteFailed:
			d.Failed++
			if n > 0 {
				d.FailedSurfaced = append(d.FailedSurfaced, w.ID)
			}
		case WriteUnknown:
			d.Unknown++
			if n > 0 {
				d.UnknownSurfaced++
			} else {
				d.UnknownVanished++
			}
		}
	}
	for id, n := range found {
		if n > 1 {
			d.Duplicated = append(d.Duplicated, id)
		}
		if !written[id] {
			d.Strangers++
		}
	}
	slices.Sort(d.Duplicated)
	slices.Sort(d.FailedSurfaced)
	if len(lost) == 0 {
		return d
	}
	slices.SortFunc(lost, func(a, b Write) int { return cmpDur(a.Done, b.Done) })
	for _, w := range lost {
		d.Lost = append(d.Lost, w.ID)
	}
	slices.Sort(d.Lost)
	d.FirstLost, d.LastLost = lost[0].Done, lost[len(lost)-1].Done
	end := d.LastLost
	if failure != NoFailure {
		end = max(end, failure)
	}
	d.Window = end - d.FirstLost
	return d
}

func cmpDur(a, b time.Duration) int { return cmpInt64(int64(a), int64(b)) }

// WriteRecovery is how writes came back after a failure instant.
type WriteRecovery struct {
	At time.Duration
	// FirstAck is when writes came back: the earliest acknowledgement of a
	// write intended after the first one at or after At that was not
	// acknowledged (a server that keeps answering for a moment after the
	// instant has not recovered from anything yet). When another server
	// acknowledges writes after it than before it (a failover), the old
	// server's last answers do not count either. FirstAckRTO = FirstAck -
	// At; HasFirstAck is false when no write came back. Without any failed
	// write after At there was no outage: FirstAckRTO is 0.
	HasFirstAck bool
	FirstAck    time.Duration
	FirstAckRTO time.Duration
	// Stable is recovery to a steady acknowledgement ratio (see
	// MeasureRecovery): writes as requests, acknowledged as success.
	Stable Recovery
}

// MeasureWriteRecovery measures the time from at to the first acknowledged
// write, and to stable success under cfg.
func MeasureWriteRecovery(writes []Write, at time.Duration, cfg RecoveryConfig) (WriteRecovery, error) {
	r := WriteRecovery{At: at}
	after := make([]Write, 0, len(writes))
	for _, w := range writes {
		if w.At >= at {
			after = append(after, w)
		}
	}
	slices.SortFunc(after, func(a, b Write) int { return cmpDur(a.At, b.At) })
	down := slices.IndexFunc(after, func(w Write) bool { return w.Status != WriteAcked })
	switch {
	case down < 0:
		r.HasFirstAck = len(after) > 0
		r.FirstAck = at
	default:
		old := lastAckBefore(writes, after[down].At)
		r.FirstAck, r.HasFirstAck = firstAck(after[down:], func(w Write) bool { return w.Instance != old && w.Instance != "" })
		if !r.HasFirstAck {
			r.FirstAck, r.HasFirstAck = firstAck(after[down:], func(Write) bool { return true })
		}
	}
	if r.HasFirstAck {
		r.FirstAckRTO = r.FirstAck - at
	}
	stable, err := MeasureRecovery(WriteSamples(writes), at, cfg)
	if err != nil {
		return r, err
	}
	r.Stable = stable
	return r, nil
}

// lastAckBefore is the server that acknowledged the last write intended
// before t ("" when none did).
func lastAckBefore(writes []Write, t time.Duration) string {
	inst, at := "", time.Duration(-1)
	for _, w := range writes {
		if w.Status == WriteAcked && w.At < t && w.At > at {
			inst, at = w.Instance, w.At
		}
	}
	return inst
}

// firstAck is the earliest acknowledgement among ws that pass keep.
func firstAck(ws []Write, keep func(Write) bool) (time.Duration, bool) {
	var best time.Duration
	found := false
	for _, w := range ws {
		if w.Status == WriteAcked && keep(w) && (!found || w.Done < best) {
			best, found = w.Done, true
		}
	}
	return best, found
}

// WriteSamples turns writes into client samples: acknowledged is a success,
// anything else a failure, latency from the intended instant.
func WriteSamples(writes []Write) []record.Sample {
	out := make([]record.Sample, 0, len(writes))
	for _, w := range writes {
		s := record.Sample{At: int64(w.At), Source: record.Client}
		if lat := w.Done - w.At; lat > 0 {
			s.LatencyUS = uint32(min(lat.Microseconds(), int64(^uint32(0))))
		}
		if w.Status == WriteAcked {
			s.Status = 200
		} else {
			s.Err = record.ErrOther
		}
		out = append(out, s)
	}
	return out
}

// Accept is one piece of evidence that an instance accepted writes at an
// instant: an acknowledged write, or a probe that found it writable.
type Accept struct {
	Instance string
	At       time.Duration
}

// Reign is a stretch in which one instance kept accepting writes: accepts
// no further apart than the gap given to Reigns.
type Reign struct {
	Instance string
	From, To time.Duration
	Accepts  int
}

// Reigns groups accepts per instance into stretches, ordered by start.
func Reigns(accepts []Accept, gap time.Duration) []Reign {
	sorted := slices.Clone(accepts)
	slices.SortFunc(sorted, func(a, b Accept) int { return cmpDur(a.At, b.At) })
	open := map[string]int{} // instance -> index of its current reign in out
	var out []Reign
	for _, a := range sorted {
		if i, ok := open[a.Instance]; ok && a.At-out[i].To <= gap {
			out[i].To = a.At
			out[i].Accepts++
			continue
		}
		open[a.Instance] = len(out)
		out = append(out, Reign{Instance: a.Instance, From: a.At, To: a.At, Accepts: 1})
	}
	slices.SortStableFunc(out, func(a, b Reign) int { return cmpDur(a.From, b.From) })
	return out
}

// SplitBrain is two instances accepting writes over the same stretch.
type SplitBrain struct {
	A, B     Reign
	From, To time.Duration // the overlap
}

func (s SplitBrain) String() string {
	return fmt.Sprintf("%s and %s both accepted writes from %.1fs to %.1fs", s.A.Instance, s.B.Instance,
		s.From.Seconds(), s.To.Seconds())
}

// FindSplitBrain reports every pair of reigns of different instances that
// overlap. A failover hands over: the old primary's last accept comes
// before the new one's first, so its reign ends before the next begins.
func FindSplitBrain(accepts []Accept, gap time.Duration) []SplitBrain {
	rs := Reigns(accepts, gap)
	var out []SplitBrain
	for i := range rs {
		for j := i + 1; j < len(rs) && rs[j].From <= rs[i].To; j++ {
			if rs[i].Instance == rs[j].Instance {
				continue
			}
			out = append(out, SplitBrain{A: rs[i], B: rs[j], From: rs[j].From, To: min(rs[i].To, rs[j].To)})
		}
	}
	return out
}
