package scenarios

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a scenario, at a position of its file when known.
type Error struct {
	File string // "" prints as "<scenario>"
	Line int    // 1-based; 0 when the scenario was built in code
	Col  int
	Msg  string
	// Err is the underlying cause, if any (a read error, a YAML syntax error).
	Err error
}

func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "<scenario>"
	}
	if e.Line <= 0 {
		return file + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", file, e.Line, e.Col, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one scenario, in file order. Load, Parse
// and Validate return it as *Errors.
type Errors []*Error

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *Error to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// IsInvalid reports whether err says the scenario itself is wrong (exit
// code 2), as opposed to a failure of the machinery running it.
func IsInvalid(err error) bool {
	var es *Errors
	var e *Error
	return errors.As(err, &es) || errors.As(err, &e)
}

// orNil returns the list as an error, or a true nil when it is empty (never
// a typed nil inside an interface).
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
	return &es
}

// single wraps one problem as *Errors.
func single(file string, line, col int, cause error, format string, args ...any) error {
	return Errors{{File: file, Line: line, Col: col, Msg: boundMsg(fmt.Sprintf(format, args...)), Err: cause}}.orNil()
}
