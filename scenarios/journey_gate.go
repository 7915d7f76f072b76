package scenarios

import "fmt"

// JourneyGate holds a rollout step's promotion (to the next step, or to
// 100%) until the journeys named Journey that started during the step
// succeeded in at least Min of cases; else the release rolls back
// (trigger journey).
type JourneyGate struct {
	Journey string  `yaml:"journey" json:"journey"`
	Min     float64 `yaml:"min" json:"min"`
	// MinJourneys is how many must have ended for the gate to judge
	// (default 10); fewer fail it: a gate without evidence does not pass.
	MinJourneys int `yaml:"min_journeys,omitempty" json:"min_journeys,omitempty"`
}

// DefaultMinJourneys is JourneyGate.MinJourneys's default.
const DefaultMinJourneys = 10

// Needed is MinJourneys with its default.
func (g *JourneyGate) Needed() int {
	if g.MinJourneys > 0 {
		return g.MinJourneys
	}
	return DefaultMinJourneys
}

// journeyGates checks each step's journey gate: a journey of this
// scenario, a ratio, and a step long enough to see the journeys it needs.
func (c *checker) journeyGates() {
	ro := c.s.Rollout
	if ro == nil {
		return
	}
	byName := map[string]*Journey{}
	var names []string
	for _, j := range c.s.Journeys {
		if j != nil {
			byName[j.Name] = j
			names = append(names, j.Name)
		}
	}
	for i, st := range ro.Steps {
		if st == nil || st.JourneyGate == nil {
			continue
		}
		g, p := st.JourneyGate, fmt.Sprintf("rollout.steps[%d].journey_gate", i)
		j := byName[g.Journey]
		switch {
		case g.Journey == "":
			c.at(p+".journey", "is missing; name one of journeys:, e.g. journey: checkout")
		case j == nil:
			c.at(p+".journey", "%q is not a journey of this scenario; %s", g.Journey, suggest(g.Journey, names))
		}
		if g.Min <= 0 || g.Min > 1 {
			c.at(p+".min", "%v must be a success ratio in (0, 1], e.g. min: 0.99", g.Min)
		}
		if g.MinJourneys < 0 {
			c.at(p+".min_journeys", "must be 0 (default %d) or more", DefaultMinJourneys)
		}
		if j != nil && j.Rate > 0 && j.Rate*st.Pause.D().Seconds() < float64(g.Needed()) {
			c.at(p, "step %d's pause %s sees about %.0f journeys of %s at %g/s; the gate needs %d: lengthen the pause or raise the journey's rate",
				i+1, st.Pause, j.Rate*st.Pause.D().Seconds(), j.Name, j.Rate, g.Needed())
		}
	}
}
