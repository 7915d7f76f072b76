package observe

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/simulator"
)

// browser is headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: commands on fd 3, replies on fd 4, each
// message NUL-terminated), so the test can click and read the page.
type browser struct {
	cmd     *exec.Cmd
	w       io.Writer
	mu      sync.Mutex
	next    int
	waiting map[int]chan json.RawMessage
	session string
}

func startBrowser(t *testing.T, url string) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is missing: install it (Debian: apt-get install -y chromium)")
		}
		t.Skip("chromium is missing: apt-get install -y chromium to run this test")
	}
	inR, inW, err := os.Pipe()
	require.NoError(t, err)
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--no-default-browser-check", "--disable-crash-reporter", "--disable-breakpad", "--remote-debugging-pipe",
		"--user-data-dir="+t.TempDir(), url)
	cmd.ExtraFiles = []*os.File{inR, outW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // one group: helpers go with it
	// TMPDIR too: Chromium keeps its singleton socket in a directory there
	// that it leaves behind when killed.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TMPDIR="+t.TempDir())
	require.NoError(t, cmd.Start())
	inR.Close()
	outW.Close()
	b := &browser{cmd: cmd, w: inW, waiting: map[int]chan json.RawMessage{}}
	t.Cleanup(func() {
		inW.Close()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		outR.Close()
	})
	go b.read(outR)
	var targets struct {
		TargetInfos []struct{ TargetID, Type string } `json:"targetInfos"`
	}
	require.Eventually(t, func() bool {
		b.call(t, "Target.getTargets", nil, &targets)
		for _, ti := range targets.TargetInfos {
			if ti.Type == "page" {
				var att struct{ SessionID string }
				b.call(t, "Target.attachToTarget", map[string]any{"targetId": ti.TargetID, "flatten": true}, &att)
				b.session = att.SessionID
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "chromium shows no page")
	return b
}

func (b *browser) read(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue // events
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		b.mu.Unlock()
		if m.Error != nil {
			ch <- m.Error
			continue
		}
		ch <- m.Result
	}
}

// call sends one DevTools command and decodes its result into out.
func (b *browser) call(t *testing.T, method string, params any, out any) {
	t.Helper()
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan json.RawMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if b.session != "" && !strings.HasPrefix(method, "Target.") {
		msg["sessionId"] = b.session
	}
	raw, err := json.Marshal(msg)
	require.NoError(t, err)
	_, err = b.w.Write(append(raw, 0))
	require.NoError(t, err)
	select {
	case res := <-ch:
		require.NoError(t, json.Unmarshal(res, out), "%s: %s", method, res)
	case <-time.After(20 * time.Second):
		t.Fatalf("chromium did not answer %s", method)
	}
}

// eval runs JavaScript in the page and returns its string value.
func (b *browser) eval(t *testing.T, js string) string {
	t.Helper()
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
	}
	b.call(t, "Runtime.evaluate", map[string]any{"expression": js, "returnByValue": true}, &r)
	return fmt.Sprint(r.Result.Value)
}

// The dashboard in a real browser: it loads the run's state (timeline bars,
// faults, rollout, the open gate), and its buttons go through the run's
// control endpoint with its token: a wrong token is refused by the
// endpoint, the right one reaches the rollout's desk.
func TestDashboardInChromium(t *testing.T) {
	start := time.Now()
	rec := record.NewRecorder(start)
	for ms := 0; ms < 3000; ms += 10 {
		status := 200
		if ms >= 2000 && ms%30 == 0 {
			status = 503
		}
		rec.Observe(record.Observation{Source: record.Client, Service: "api", Intended: start.Add(time.Duration(ms) * time.Millisecond), Latency: time.Millisecond, Status: status})
	}
	m := NewMetrics(testScenario, rec)
	m.SetRunID("dash-" + fmt.Sprint(os.Getpid()))
	m.Event(record.Event{At: start, Kind: record.EvStepStarted, Fields: map[string]any{"step": 1, "weight": 20}})
	m.Event(record.Event{At: start, Kind: record.EvFaultInjected, Fields: map[string]any{"fault": "slow-db"}})
	m.Event(record.Event{At: start, Kind: "gate_opened", Message: "step 1 waits for a decision (reject after 15s)"})
	m.Event(record.Event{At: start, Kind: EvAlertLiveFiring, Message: "alert ApiErrors firing (+2s)", Fields: map[string]any{"alert": "ApiErrors"}})
	m.Event(record.Event{At: start, Kind: EvAlertLiveFiring, Message: "alert Gone firing (+1s)", Fields: map[string]any{"alert": "Gone"}})
	m.Event(record.Event{At: start, Kind: EvAlertLiveResolved, Message: "alert Gone resolved (+2s)", Fields: map[string]any{"alert": "Gone"}})

	var acked []string
	ack := func(by, inject string) ([]string, error) { // a run's acknowledge (rehearsal/gameday.go)
		acked = append(acked, by)
		return []string{"slow-db", "1 unannounced"}, nil
	}
	stop, err := control.Serve(simulator.NewDesk(), control.Info{RunID: m.runID, Scenario: "obs", OutDir: t.TempDir(), Started: start}, ack)
	require.NoError(t, err)
	defer stop()
	info, err := control.Find(m.runID)
	require.NoError(t, err)
	srv, err := Serve("127.0.0.1:0", m, Dashboard(m, func() (string, error) {
		i, err := control.Find(m.runID)
		return i.Addr, err
	}))
	require.NoError(t, err)
	defer srv.Close()

	b := startBrowser(t, "http://"+srv.Addr()+"/#token=wrong")
	require.Eventually(t, func() bool { return b.eval(t, "document.body.dataset.loaded || ''") == "yes" },
		20*time.Second, 200*time.Millisecond, "the page loads its state")
	assert.Equal(t, "3", b.eval(t, "String(document.querySelectorAll('#timeline > div').length)"), "one bar per second of traffic")
	assert.Contains(t, b.eval(t, "document.getElementById('timeline').lastChild.title"), "+2s: 67 ok, 33 errors", "one request in three failed in the third second")
	assert.Equal(t, "slow-db", b.eval(t, "document.getElementById('faults').textContent"))
	assert.Contains(t, b.eval(t, "document.getElementById('weights').textContent"), "v2 20%")
	assert.Contains(t, b.eval(t, "document.getElementById('gate').textContent"), "Gate open: step 1 waits")
	assert.Contains(t, b.eval(t, "document.getElementById('expect').textContent"), "avail: pending")
	assert.Equal(t, "ApiErrors", b.eval(t, "document.getElementById('firing').textContent"), "firing now; Gone resolved")
	assert.Contains(t, b.eval(t, "document.getElementById('events').textContent"), "alert ApiErrors firing (+2s)")

	status := func() string { return b.eval(t, "document.getElementById('status').textContent") }
	b.eval(t, "document.getElementById('approve').click(); 'clicked'")
	require.Eventually(t, func() bool { return strings.Contains(status(), "refused (401)") }, 15*time.Second, 200*time.Millisecond)
	assert.Contains(t, status(), "wrong or missing token")

	// The run's token: the control endpoint lets it through to the desk,
	// where no controller waits here (409, nothing to decide).
	b.eval(t, fmt.Sprintf("document.getElementById('token').value = %q; document.getElementById('approve').click(); 'clicked'", info.Token))
	require.Eventually(t, func() bool { return strings.Contains(status(), "refused (409)") }, 15*time.Second, 200*time.Millisecond, "status: %s", status())
	assert.Contains(t, status(), "nothing waits for a decision")

	// Acknowledge goes to the run's acknowledgements with the same token.
	b.eval(t, "document.getElementById('by').value = 'carol'; document.getElementById('ack').click(); 'clicked'")
	require.Eventually(t, func() bool { return strings.Contains(status(), "acknowledged: slow-db, 1 unannounced") }, 15*time.Second, 200*time.Millisecond, "status: %s", status())
	assert.Equal(t, []string{"live: carol"}, acked)
}
