package traffic

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Journey is a synthetic user flow: its steps are requested one after the
// other (a step starts when the previous one answered), and the journey
// succeeds when every step answers its expected status. Journeys start at
// Rate per second on an open-loop schedule: a slow journey does not delay
// the next one.
type Journey struct {
	Name  string
	Rate  float64
	Steps []JourneyStep
}

// JourneyStep is one request of a journey.
type JourneyStep struct {
	Method, Path string
	Status       int // expected status (0: any status below 400)
}

// JourneyStats is what one journey did.
type JourneyStats struct {
	Name      string
	Done      int // journeys that ran to an answer (not cut by the end of the run)
	Succeeded int
	// Failed counts failed journeys by the step that failed them and what
	// it answered, e.g. "2 POST /pay: 503".
	Failed map[string]int
}

// Journeys runs journeys against url until duration has passed.
type Journeys struct {
	client *http.Client
	wg     sync.WaitGroup
	mu     sync.Mutex
	stats  []JourneyStats
	// ends are each journey's outcomes by start time, for gates that
	// judge a window of the run (Since).
	ends [][]journeyEnd
}

type journeyEnd struct {
	started time.Time
	ok      bool
}

// StartJourneys starts every journey against url for duration; each
// request times out after timeout.
func StartJourneys(ctx context.Context, url string, js []Journey, duration, timeout time.Duration) *Journeys {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r := &Journeys{client: client, stats: make([]JourneyStats, len(js)), ends: make([][]journeyEnd, len(js))}
	base := strings.TrimSuffix(url, "/")
	start := time.Now()
	for i, j := range js {
		r.stats[i] = JourneyStats{Name: j.Name, Failed: map[string]int{}}
		p := pacer{rate: j.Rate}
		n := p.count(duration)
		r.wg.Go(func() {
			var runs sync.WaitGroup
			defer runs.Wait()
			for k := int64(0); k < n; k++ {
				if !sleepUntilCtx(ctx, start.Add(p.offset(k))) {
					return
				}
				runs.Go(func() {
					began := time.Now()
					if failure, counted := walk(ctx, client, base, j); counted {
						r.done(i, began, failure)
					}
				})
			}
		})
	}
	return r
}

func sleepUntilCtx(ctx context.Context, at time.Time) bool {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// walk runs one journey; it returns "" on success, else why it failed;
// counted is false for a journey the end of the run cut short.
func walk(ctx context.Context, c *http.Client, base string, j Journey) (failure string, counted bool) {
	for i, s := range j.Steps {
		method := s.Method
		if method == "" {
			method = http.MethodGet
		}
		step := fmt.Sprintf("%d %s %s", i+1, method, s.Path)
		req, err := http.NewRequestWithContext(ctx, method, base+s.Path, nil)
		if err != nil {
			return step + ": " + err.Error(), true
		}
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", false
			}
			return step + ": no response", true
		}
		resp.Body.Close()
		ok := resp.StatusCode == s.Status || (s.Status == 0 && resp.StatusCode < 400)
		if !ok {
			return fmt.Sprintf("%s: %d", step, resp.StatusCode), true
		}
	}
	return "", true
}

func (r *Journeys) done(i int, began time.Time, failure string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends[i] = append(r.ends[i], journeyEnd{started: began, ok: failure == ""})
	st := &r.stats[i]
	st.Done++
	if failure == "" {
		st.Succeeded++
		return
	}
	st.Failed[failure]++
}

// Wait waits for every journey started to end and returns the stats.
func (r *Journeys) Wait() []JourneyStats {
	r.wg.Wait()
	r.client.CloseIdleConnections()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]JourneyStats(nil), r.stats...)
}

// Since counts the journeys called name that started at or after from and
// have ended so far, and how many of them succeeded.
func (r *Journeys) Since(name string, from time.Time) (done, succeeded int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, st := range r.stats {
		if st.Name != name {
			continue
		}
		for _, e := range r.ends[i] {
			if !e.started.Before(from) {
				done++
				if e.ok {
					succeeded++
				}
			}
		}
	}
	return done, succeeded
}
