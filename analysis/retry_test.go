package analysis

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

const ms = time.Millisecond

// retryTraffic: 100 rps offered for 20 s (r0..r1999); the dependency fails in
// [10s, 12s). Each request offered in the outage makes 3 attempts (at t,
// t+100ms, t+300ms). A reset at 10 s also fails 50 in-flight requests at
// once (f0..f49, first sent at 9.9 s), which retry twice: without jitter at
// exactly 10.1 s and 10.3 s; with full jitter the k-th retries at 10 s +
// 4k ms (spread over 200 ms) and 10 s + 8k ms (over 400 ms). After
// recovery, herd requests (q0..) arrive at 12 s, or spread over 2 s.
func retryTraffic(jitter bool, herd int) RetryInput {
	in := RetryInput{OutageFrom: 10 * time.Second, OutageTo: 12 * time.Second}
	for i := range 2000 {
		t := time.Duration(i) * 10 * ms
		id := fmt.Sprintf("r%d", i)
		in.Offered = append(in.Offered, t)
		in.Attempts = append(in.Attempts, Attempt{id, t})
		if t >= in.OutageFrom && t < in.OutageTo {
			in.Attempts = append(in.Attempts, Attempt{id, t + 100*ms}, Attempt{id, t + 300*ms})
		}
	}
	for k := range 50 {
		id := fmt.Sprintf("f%d", k)
		first, second := 10100*ms, 10300*ms
		if jitter {
			first = 10*time.Second + time.Duration(4*k)*ms
			second = 10*time.Second + time.Duration(8*k)*ms
		}
		in.Attempts = append(in.Attempts, Attempt{id, 9900 * ms}, Attempt{id, first}, Attempt{id, second})
	}
	for k := range herd {
		var d time.Duration
		if jitter {
			d = time.Duration(k) * 2000 * ms / time.Duration(herd) // over the 2 s window
		}
		in.Attempts = append(in.Attempts, Attempt{fmt.Sprintf("q%d", k), 12*time.Second + d})
	}
	return in
}

func TestVerifyRetriesAttemptsAndAmplification(t *testing.T) {
	r := VerifyRetries(retryTraffic(false, 0))
	assert.Equal(t, 3, r.MaxAttempts)
	// 200 outage requests and 50 in-flight ones with 3 attempts, 1800 with 1:
	// (750 + 1800) / 2050.
	assert.InDelta(t, 2550.0/2050, r.MeanAttempts, 1e-12)
	assert.Equal(t, map[int]int{1: 1800, 3: 250}, r.Histogram)
	// In [10s, 12s): 200 first attempts, 190 second (t+100ms < 12s), 170
	// third (t+300ms < 12s), 100 synchronized retries = 660 arrivals for
	// 200 offered: amplification 3.3, 330/s against 100/s.
	assert.InDelta(t, 3.3, r.Amplification, 1e-12)
	assert.InDelta(t, 100, r.OfferedRate, 1e-9)
	assert.InDelta(t, 330, r.DependencyRate, 1e-9)

	f := r.Check(RetryExpect{MaxAttempts: 3, MaxAmplification: 3})
	assert.True(t, f[0].OK)
	assert.False(t, f[1].OK, "3.3x exceeds 3x")
}

func TestVerifyRetriesJitter(t *testing.T) {
	// Without jitter, bin [10.3s, 10.4s) holds 10 first + 10 second + 10
	// third attempts + 50 synchronized retries = 80; the mean over the 20
	// bins is 660/20 = 33: peak-to-mean 80/33 = 2.4242.
	sync := VerifyRetries(retryTraffic(false, 0))
	assert.InDelta(t, 80.0/33, sync.PeakToMean, 1e-12)
	// With jitter the first retries fill [10.0s, 10.2s) 25 + 25 and the
	// second ones [10.0s, 10.4s) 13, 12, 13, 12. Busiest bin [10.1s, 10.2s):
	// 10 first + 10 second attempts + 25 + 12 = 57: peak-to-mean 57/33.
	jit := VerifyRetries(retryTraffic(true, 0))
	assert.InDelta(t, 57.0/33, jit.PeakToMean, 1e-12)
	assert.InDelta(t, sync.Amplification, jit.Amplification, 1e-12, "same work, spread out")
	assert.False(t, sync.Check(RetryExpect{MaxPeakToMean: 2})[0].OK)
	assert.True(t, jit.Check(RetryExpect{MaxPeakToMean: 2})[0].OK)
}

func TestVerifyRetriesThunderingHerd(t *testing.T) {
	// Bin [12.0s, 12.1s) already holds 10 first attempts and 20 late
	// retries of requests sent at 11.7-11.8 s and 11.9-12.0 s: 30, against
	// 10 offered per bin. 150 queued requests at exactly 12 s make it 180:
	// 18x the offered rate.
	herd := VerifyRetries(retryTraffic(false, 150))
	assert.InDelta(t, 18, herd.HerdRatio, 1e-12)
	// Spread over 2 s (one per 13.3 ms), 8 land in that bin: 38, 3.8x.
	calm := VerifyRetries(retryTraffic(true, 150))
	assert.InDelta(t, 3.8, calm.HerdRatio, 1e-12)
	assert.False(t, herd.Check(RetryExpect{MaxHerdRatio: 5})[0].OK)
	assert.True(t, calm.Check(RetryExpect{MaxHerdRatio: 5})[0].OK)
}

func TestPeakToMean(t *testing.T) {
	ts := []time.Duration{0, 10 * ms, 20 * ms, 150 * ms}
	// Two 100 ms bins in [0, 200ms): 3 and 1, mean 2: ratio 1.5.
	assert.InDelta(t, 1.5, PeakToMean(ts, Window{0, 200 * ms}, 100*ms), 1e-12)
	assert.Equal(t, 0.0, PeakToMean(nil, Window{0, 200 * ms}, 100*ms))
}
