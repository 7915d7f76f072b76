package traffic

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second}.withDefaults()
	assert.Equal(t, []string{"/"}, c.Paths)
	assert.Equal(t, "GET", c.Method)
	assert.Equal(t, 2*time.Second, c.Timeout)
	assert.Equal(t, 10000, c.MaxInFlight)
	_, err := c.validate()
	require.NoError(t, err)
}

func TestConfigInvalid(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:4000", Rate: 10, Duration: time.Second}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "URL is empty"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://127.0.0.1" }, "scheme must be http"},
		{"no host", func(c *Config) { c.URL = "http:///x" }, "has no host"},
		{"unparsable", func(c *Config) { c.URL = "http://[::1" }, "does not parse"},
		{"zero rate", func(c *Config) { c.Rate = 0 }, "rate 0"},
		{"negative rate", func(c *Config) { c.Rate = -5 }, "out of range"},
		{"zero duration", func(c *Config) { c.Duration = 0 }, "duration 0s must be positive"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout"},
		{"negative warmup", func(c *Config) { c.Warmup = -time.Second }, "warmup"},
		{"negative cap", func(c *Config) { c.MaxInFlight = -1 }, "max in flight"},
		{"relative path", func(c *Config) { c.Paths = []string{"api"} }, `path "api" must start with /`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			_, err := Start(context.Background(), cfg, record.NewRecorder(time.Now()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := Start(context.Background(), ok, nil)
	assert.ErrorContains(t, err, "recorder is nil")
}
