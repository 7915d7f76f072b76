// Package record holds what happened during a run: request samples, events and
// per-second series. Traffic and the rollout controller write it; analysis and
// reports read it. It imports nothing of ours.
package record

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Source says who observed a sample.
type Source uint8

const (
	// Client samples come from the traffic generator: what a user saw.
	Client Source = iota
	// Hop samples come from a service's router: what one service's versions
	// served to their callers. Canary analysis reads these.
	Hop
	// Shadow samples come from a service's router for requests no caller
	// waits for: mirrored copies of live requests (their responses are
	// discarded) and synthetic preview requests. Kept apart from Hop so
	// that what callers were served stays exact.
	Shadow
)

// ErrKind classifies a failed request that has no HTTP status.
type ErrKind uint8

const (
	ErrNone ErrKind = iota
	ErrTimeout
	ErrConnRefused
	ErrConnReset
	ErrOther
)

// Sample is one request, kept compact (24 bytes) so that a 10-minute run at
// 2,000 rps stays near 30 MB. Strings are interned in the Recorder.
type Sample struct {
	// At is the request's intended send time in nanoseconds since the run's
	// start. Latency counts from there, not from the actual send, so a
	// stalled server shows as latency (no coordinated omission).
	At        int64
	LatencyUS uint32 // microseconds from At to the end of the response
	Status    int16  // HTTP status; 0 when Err is set
	Err       ErrKind
	Source    Source
	Service   uint16 // interned service name
	Version   uint16 // interned version label ("" when unknown)
	Instance  uint16 // interned instance name ("" when unknown)
	// Caller is the interned service@version of the calling instance, as
	// its X-Firedrill-Caller header said ("" for the traffic generator).
	// It fills what would be padding: the sample stays 24 bytes.
	Caller uint16
}

// OK reports whether the request succeeded (a status below 500 and no transport error).
func (s Sample) OK() bool { return s.Err == ErrNone && s.Status > 0 && s.Status < 500 }

// Latency returns the sample's latency.
func (s Sample) Latency() time.Duration { return time.Duration(s.LatencyUS) * time.Microsecond }

// Time returns the intended send time as wall-clock time given the run start.
func (s Sample) Time(start time.Time) time.Time { return start.Add(time.Duration(s.At)) }

const chunkSize = 1 << 14

// Recorder stores samples in fixed-size chunks (no large re-allocations while
// traffic runs) and interns strings. It is safe for concurrent use.
type Recorder struct {
	start atomic.Pointer[time.Time] // read on every request: no lock

	mu     sync.Mutex
	chunks [][]Sample
	// span is the [min, max] At of each chunk, so that a windowed Select
	// skips the chunks outside its window instead of scanning the run
	// (samples arrive nearly, not exactly, in At order).
	span    [][2]int64
	n       int
	names   []string
	nameIdx map[string]uint16
}

// NewRecorder returns a recorder whose sample times count from start.
func NewRecorder(start time.Time) *Recorder {
	r := &Recorder{names: []string{""}, nameIdx: map[string]uint16{"": 0}}
	r.start.Store(&start)
	return r
}

// Start is the run's time zero.
func (r *Recorder) Start() time.Time { return *r.start.Load() }

// SetStart moves time zero (to the instant traffic starts). Call it before
// any sample is added: earlier samples keep their old offsets.
func (r *Recorder) SetStart(t time.Time) { r.start.Store(&t) }

// Intern returns the index of s, adding it if needed.
func (r *Recorder) Intern(s string) uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.internLocked(s)
}

func (r *Recorder) internLocked(s string) uint16 {
	if i, ok := r.nameIdx[s]; ok {
		return i
	}
	i := uint16(len(r.names))
	r.names = append(r.names, s)
	r.nameIdx[s] = i
	return i
}

// Name returns the string behind an interned index.
func (r *Recorder) Name(i uint16) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if int(i) < len(r.names) {
		return r.names[i]
	}
	return ""
}

// Add appends one sample.
func (r *Recorder) Add(s Sample) {
	r.mu.Lock()
	r.addLocked(s)
	r.mu.Unlock()
}

