package firedrill_test

import (
	"context"
	"fmt"
	"os"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/scenarios"
)

// Run a rehearsal from Go, e.g. inside a team's own `go test`, and assert on
// its result.
func ExampleRun() {
	sc, err := scenarios.Load("scenarios/examples/quickstart.yaml")
	if err != nil {
		fmt.Println(err) // file:line:col: what is wrong and what to write instead
		return
	}
	out, _ := os.MkdirTemp("", "firedrill-example-")
	defer os.RemoveAll(out)
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: out})
	if err != nil {
		fmt.Println("run failed:", err)
		return
	}
	fmt.Println(res.Verdict, res.Rollout.Outcome)
	// Output: GO rolled_back
}
