package reports

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// No line of a report ends in an empty field ("observed no data,
// threshold"): a check with nothing to judge says why.
func TestObservedTextHasNoEmptyField(t *testing.T) {
	nodata := Expectation{Name: "avail", Kind: "availability", Observed: "no data", Detail: "no client requests in 0s-10s"}
	assert.Equal(t, "observed no data: no client requests in 0s-10s", ObservedText(nodata))
	assert.Equal(t, "observed nothing", ObservedText(Expectation{}))
	assert.Equal(t, "observed 97%, threshold >= 99%", ObservedText(Expectation{Observed: "97%", Threshold: ">= 99%"}))

	r := &Result{Scenario: "s", Verdict: NOGO, Expectations: []Expectation{nodata}}
	var b strings.Builder
	Summary(&b, r, nil, false)
	assert.Contains(t, b.String(), "observed no data: no client requests")
	for _, line := range strings.Split(b.String(), "\n") {
		assert.NotRegexp(t, `threshold\s*$`, line)
	}
}
