package record

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampleIsCompact(t *testing.T) {
	// 10 minutes at 2,000 rps = 1.2M samples must stay well under 100 MB.
	assert.LessOrEqual(t, unsafe.Sizeof(Sample{}), uintptr(24))
}

func TestObserveAndSelect(t *testing.T) {
	t0 := time.Now()
	r := NewRecorder(t0)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < chunkSize; i++ { // crosses chunk boundaries
				v := "v1"
				if i%10 == 0 {
					v = "v2"
				}
				r.Observe(Observation{Source: Hop, Service: "checkout", Version: v, Instance: "i",
					Intended: t0.Add(time.Duration(i) * time.Millisecond), Latency: 3 * time.Millisecond, Status: 200})
			}
		}(g)
	}
	wg.Wait()
	require.Equal(t, 4*chunkSize, r.Len())
	v2 := r.Select(Filter{Source: Hop, Service: "checkout", Version: "v2"})
	assert.Len(t, v2, 4*((chunkSize+9)/10))
	assert.Equal(t, "v2", r.Name(v2[0].Version))
	assert.True(t, v2[0].OK())
	assert.Equal(t, 3*time.Millisecond, v2[0].Latency())
	// A window [1s, 2s) holds 1000 intended instants per goroutine.
	assert.Len(t, r.Select(Filter{Source: Hop, From: time.Second, To: 2 * time.Second}), 4000)
	assert.Empty(t, r.Select(Filter{Source: Client}))
	assert.Empty(t, r.Select(Filter{Source: Hop, Service: "nope"}))
}

func TestFailedSamplesAreNotOK(t *testing.T) {
	assert.False(t, Sample{Status: 503}.OK())
	assert.False(t, Sample{Err: ErrTimeout}.OK())
	assert.False(t, Sample{}.OK(), "no status and no error is not a success")
	assert.True(t, Sample{Status: 404}.OK(), "a 4xx is the server answering")
}

func TestLogWritesLinesAsTheyHappen(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(&buf)
	var seen []string
	l.Subscribe(func(e Event) { seen = append(seen, e.Kind) })
	l.Add(Event{Kind: EvRunStarted})
	l.Add(Event{Kind: EvFaultInjected, Target: "a -> b"})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var e Event
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &e))
	assert.Equal(t, EvFaultInjected, e.Kind)
	assert.Equal(t, time.UTC, e.At.Location())
	assert.Equal(t, []string{EvRunStarted, EvFaultInjected}, seen)
	_, ok := l.Find(EvFaultInjected, "", time.Time{})
	assert.True(t, ok)
}

// A windowed Select skips whole chunks by their At span, and still finds
// every sample a scan finds, also samples that arrive out of At order
// (a slow request is recorded after faster, later ones).
func TestSelectWindowMatchesAScan(t *testing.T) {
	r := NewRecorder(time.Unix(0, 0))
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 5*chunkSize + 123
	for i := 0; i < n; i++ {
		at := int64(i)*int64(time.Millisecond) - rng.Int64N(int64(3*time.Second)) // up to 3 s late
		r.Add(Sample{At: at, Status: 200, Source: Source(i % 2), Service: 1})
	}
	for _, w := range []Filter{
		{Source: Hop, From: 10 * time.Second, To: 12 * time.Second},
		{Source: Client, From: 30 * time.Second},
		{Source: Hop, To: 5 * time.Second},
		{Source: Client, From: 500 * time.Second},
	} {
		var want []Sample
		r.Each(func(s Sample) {
			if s.Source == w.Source && time.Duration(s.At) >= w.From && (w.To == 0 || time.Duration(s.At) < w.To) {
				want = append(want, s)
			}
		})
		assert.Equal(t, want, r.Select(w), "%+v", w)
	}
}

// BenchmarkSelectRecentWindow: the analysis's look at the last 5 s of a
// 10-minute run at 1,000 rps (600,000 samples).
func BenchmarkSelectRecentWindow(b *testing.B) {
	r := NewRecorder(time.Unix(0, 0))
	for i := 0; i < 600_000; i++ {
		r.Add(Sample{At: int64(i) * int64(time.Millisecond), Status: 200, Source: Hop})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := r.Select(Filter{Source: Hop, From: 595 * time.Second}); len(got) != 5000 {
			b.Fatal(len(got))
		}
	}
}

func TestEachFrom(t *testing.T) {
	r := NewRecorder(time.Unix(0, 0))
	const n = 2*chunkSize + 10
	for i := 0; i < n; i++ {
		r.Add(Sample{At: int64(i)})
	}
	for _, start := range []int{0, 5, chunkSize - 1, chunkSize, 2*chunkSize + 9, n, n + 3} {
		var got []int
		r.EachFrom(start, func(i int, s Sample) bool {
			require.Equal(t, int64(i), s.At, "index and sample agree")
			got = append(got, i)
			return len(got) < 3
		})
		var want []int
		for i := start; i < n && len(want) < 3; i++ {
			want = append(want, i)
		}
		assert.Equal(t, want, got, "from %d", start)
	}
}
