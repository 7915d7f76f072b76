package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEditDistance(t *testing.T) {
	// Textbook values: kitten/sitting is 3 (two substitutions, one insertion).
	assert.Equal(t, 3, editDistance("kitten", "sitting"))
	assert.Equal(t, 0, editDistance("", ""))
	assert.Equal(t, 4, editDistance("", "abcd"))
	assert.Equal(t, 1, editDistance("flaw", "flaws"))
	assert.Equal(t, 2, editDistance("gumbo", "gambol"))
}

func TestClosest(t *testing.T) {
	keys := []string{"depends_on", "replicas", "start_timeout", "env"}
	for got, want := range map[string]string{
		"dependsOn":    "depends_on",
		"depends-on":   "depends_on",
		"replica":      "replicas",
		"StartTimeout": "start_timeout",
		"ENV":          "env",
	} {
		best, ok := closest(got, keys)
		assert.True(t, ok, got)
		assert.Equal(t, want, best, got)
	}
	for _, far := range []string{"colour", "e", "timeout_start_x"} {
		_, ok := closest(far, keys)
		assert.False(t, ok, far)
	}
}
