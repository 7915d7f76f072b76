package main

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a strings.Builder safe for the watcher's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestInterruptSaysCleaningUp(t *testing.T) {
	var out syncBuffer
	ui := &plainProgress{w: &out}
	ctx, cancel := context.WithCancel(context.Background())
	stop := watchInterrupt(ctx, ui, &out)
	defer stop()
	assert.NotContains(t, out.String(), "cleaning up")
	cancel()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), cleaningUp) }, 5*time.Second, 10*time.Millisecond)
}

func TestSecondSignalQuits(t *testing.T) {
	var out syncBuffer
	sigs := make(chan os.Signal, 1)
	code := make(chan int, 1)
	go onSecond(make(chan struct{}), sigs, &out, func(c int) { code <- c })
	sigs <- os.Interrupt
	select {
	case c := <-code:
		assert.Equal(t, 130, c)
		assert.Contains(t, out.String(), "firedrill clean")
	case <-time.After(5 * time.Second):
		t.Fatal("a second signal did not quit")
	}

	done := make(chan struct{})
	close(done)
	onSecond(done, make(chan os.Signal), &out, func(int) { t.Fatal("no signal, no exit") })
}
