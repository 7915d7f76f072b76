package scenarios

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Messages stay readable whatever the file holds: a value is cut to
// clipRunes characters with its length, a message to maxMsgRunes, and a
// file with many problems shows the first maxErrors of them.
const (
	clipRunes   = 80
	maxWord     = 100
	maxMsgRunes = 1000
	maxErrors   = 20
	// maxSuggested problems get a "did you mean"; beyond, they are not
	// shown anyway, and searching for each would make a file with a
	// problem per service quadratic.
	maxSuggested = 50
	maxListed    = 20 // words listed as "valid ones are ..."
)

// listSome joins the first maxListed words, and says how many there are.
func listSome(words []string) string {
	if len(words) <= maxListed {
		return strings.Join(words, ", ")
	}
	return fmt.Sprintf("%s, ... (%d in all)", strings.Join(words[:maxListed], ", "), len(words))
}

// clip cuts s to about clipRunes characters, saying how long it was.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= clipRunes {
		return s
	}
	return fmt.Sprintf("%s… (%d characters)", cutRunes(s, clipRunes), utf8.RuneCountInString(s))
}

func cutRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// boundMsg is the safety net under every message: each word longer than
// maxWord (a value echoed whole) is clipped, and the whole is cut to
// maxMsgRunes; short messages pass untouched.
func boundMsg(msg string) string {
	if len(msg) <= maxWord {
		return msg
	}
	words := strings.Split(msg, " ")
	for i, w := range words {
		if utf8.RuneCountInString(w) > maxWord {
			words[i] = clip(w)
		}
	}
	msg = strings.Join(words, " ")
	if n := utf8.RuneCountInString(msg); n > maxMsgRunes {
		msg = fmt.Sprintf("%s… (message cut, %d characters)", cutRunes(msg, maxMsgRunes), n)
	}
	return msg
}

// bounded keeps the first maxErrors problems (in file order) and says how
// many more there are, at the position of the first one left out.
func (es Errors) bounded() error {
	err := es.orNil()
	if err == nil || len(es) <= maxErrors+1 {
		return err
	}
	next := es[maxErrors]
	more := &Error{File: next.File, Line: next.Line, Col: next.Col,
		Msg: fmt.Sprintf("... and %d more problems from here on; fix the ones above and validate again", len(es)-maxErrors)}
	out := append(es[:maxErrors:maxErrors], more)
	return &out
}

// cycleText shows a dependency cycle; a long one as its first few
// services and its length.
func cycleText(cycle []string) string {
	const show = 6
	if len(cycle) <= show+1 {
		return strings.Join(cycle, " -> ")
	}
	return fmt.Sprintf("%s -> ... (%d services)", strings.Join(cycle[:show], " -> "), len(cycle)-1)
}

// serviceIndex maps each service name to its first definition.
func (s *Scenario) serviceIndex() map[string]*Service {
	m := make(map[string]*Service, len(s.Services))
	for _, svc := range s.Services {
		if svc != nil {
			if _, dup := m[svc.Name]; !dup {
				m[svc.Name] = svc
			}
		}
	}
	return m
}

// clipArgs clips the string arguments of a message that are values (no
// space in them), so that a 20 MB value is not echoed whole; hints and
// lists, which have spaces, are left to boundMsg.
func clipArgs(args []any) []any {
	out := args
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > clipRunes && !strings.Contains(s, " ") {
			if &out[0] == &args[0] {
				out = append([]any(nil), args...)
			}
			out[i] = clip(s)
		}
	}
	return out
}
