package scenarios

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hardCases are malformed files a newcomer writes; each must be refused at
// the position of needle (the text it points at) with msg in the message.
var hardCases = []struct{ name, yaml, needle, msg string }{
	{"rate beyond the generator", strings.Replace(base, "rate: 10", "rate: 1e12", 1), "1e12", "beyond the traffic generator; write a rate from above 0 to 1e9"},
	{"replicas beyond a machine", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    fixture: httpsvc\n    replicas: 5000", 1), "5000", "write replicas from 1 to 100"},
	{"rollout replicas beyond a machine", withRollout + "  replicas: 101\n", "101", "write replicas from 1 to 100"},
	{"port out of range", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    image: x/y:1\n    port: 70000", 1) + "runtime: docker\n", "70000", "write a port from 1 to 65535"},
	{"traffic beyond a day", strings.Replace(base, "duration: 30s", "duration: 100h", 1), "100h", "write a duration from 1s to 24h0m0s"},
	{"synthetic rate beyond a router", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    fixture: httpsvc\n    replicas: 2", 1) + "rollout:\n  service: b\n  to: v2\n  strategy: blue_green\n  blue_green: {preview: synthetic, synthetic_rate: 20000}\n", "20000", "synthetic_rate"},
	{"slicer variation above its size", base + "faults:\n  - {kind: slicer, edge: a -> b, duration: 1s, average_size: 10, size_variation: 50}\n", "50}", "write size_variation from 0 to 10"},
	{"rolling that cannot move", withRollout[:strings.Index(withRollout, "  steps:")] + "  strategy: rolling\n  rolling: {max_surge: 0, max_unavailable: 0}\n", "0, max_unavailable", "can never replace an instance"},
	{"rolling with only max_surge 0", withRollout[:strings.Index(withRollout, "  steps:")] + "  strategy: rolling\n  rolling:\n    max_surge: 0 # no surge\n", "0 # no", "can never replace an instance"},
	{"seed beyond 64 bits", base + "seed: 99999999999999999999999\n", "99999999999999999999999", "is too large; seed is a whole number from -9223372036854775808 to 9223372036854775807"},
	{"pause written as 0s", strings.Replace(withRollout, "{weight: 10, pause: 5s}", "{weight: 10, pause: 0s}", 1), "0s}", "0s is too short"},
	{"rate without a space", strings.Replace(base, "rate: 10", "rate:10", 1), "rate:10", "put a space after the colon: rate: 10"},
	{"percentage for a ratio", withRollout + "  analysis: {max_error_rate: 5%}\n", "5%", "5% is a percentage; write it as a ratio from 0 to 1: max_error_rate: 0.05"},
	{"percentage for a whole number", strings.Replace(withRollout, "weight: 50", "weight: 50%", 1), "50%", "write the number alone: weight: 50"},
	{"exponent that is not whole", strings.Replace(withRollout, "weight: 50", "weight: 5e-1", 1), "5e-1", "is not a whole number"},
	{"unclosed list", strings.Replace(base, "depends_on: [b]", "depends_on: [b", 1), "[b", "this [ is never closed; end the list or mapping with ]"},
	{"unclosed mapping", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b: {fixture: httpsvc", 1), "{fix", "this { is never closed; end the list or mapping with }"},
	{"merged key unknown, at the use", "x-svc: &svc\n  fixture: httpsvc\n  replicaz: 2\n" + strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    <<: *svc", 1), "*svc", `unknown key "replicaz"; did you mean "replicas"? (in &svc, at line 3 column 3)`},
	{"aliased value wrong, at the use", strings.Replace(base, "rate: 10", "rate: &r fast", 1) + "faults:\n  - {kind: down, edge: a -> b, duration: *r}\n", "*r}", `"fast" is not a duration; write e.g. 250ms, 5s or 1m30s (in &r, at line 10 column 12)`},
	{"huge value is cut", strings.Replace(base, "entry: a", "entry: "+strings.Repeat("x", 100000), 1), strings.Repeat("x", 100000) + "\n", `… (100000 characters)`},
	{"long cycle is cut", longCycle(500), "s0]", "s0 -> s1 -> s2 -> s3 -> s4 -> s5 -> ... (500 services)"},
}

// longCycle is n services s0 -> s1 -> ... -> s(n-1) -> s0.
func longCycle(n int) string {
	var b strings.Builder
	b.WriteString("name: t\ntraffic: {entry: s1, rate: 1, duration: 1s}\nservices:\n")
	for i := range n {
		b.WriteString("  s" + itoa(i) + ": {fixture: httpsvc, depends_on: [s" + itoa((i+1)%n) + "]}\n")
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// Each case, as written, with Windows line ends, and after a UTF-8 BOM:
// the same position every time.
func TestHardInputs(t *testing.T) {
	for _, tc := range hardCases {
		t.Run(tc.name, func(t *testing.T) {
			requireErrorAt(t, tc.yaml, tc.needle, tc.msg)
			at := lineCol(t, tc.yaml, tc.needle)
			crlf := strings.ReplaceAll(tc.yaml, "\n", "\r\n")
			requireMessageAt(t, crlf, at, tc.msg)
			requireMessageAt(t, "\ufeff"+tc.yaml, at, tc.msg)
		})
	}
}

// requireMessageAt is requireErrorAt with the position given.
func requireMessageAt(t *testing.T, text, at, msg string) {
	t.Helper()
	_, err := Parse("case.yaml", []byte(text))
	require.Error(t, err)
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(line, "case.yaml:"+at+": ") && strings.Contains(line, msg) {
			return
		}
	}
	t.Fatalf("no error at %s containing %q; got:\n%v", at, msg, err)
}

func TestEncodings(t *testing.T) {
	// Comments before an error: CRLF must not count their line ends twice.
	text := "# one\n# two\n# three\n" + strings.Replace(base, "rate: 10", "rate: x", 1)
	requireMessageAt(t, strings.ReplaceAll(text, "\n", "\r\n"), "13:9", "must be a number")
	requireMessageAt(t, strings.ReplaceAll(text, "\n", "\r"), "13:9", "must be a number")

	s, err := Parse("bom.yaml", append([]byte{0xEF, 0xBB, 0xBF}, base...))
	require.NoError(t, err, "a UTF-8 BOM is accepted")
	assert.Equal(t, "t", s.Name)

	u16 := utf16.Encode([]rune(base))
	le, be := []byte{0xFF, 0xFE}, []byte{0xFE, 0xFF}
	for _, u := range u16 {
		le = append(le, byte(u), byte(u>>8))
		be = append(be, byte(u>>8), byte(u))
	}
	for name, data := range map[string][]byte{"UTF-16 (little endian)": le, "UTF-16 (big endian)": be, "UTF-16 (little endian) ": le[2:],
		"UTF-32 (big endian)": append([]byte{0, 0, 0xFE, 0xFF}, 0, 0, 0, 'n')} {
		_, err := Parse("w.yaml", data)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "w.yaml:1:1: this file is "+strings.TrimSpace(name)+"; firedrill reads UTF-8 only: save it as UTF-8")
	}
}

func TestExponentsAreNumbers(t *testing.T) {
	s, err := Parse("t.yaml", []byte(strings.Replace(withRollout, "rate: 10", "rate: 1e3", 1)+"  replicas: 2e0\n"))
	require.NoError(t, err)
	assert.Equal(t, 1000.0, s.Traffic.Rate)
	assert.Equal(t, 2, s.Rollout.Replicas)
	_, err = Parse("t.yaml", []byte(strings.Replace(base, "rate: 10", `rate: "1e3"`, 1)))
	require.Error(t, err, "a quoted string stays a string")
}

// A file with hundreds of problems shows the first 20 and a count.
func TestManyErrorsAreCounted(t *testing.T) {
	text := strings.Replace(base, "name: t\n", "", 1)
	for i := range 300 {
		text += "k" + itoa(i) + ": 1\n"
	}
	_, err := Parse("many.yaml", []byte(text))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 21)
	assert.Contains(t, lines[20], "... and ")
	assert.Contains(t, lines[20], "more problems from here on")
}

func TestAbortIf(t *testing.T) {
	s, err := Parse("t.yaml", []byte(base+"abort_if: {availability_below: 0.5}\n"))
	require.NoError(t, err)
	assert.Equal(t, &AbortIf{AvailabilityBelow: 0.5, Window: DefaultAbortWindow, MinRequests: DefaultAbortMinRequests}, s.AbortIf)
	requireErrorAt(t, base+"abort_if: {availability_below: 50%}\n", "50%", "write it as a ratio from 0 to 1: availability_below: 0.5")
	requireErrorAt(t, base+"abort_if: {availability_below: 1}\n", "1}", "strictly between 0 and 1")
	requireErrorAt(t, base+"abort_if: {availability_below: 0.5, window: 1m}\n", "1m}", "write a window from 1s to the traffic's duration (30s)")
}