func (r *Recorder) addLocked(s Sample) {
	last := len(r.chunks) - 1
	if last < 0 || len(r.chunks[last]) == chunkSize {
		r.chunks = append(r.chunks, make([]Sample, 0, chunkSize))
		r.span = append(r.span, [2]int64{s.At, s.At})
		last++
	}
	r.chunks[last] = append(r.chunks[last], s)
	sp := &r.span[last]
	sp[0], sp[1] = min(sp[0], s.At), max(sp[1], s.At)
	r.n++
}

// Observation is a sample described with strings, for callers that do not
// intern themselves.
type Observation struct {
	Source   Source
	Service  string
	Version  string
	Instance string
	Caller   string // service@version of the caller, "" when unknown
	Intended time.Time
	Latency  time.Duration
	Status   int
	Err      ErrKind
}

// Observe interns the strings of o and appends it as a sample, under one
// lock acquisition (it is on every request's path).
func (r *Recorder) Observe(o Observation) {
	us := o.Latency.Microseconds()
	if us < 0 {
		us = 0
	}
	if us > int64(^uint32(0)) {
		us = int64(^uint32(0))
	}
	at := int64(o.Intended.Sub(r.Start()))
	r.mu.Lock()
	r.addLocked(Sample{
		At:        at,
		LatencyUS: uint32(us),
		Status:    int16(o.Status),
		Err:       o.Err,
		Source:    o.Source,
		Service:   r.internLocked(o.Service),
		Version:   r.internLocked(o.Version),
		Instance:  r.internLocked(o.Instance),
		Caller:    r.internLocked(o.Caller),
	})
	r.mu.Unlock()
}

// Len is the number of samples recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Each calls fn for every sample recorded so far, in insertion order. fn must
// not call back into the recorder.
func (r *Recorder) Each(fn func(Sample)) {
	r.mu.Lock()
	chunks := make([][]Sample, len(r.chunks))
	copy(chunks, r.chunks) // chunks only grow at their end; earlier items never change
	r.mu.Unlock()
	for _, c := range chunks {
		for _, s := range c {
			fn(s)
		}
	}
}

// EachFrom calls fn for the samples from index start on (in insertion
// order) until fn returns false, without visiting the ones before: a
// reader that polls for new samples pays for the new ones only.
func (r *Recorder) EachFrom(start int, fn func(i int, s Sample) bool) {
	if start < 0 {
		start = 0
	}
	r.mu.Lock()
	chunks := slices.Clone(r.chunks)
	r.mu.Unlock()
	for ci := start / chunkSize; ci < len(chunks); ci++ {
		c := chunks[ci]
		for j := max(0, start-ci*chunkSize); j < len(c); j++ {
			if !fn(ci*chunkSize+j, c[j]) {
				return
			}
		}
	}
}

// Filter selects samples.
type Filter struct {
	Source  Source
	Service string        // "" for any
	Version string        // "" for any
	From    time.Duration // offset from run start, inclusive
	To      time.Duration // offset from run start, exclusive; 0 means no bound
}

// Select returns copies of the samples matching f.
func (r *Recorder) Select(f Filter) []Sample {
	svc, ver := uint16(0), uint16(0)
	r.mu.Lock()
	if f.Service != "" {
		i, ok := r.nameIdx[f.Service]
		if !ok {
			r.mu.Unlock()
			return nil
		}
		svc = i
	}
	if f.Version != "" {
		i, ok := r.nameIdx[f.Version]
		if !ok {
			r.mu.Unlock()
			return nil
		}
		ver = i
	}
	chunks := slices.Clone(r.chunks) // chunks only grow at their end (see Each)
	span := slices.Clone(r.span)
	r.mu.Unlock()
	from, to := int64(f.From), int64(f.To)
	var out []Sample
	for i, c := range chunks {
		if span[i][1] < from || (to > 0 && span[i][0] >= to) {
			continue
		}
		for _, s := range c {
			if s.Source != f.Source || (svc != 0 && s.Service != svc) || (ver != 0 && s.Version != ver) {
				continue
			}
			if s.At < from || (to > 0 && s.At >= to) {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}
