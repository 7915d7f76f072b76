package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// httpBase is a valid scenario with HTTP faults on an edge and a service.
const httpBase = `name: t
services:
  gateway:
    fixture: httpsvc
    depends_on: [payments]
  payments:
    fixture: httpsvc
traffic:
  entry: gateway
  rate: 10
  duration: 30s
faults:
  - {name: ab, kind: http_abort, edge: gateway -> payments, status: 502, percent: 20, match_path: /pay, at: 1s, duration: 5s}
  - {name: sl, kind: http_delay, service: payments, delay: 200ms, match_header: "X-Tenant: blue", at: 1s, duration: 5s}
`

func TestHTTPFaultsValid(t *testing.T) {
	s, err := Parse("t.yaml", []byte(httpBase))
	require.NoError(t, err)
	assert.Equal(t, "gateway -> payments", s.Faults[0].Target())
	assert.Equal(t, "service payments", s.Faults[1].Target())
	assert.Equal(t, 502, s.Faults[0].Status)
	assert.InDelta(t, 20, s.Faults[0].Percent, 0)
	assert.Equal(t, "X-Tenant: blue", s.Faults[1].MatchHeader)
}

func TestHTTPFaultsInvalid(t *testing.T) {
	edge := "kind: http_abort, edge: gateway -> payments,"
	svc := "kind: http_delay, service: payments, delay: 200ms,"
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"no target", edge, "kind: http_abort,", "faults[0].edge: is missing; http_abort needs edge: A -> B"},
		{"both targets", edge, edge + " service: payments,", "faults[0].service: http_abort acts on an edge or on a service, not both"},
		{"unknown edge", edge, "kind: http_abort, edge: payments -> gateway,", "faults[0].edge"},
		{"unknown service", svc, "kind: http_delay, service: pay, delay: 200ms,", `no service named "pay"`},
		{"status range", "status: 502", "status: 99", "faults[0].status: 99 is not a final HTTP status"},
		{"percent range", "percent: 20", "percent: 120", "faults[0].percent: 120 is not a percentage"},
		{"path", "match_path: /pay", "match_path: pay", `faults[0].match_path: "pay" is not a path`},
		{"header", `"X-Tenant: blue"`, `": blue"`, "faults[1].match_header"},
		{"delay missing", svc, "kind: http_delay, service: payments,", "faults[1].delay: an http_delay fault needs delay"},
		{"delay on abort", edge, edge + " delay: 1s,", "faults[0].delay: applies to"},
		{"status on delay", svc, svc + " status: 500,", "faults[1].status: applies to http_abort faults, not http_delay"},
		{"http key on a toxic", edge, "kind: latency, latency: 1s, edge: gateway -> payments,", "faults[0].percent: applies to http_abort and http_delay"},
		{"instance on http", svc, svc + " instance: 1,", "faults[1].instance: applies to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(httpBase, tc.old, tc.new, 1)
			require.NotEqual(t, httpBase, src)
			_, err := Parse("t.yaml", []byte(src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Regexp(t, `t\.yaml:\d+:\d+: `, err.Error(), "errors carry a position")
		})
	}
}
