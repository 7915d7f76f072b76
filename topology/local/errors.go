package local

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
)

// ErrInfra matches (errors.Is) every *InfraError: the machinery failed (a
// service would not start, a port would not bind), not the scenario.
var ErrInfra = errors.New("infrastructure error")

// InfraError is a failure to start or run part of the topology. It carries
// what a user needs to fix it: the command and the end of its log.
type InfraError struct {
	Service  string
	Instance string
	Command  []string // the instance's command line, if any
	Log      string   // path of the instance's log, if any
	LogTail  string   // its last lines
	Err      error
}

func (e *InfraError) Error() string {
	var b strings.Builder
	if e.Service != "" {
		b.WriteString("service " + e.Service + ": ")
	}
	if e.Instance != "" {
		b.WriteString("instance " + e.Instance + ": ")
	}
	b.WriteString(e.Err.Error())
	if len(e.Command) > 0 {
		b.WriteString("\n  command: " + quoteArgs(e.Command))
	}
	if e.Log != "" {
		if strings.TrimSpace(e.LogTail) == "" {
			b.WriteString("\n  log " + e.Log + " is empty")
		} else {
			b.WriteString("\n  last lines of " + e.Log + ":")
			for _, l := range strings.Split(strings.TrimRight(e.LogTail, "\n"), "\n") {
				b.WriteString("\n    " + l)
			}
		}
	}
	return b.String()
}

func (e *InfraError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInfra) true.
func (e *InfraError) Is(target error) bool { return target == ErrInfra }

// quoteArgs prints a command line so that it can be pasted into a shell.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '=' || r == ',' ||
				r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// tailLines returns the last n lines of the file at path ("" if unreadable).
func tailLines(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	data = bytes.TrimRight(data, "\n")
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
