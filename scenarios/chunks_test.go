package scenarios

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A large mapping parsed in pieces is the same tree as parsed whole.
func TestChunkedParseIsTheWholeParse(t *testing.T) {
	data := string(manyServices(1500, false)) + "# a comment\nruntime: local\n"
	data = strings.Replace(data, "  s0:\n", "  s0: &base\n", 1)
	data = strings.Replace(data, "  s1400:\n    fixture: httpsvc\n", "  s1400:\n    <<: *base\n", 1)
	body, lazy, ok, err := parseChunked(lexer.Tokenize(data))
	require.NoError(t, err)
	require.True(t, ok, "1500 services are parsed in pieces")
	assert.Same(t, servicesOf(body), lazy.target)
	require.Len(t, lazy.pieces, (1500+chunkKeys-1)/chunkKeys-1, "all but the head's are left for the decoder")
	require.NoError(t, lazy.joinAll())
	whole, err := parser.ParseBytes([]byte(data), 0)
	require.NoError(t, err)
	assert.Equal(t, whole.Docs[0].Body.String(), body.String())

	// Decoded one piece at a time, the scenario has every service, in order.
	s, err := Parse("big.yaml", []byte(data))
	require.NoError(t, err)
	require.Len(t, s.Services, 1500)
	assert.Equal(t, "s1499", s.Services[1499].Name)
	assert.Equal(t, "httpsvc", s.Service("s1400").Fixture, "merged from an anchor in the head")
	assert.Equal(t, []string{"s1401", "s1402"}, s.Service("s1400").DependsOn)

	// Positions in a late piece are the file's.
	bad := strings.Replace(data, "  s1200:\n    fixture: httpsvc\n", "  s1200:\n    fixture: httpsvc\n    replicas: many\n", 1)
	_, err = Parse("big.yaml", []byte(bad))
	require.Error(t, err)
	line := strings.Count(bad[:strings.Index(bad, "many")], "\n") + 1
	assert.Contains(t, err.Error(), "big.yaml:"+itoa(line)+":15: services.s1200.replicas: must be a whole number")

	// A syntax error in a piece is reported at its place.
	broken := strings.Replace(data, "depends_on: [s901, s902]", "depends_on: [s901, s902", 1)
	_, err = Parse("big.yaml", []byte(broken))
	require.Error(t, err)
	line = strings.Count(broken[:strings.Index(broken, "[s901, s902\n")], "\n") + 1
	assert.Contains(t, err.Error(), "big.yaml:"+itoa(line)+":17: this [ is never closed")
}
