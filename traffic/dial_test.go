package traffic

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/internal/memconn"
	"github.com/firedrill/firedrill/record"
)

// With Config.Dial the generator reaches its target only through it (here
// an in-memory listener; nothing listens on the URL's port): GETs on the
// lean path and other methods through the http.Client alike.
func TestDialReplacesTCP(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			ln := memconn.NewListener(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1})
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(HeaderVersion, "v1")
				_, _ = w.Write([]byte(r.Method))
			})}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })
			var dials atomic.Int64
			dial := func(ctx context.Context) (net.Conn, error) {
				dials.Add(1)
				return ln.Dial(ctx, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2})
			}
			rec := record.NewRecorder(time.Now())
			st := start(t, context.Background(), Config{URL: "http://127.0.0.1:1", Service: "s", Method: method,
				Rate: 50, Duration: 400 * time.Millisecond, Dial: dial}, rec).Wait()
			require.EqualValues(t, 20, st.Completed)
			assert.Zero(t, st.Errors, "every request answered through the dial")
			assert.Positive(t, dials.Load())
			assert.LessOrEqual(t, dials.Load(), int64(20))
			for _, s := range clientSamples(rec) {
				assert.Equal(t, "v1", rec.Name(s.Version))
			}
		})
	}
}
