package scenarios

import (
	"fmt"
	"regexp"
	"strconv"
)

// Requests is how the rollout judge classes a service's answers.
type Requests struct {
	// Errors are the answers counted as errors: a status class ("5xx",
	// "4xx"), a single status ("404", "429") or "connection" (no HTTP
	// answer: refused, reset, timed out). Default DefaultRequestErrors.
	Errors []string `yaml:"errors,omitempty" json:"errors,omitempty"`
}

// DefaultRequestErrors is what counts as an error when a service says
// nothing: server errors and answers that never came.
var DefaultRequestErrors = []string{"5xx", "connection"}

var requestErrorEntry = regexp.MustCompile(`^([1-5]xx|[1-5][0-9][0-9]|connection)$`)

// IsError reports whether an answer with status (0: none, connErr true)
// counts as an error.
func (r *Requests) IsError(status int, connErr bool) bool {
	errs := DefaultRequestErrors
	if r != nil && len(r.Errors) > 0 {
		errs = r.Errors
	}
	for _, e := range errs {
		switch {
		case e == "connection":
			if connErr || status <= 0 {
				return true
			}
		case len(e) == 3 && e[1:] == "xx":
			if status > 0 && status/100 == int(e[0]-'0') {
				return true
			}
		default:
			if n, err := strconv.Atoi(e); err == nil && n == status {
				return true
			}
		}
	}
	return false
}

// requests checks every service's requests.errors.
func (c *checker) requests() {
	for _, svc := range c.s.Services {
		if svc == nil || svc.Requests == nil {
			continue
		}
		for i, e := range svc.Requests.Errors {
			if !requestErrorEntry.MatchString(e) {
				c.at(fmt.Sprintf("%s.requests.errors[%d]", child("services", svc.Name), i),
					"%q is not a status class, a status or connection; write e.g. errors: [5xx, 404, connection]", e)
			}
		}
	}
}
