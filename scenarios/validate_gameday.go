package scenarios

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// InjectRollout is the name the new version's inject goes by in
// acknowledgements and the debrief (faults go by their own names).
const InjectRollout = "rollout"

// maxNote bounds a facilitator's note: a line or two for the debrief.
const maxNote = 500

// Announced says whether responders are told of an inject (default yes).
func Announced(announce *bool) bool { return announce == nil || *announce }

// gameday checks the game-day script: notes are written, and no fault
// takes the name the rollout's inject goes by.
func (c *checker) gameday() {
	note := func(p, n string) {
		switch {
		case n == "":
		case strings.TrimSpace(n) == "":
			c.at(p, "is blank; write what the facilitator should know, e.g. note: \"payments slows; do they find it?\"")
		case utf8.RuneCountInString(n) > maxNote:
			c.at(p, "is %d characters; keep a note under %d (it is printed in the debrief)", utf8.RuneCountInString(n), maxNote)
		}
	}
	if ro := c.s.Rollout; ro != nil {
		note("rollout.note", ro.Note)
	}
	for i, f := range c.s.Faults {
		if f == nil {
			continue
		}
		p := fmt.Sprintf("faults[%d]", i)
		note(p+".note", f.Note)
		if f.Name == InjectRollout && c.s.Rollout != nil {
			c.at(p+".name", "%q is what the rollout's inject is called in acknowledgements; rename the fault, e.g. name: rollout-fault", f.Name)
		}
	}
}
