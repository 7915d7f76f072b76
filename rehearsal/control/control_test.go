package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/simulator"
)

// The control endpoint announces itself, refuses a caller without the
// token, says when nothing waits, and is gone after stop. (Decisions that
// are applied are shown end to end by TestLiveApprovalThroughCLI.)
func TestControlEndpoint(t *testing.T) {
	id := "test" + randomID()
	stop, err := Serve(simulator.NewDesk(), Info{RunID: id, Scenario: "s", OutDir: t.TempDir(), Started: time.Now()}, nil)
	require.NoError(t, err)
	defer stop()
	info, err := Find(id)
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), info.PID)
	assert.True(t, strings.HasPrefix(info.Addr, "127.0.0.1:"), "loopback only: %s", info.Addr)
	st, err := os.Stat(filepath.Join(Dir(), id+".json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the token is the user's")

	resp, err := http.Post("http://"+info.Addr+"/v1/decisions", "application/json", strings.NewReader(`{"action":"approve"}`))
	require.NoError(t, err)
	var reply decisionReply
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reply))
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// No controller reads the desk: after its wait the run says nothing waits.
	_, err = Decide(context.Background(), id, "approve", "tester")
	assert.ErrorContains(t, err, "nothing waits for a decision")
	_, err = Decide(context.Background(), id, "promote", "tester")
	assert.ErrorContains(t, err, `unknown decision "promote"`)

	stop()
	_, err = Find(id)
	assert.Error(t, err, "the announcement is gone")
	if len(LiveRuns()) == 0 {
		assert.NoDirExists(t, Dir(), "and its directory, when no other run uses it")
	}
}

// An announcement whose harness died (SIGKILL) is swept, not offered.
func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestLiveRunsSweepsDeadHarnesses(t *testing.T) {
	require.NoError(t, os.MkdirAll(Dir(), 0o700))
	t.Cleanup(func() { _ = os.Remove(Dir()) }) // when empty
	path := filepath.Join(Dir(), "dead"+randomID()+".json")
	b, _ := json.Marshal(Info{RunID: "dead", PID: 1 << 22, Addr: "127.0.0.1:1"}) // above pid_max
	require.NoError(t, os.WriteFile(path, b, 0o600))
	for _, r := range LiveRuns() {
		assert.NotEqual(t, "dead", r.RunID)
	}
	_, err := os.Stat(path)
	assert.True(t, os.IsNotExist(err), "swept")

	require.NoError(t, os.WriteFile(path, b, 0o600))
	assert.Contains(t, Sweep(), "dead")
	if len(LiveRuns()) == 0 {
		assert.NoDirExists(t, Dir(), "the directory goes with the last announcement")
	}
}
