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
	data := "x-base: &base {fixture: httpsvc}\n" + string(manyServices(1500, false)) + "# a comment\nruntime: local\n"
	data = strings.Replace(data, "  s1400:\n    fixture: httpsvc\n", "  s1400:\n    <<: *base\n", 1)
	body, ok, err := parseChunked(lexer.Tokenize(data))
	require.NoError(t, err)
	require.True(t, ok, "1500 services are parsed in pieces")
	whole, err := parser.ParseBytes([]byte(data), 0)
	require.NoError(t, err)
	assert.Equal(t, whole.Docs[0].Body.String(), body.String())

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
