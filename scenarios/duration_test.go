package scenarios

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDurationForms(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"250ms", 250 * time.Millisecond},
		{"5s", 5 * time.Second},
		{"1m30s", 90 * time.Second},
		{"1.5h", 90 * time.Minute},
		{"never", -1},
	}
	for _, tc := range cases {
		d, err := ParseDuration(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, d.D(), tc.in)

		b, err := json.Marshal(d)
		require.NoError(t, err)
		var back Duration
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, d, back, "JSON round trip of %s via %s", tc.in, b)
	}
	_, err := ParseDuration("5 seconds")
	assert.ErrorContains(t, err, "write e.g. 250ms")
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		A Duration `json:"a"`
		B Duration `json:"b"`
	}{Duration(1500 * time.Millisecond), Never})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":"1.5s","b":"never"}`, string(b))

	var d Duration
	require.NoError(t, json.Unmarshal([]byte(`2000000000`), &d), "a number is nanoseconds")
	assert.Equal(t, 2*time.Second, d.D())
	assert.Error(t, json.Unmarshal([]byte(`"soon"`), &d))
	assert.Error(t, json.Unmarshal([]byte(`{}`), &d))
}

// Other YAML users of the type (not our decoder) read and write the same form.
func TestDurationWithGoccyYAML(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	require.NoError(t, yaml.Unmarshal([]byte("d: 1m30s\n"), &v))
	assert.Equal(t, 90*time.Second, v.D.D())
	out, err := yaml.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, "d: 1m30s\n", string(out))
}
