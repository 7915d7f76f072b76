package traffic

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Journeys against a real server: a checkout flow whose payment step fails
// every fourth time, and a browse flow that always works; 10 journeys/s
// each for 1 s.
func TestJourneysCountSuccessPerJourney(t *testing.T) {
	var pays atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cart":
			w.WriteHeader(http.StatusOK)
		case "/pay":
			if r.Method != http.MethodPost {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			if pays.Add(1)%4 == 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	js := []Journey{
		{Name: "checkout", Rate: 10, Steps: []JourneyStep{{Path: "/cart", Status: 200}, {Method: "POST", Path: "/pay", Status: 201}}},
		{Name: "browse", Rate: 10, Steps: []JourneyStep{{Path: "/cart"}}},
		{Name: "lost", Rate: 10, Steps: []JourneyStep{{Path: "/cart"}, {Path: "/nowhere"}}},
	}
	stats := StartJourneys(context.Background(), srv.URL, js, time.Second, 2*time.Second).Wait()
	require.Len(t, stats, 3)
	co, br, lost := stats[0], stats[1], stats[2]
	assert.Equal(t, 10, co.Done, "10/s for 1 s, open loop")
	assert.Equal(t, 10-10/4, co.Succeeded, "every fourth payment fails")
	assert.Equal(t, map[string]int{"2 POST /pay: 503": 10 / 4}, co.Failed)
	assert.Equal(t, 10, br.Succeeded)
	assert.Zero(t, lost.Succeeded)
	assert.Equal(t, map[string]int{"2 GET /nowhere: 404": 10}, lost.Failed)
}

// A run that ends cuts journeys in flight without counting them.
func TestJourneysCutByTheEndAreNotCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	stats := StartJourneys(ctx, srv.URL, []Journey{{Name: "slow", Rate: 10, Steps: []JourneyStep{{Path: "/"}}}}, time.Second, 10*time.Second).Wait()
	assert.Zero(t, stats[0].Done)
	srv.CloseClientConnections()
}

// Since counts the journeys started in a window: a server that breaks
// halfway through fails exactly the journeys started after it broke.
func TestJourneysSince(t *testing.T) {
	var broken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	run := StartJourneys(context.Background(), srv.URL, []Journey{{Name: "browse", Rate: 20, Steps: []JourneyStep{{Path: "/"}}}}, time.Second, 2*time.Second)
	time.Sleep(525 * time.Millisecond) // between two starts (every 50 ms)
	broken.Store(true)
	mid := time.Now()
	stats := run.Wait()
	done, ok := run.Since("browse", mid)
	require.Equal(t, 20, stats[0].Done)
	assert.Equal(t, 0, ok, "every journey started after the break failed")
	failed := stats[0].Done - stats[0].Succeeded
	assert.True(t, done <= failed && done >= failed-1, "the failures are the journeys since (one may have been in flight at the break): %d of %d", done, failed)
	assert.Greater(t, done, 5)
	all, allOK := run.Since("browse", time.Time{})
	assert.Equal(t, 20, all)
	assert.Equal(t, stats[0].Succeeded, allOK)
	none, _ := run.Since("other", time.Time{})
	assert.Zero(t, none)
}
