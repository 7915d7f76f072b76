package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPeakInstances(t *testing.T) {
	for _, c := range []struct {
		file string
		want int
	}{
		{"examples/rolling.yaml", 1 + 3 + 1},            // gateway, 3 checkout, surge 1
		{"examples/canary-healthy.yaml", 1 + 2 + 1 + 1}, // gateway, 2 checkout, payments, 1 canary
	} {
		s, err := Load(c.file)
		require.NoError(t, err)
		assert.Equal(t, c.want, s.PeakInstances(), c.file)
	}
}
