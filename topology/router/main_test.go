package router

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
)

// helperEnv makes the test binary act as a backend process (see
// pause_unix_test.go): a real process that a test can SIGSTOP.
const helperEnv = "FIREDRILL_ROUTER_TEST_BACKEND"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		serveHelper()
		return
	}
	os.Exit(m.Run())
}

// serveHelper serves /healthz and / on 127.0.0.1, prints its address and
// exits when stdin closes (so it never outlives the test).
func serveHelper() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
}
