package traffic

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// envServer makes the test binary run as the benchmarks' HTTP server, so
// that the generator's CPU can be measured apart from the server's.
const envServer = "FIREDRILL_TRAFFIC_BENCH_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(envServer) == "1" {
		os.Exit(serveUntilStdinCloses())
	}
	os.Exit(m.Run())
}

// minimalHandler answers like a fixture instance: version and instance
// headers and a two-byte body.
func minimalHandler(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h[HeaderVersion] = []string{"v1"}
	h[HeaderInstance] = []string{"bench-0"}
	_, _ = w.Write([]byte("ok"))
}

// serveUntilStdinCloses serves on 127.0.0.1, prints the address, and exits
// when its parent closes stdin (or dies), so it can never outlive a run.
func serveUntilStdinCloses() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	go func() { _ = http.Serve(ln, http.HandlerFunc(minimalHandler)) }()
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// childServer is a benchmark server in a separate process.
type childServer struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startChildServer(tb testing.TB) *childServer {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatalf("find the test binary to run the server: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envServer+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the benchmark server: %v", err)
	}
	c := &childServer{cmd: cmd, stdin: stdin}
	tb.Cleanup(func() { c.stop() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("benchmark server did not print its address: %v", err)
	}
	c.URL = "http://" + strings.TrimSpace(line)
	return c
}

// stop ends the server and returns the CPU time it used; safe to repeat.
func (c *childServer) stop() time.Duration {
	if c.cmd.ProcessState == nil {
		_ = c.stdin.Close()
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = c.cmd.Process.Kill()
			}
		}()
		_ = c.cmd.Wait()
		close(done)
	}
	return c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
}
