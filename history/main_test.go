package history

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writerEnv makes the test binary a second harness that records runs into
// the file it names (TestTwoProcessesWriteOneFile).
const writerEnv = "FIREDRILL_HISTORY_TEST_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		os.Exit(writer(path))
	}
	os.Exit(m.Run())
}

func writer(path string) int {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer s.Close()
	w, _ := strconv.Atoi(os.Getenv(writerEnv + "_ID"))
	for i := range 25 {
		at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(w*100+i) * time.Minute)
		r := Run{Scenario: "two", Verdict: "GO", StartedAt: at, EndedAt: at,
			Expectations: []Expectation{{Name: "a", Kind: "availability", Passed: true}}}
		if _, err := s.Record(ctx, r); err != nil {
			fmt.Println(err)
			return 1
		}
	}
	return 0
}

// Two harness processes record into one SQLite file at once: all 50 runs
// are there, and the chain is one chain.
func TestTwoProcessesWriteOneFile(t *testing.T) {
	path := t.TempDir() + "/h.db"
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), writerEnv+"="+path, fmt.Sprintf("%s_ID=%d", writerEnv, w))
			outs[w], errs[w] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for w := range 2 {
		require.NoError(t, errs[w], "writer %d: %s", w, outs[w])
	}
	s := open(t, path)
	runs, err := s.Runs(context.Background(), Filter{Scenario: "two"})
	require.NoError(t, err)
	assert.Len(t, runs, 50)
	n, err := s.Verify(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 50, n)
}
