package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill/firedrill/record"
)

func TestClassify(t *testing.T) {
	// Errors shaped the way net/http returns them: *url.Error around
	// *net.OpError around *os.SyscallError.
	wrap := func(op string, err error) error {
		return &url.Error{Op: "Get", URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: op, Net: "tcp", Err: err}}
	}
	for _, c := range []struct {
		name string
		err  error
		want record.ErrKind
	}{
		{"none", nil, record.ErrNone},
		{"refused", wrap("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED)), record.ErrConnRefused},
		{"reset", wrap("read", os.NewSyscallError("read", syscall.ECONNRESET)), record.ErrConnReset},
		{"broken pipe", wrap("write", os.NewSyscallError("write", syscall.EPIPE)), record.ErrConnReset},
		{"eof", &url.Error{Op: "Get", URL: "u", Err: io.EOF}, record.ErrConnReset},
		{"short body", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), record.ErrConnReset},
		{"deadline", &url.Error{Op: "Get", URL: "u", Err: context.DeadlineExceeded}, record.ErrTimeout},
		{"io deadline", wrap("read", os.ErrDeadlineExceeded), record.ErrTimeout},
		{"net timeout", &net.DNSError{Err: "slow", IsTimeout: true}, record.ErrTimeout},
		{"other", &url.Error{Op: "Get", URL: "u", Err: errors.New("tls: handshake failure")}, record.ErrOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, classify(c.err))
		})
	}
}

// A dial that found no free local port is counted apart, so that the run
// can say why (ephemeral ports exhausted) instead of a bare error.
func TestFailureNoPort(t *testing.T) {
	noPort := &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}}
	r := failure(noPort, context.Background())
	assert.True(t, r.noPort)
	assert.Equal(t, record.ErrOther, r.err)
	assert.False(t, failure(os.NewSyscallError("connect", syscall.ECONNREFUSED), context.Background()).noPort)
}
