// Package clustertest holds what the runtimes' tests share.
package clustertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// FindEvent waits up to within for an event of kind about target at or
// after from, and fails the test without one.
func FindEvent(t testing.TB, events *record.Log, kind, target string, from time.Time, within time.Duration) record.Event {
	t.Helper()
	var found record.Event
	require.Eventually(t, func() bool {
		for _, e := range events.Events() {
			if e.Kind == kind && e.Target == target && !e.At.Before(from.UTC()) {
				found = e
				return true
			}
		}
		return false
	}, within, 20*time.Millisecond, "no %s event for %s", kind, target)
	return found
}
