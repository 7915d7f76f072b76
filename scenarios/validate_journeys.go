package scenarios

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Journey is a synthetic user flow sent to the traffic's entry service
// beside the open-loop traffic: Steps in order, each expecting a status;
// Rate journeys start per second.
type Journey struct {
	Name  string         `yaml:"name" json:"name"`
	Rate  float64        `yaml:"rate" json:"rate"`
	Steps []*JourneyStep `yaml:"steps" json:"steps"`
}

// JourneyStep is one request of a journey; Status 0 accepts any status
// below 400.
type JourneyStep struct {
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	Path   string `yaml:"path" json:"path"`
	Status int    `yaml:"status,omitempty" json:"status,omitempty"`
}

var journeyMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// journeys checks the journeys: named once each, a rate, steps with a path.
func (c *checker) journeys() {
	seen := map[string]bool{}
	for i, j := range c.s.Journeys {
		p := fmt.Sprintf("journeys[%d]", i)
		if j == nil {
			c.at(p, "is empty; write e.g. {name: checkout, rate: 2, steps: [{path: /cart}]}")
			continue
		}
		switch {
		case j.Name == "":
			c.at(p+".name", "is missing; name the journey, e.g. name: checkout")
		case seen[j.Name]:
			c.at(p+".name", "%q names another journey too; give each its own name", j.Name)
		}
		seen[j.Name] = true
		if j.Rate <= 0 {
			c.at(p+".rate", "must be above 0 journeys per second; write e.g. rate: 2")
		}
		if len(j.Steps) == 0 {
			c.at(p+".steps", "a journey needs at least one step; write e.g. steps: [{path: /cart, status: 200}]")
		}
		for k, s := range j.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", p, k)
			if s == nil || !strings.HasPrefix(s.Path, "/") {
				c.at(sp+".path", "must start with /, e.g. path: /cart")
				continue
			}
			if s.Method != "" && !slices.Contains(journeyMethods, s.Method) {
				c.at(sp+".method", "unknown method %q; use one of %s", s.Method, strings.Join(journeyMethods, ", "))
			}
			if s.Status != 0 && (s.Status < 100 || s.Status > 599) {
				c.at(sp+".status", "%d is not an HTTP status; write e.g. status: 200", s.Status)
			}
		}
	}
}

// journeyExpectation checks journey_success: a journey of the scenario,
// and min in (0, 1].
func (c *checker) journeyExpectation(e *Expectation, p string) {
	if e.Kind != ExpectJourneySuccess {
		if e.Journey != "" {
			c.at(p+".journey", "applies to journey_success expectations, not %s; remove it", e.Kind)
		}
		return
	}
	if !within01(e.Min, true) {
		c.at(p+".min", "journey_success needs min, the lowest share of journeys that succeed, above 0 and at most 1; write e.g. min: 0.99")
	}
	var names []string
	for _, j := range c.s.Journeys {
		if j != nil {
			names = append(names, j.Name)
		}
	}
	switch {
	case e.Journey == "":
		c.at(p+".journey", "journey_success needs journey, the name of one of journeys:; write e.g. journey: checkout")
	case len(names) == 0:
		c.at(p+".kind", "journey_success needs journeys:, and the scenario has none")
	case !slices.Contains(names, e.Journey):
		c.at(p+".journey", "%q is not a journey of this scenario; %s", e.Journey, suggest(e.Journey, names))
	}
}
