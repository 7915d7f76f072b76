package traffic

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// modes are the two dispatch strategies; behaviour tests run under both.
var modes = []struct {
	name string
	mode dispatchMode
}{{"pool", dispatchPool}, {"goroutine", dispatchGoroutine}}

// server starts an httptest server on 127.0.0.1 that is closed at cleanup.
func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// start begins a run whose generator is stopped and drained at cleanup, and
// then checked for leftover goroutines, so that no test leaves one behind.
func start(t *testing.T, ctx context.Context, cfg Config, rec *record.Recorder) *Generator {
	t.Helper()
	g, err := Start(ctx, cfg, rec)
	require.NoError(t, err)
	t.Cleanup(func() {
		g.Stop()
		g.Wait()
		assertNoLeaks(t)
	})
	return g
}

// leftovers lists goroutines that belong to a generator or its transport.
func leftovers() []string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		// "created by" also catches a goroutine that has not run yet,
		// whose only frame is a compiler-made wrapper.
		if strings.Contains(g, "firedrill/traffic.(*Generator)") ||
			strings.Contains(g, "created by github.com/firedrill/firedrill/traffic.Start") ||
			strings.Contains(g, "net/http.(*persistConn)") ||
			strings.Contains(g, "net/http.(*Transport).dialConnFor") {
			out = append(out, g)
		}
	}
	return out
}

func assertNoLeaks(t *testing.T) {
	t.Helper()
	// Connections closed by Wait end their read loops asynchronously.
	assert.Eventually(t, func() bool { return len(leftovers()) == 0 }, 5*time.Second, 10*time.Millisecond,
		"goroutines left after Wait: %v", leftovers())
}

func clientSamples(rec *record.Recorder) []record.Sample {
	return rec.Select(record.Filter{Source: record.Client})
}

func sortedAt(ss []record.Sample) []int64 {
	at := make([]int64, len(ss))
	for i, s := range ss {
		at[i] = s.At
	}
	sort.Slice(at, func(i, j int) bool { return at[i] < at[j] })
	return at
}
