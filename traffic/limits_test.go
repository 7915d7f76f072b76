package traffic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill/firedrill/scenarios"
)

// scenarios.MaxRate mirrors the generator's ceiling, so that validate
// refuses what Start would (before anything starts): the two cannot drift.
func TestScenarioRateLimitMirrorsTheGenerator(t *testing.T) {
	c := Config{URL: "http://127.0.0.1:1", Duration: time.Second, Rate: scenarios.MaxRate}.withDefaults()
	_, err := c.validate()
	assert.NoError(t, err, "the highest rate validation allows is one the generator takes")
	c.Rate = scenarios.MaxRate * 1.000001
	_, err = c.validate()
	assert.Error(t, err, "the generator refuses what validation refuses")
}
