package scenarios

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Never is restart_after: never — a killed instance stays down.
const Never Duration = -1

// ParseDuration reads "250ms", "5s", "1m30s" (time.ParseDuration) and
// "never" (Never).
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "never" {
		return Never, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write e.g. 250ms, 5s or 1m30s: %w", s, err)
	}
	return Duration(d), nil
}

// text is the file form: "5s", or "never" for Never.
func (d Duration) text() string {
	if d == Never {
		return "never"
	}
	return time.Duration(d).String()
}

// MarshalText writes the file form, so YAML and text encoders print "5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.text()), nil }

// UnmarshalText reads the file form.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the string form ("5s"), as in scenario files.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.text()) }

// UnmarshalJSON reads the string form, or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return d.UnmarshalText([]byte(s))
	}
	var ns int64
	if err := json.Unmarshal(b, &ns); err != nil {
		return fmt.Errorf("duration must be a string such as \"5s\", got %s", b)
	}
	*d = Duration(ns)
	return nil
}
