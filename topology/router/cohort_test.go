package router

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// getAs sends one request with a header (or cookie) and returns the
// backend that answered.
func (h *harness) getAs(header, cookie, value string) string {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+"/work", nil)
	require.NoError(h.t, err)
	if header != "" {
		req.Header.Set(header, value)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookie, Value: value})
	}
	resp, err := h.client.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	return resp.Header.Get(HeaderBackend)
}

// A user stays in one cohort: every request of a user goes to the same
// version, the version is the one owning the user's bucket, and raising
// the new version's weight moves users onto it, never off it.
func TestCohortsAreStickyAndMonotone(t *testing.T) {
	for _, tc := range []struct{ header, cookie string }{{"X-User", ""}, {"", "session"}} {
		t.Run(tc.header+tc.cookie, func(t *testing.T) {
			h := newHarness(t, Config{Seed: 7})
			old, neu := newInstance(t, "old", "v1"), newInstance(t, "new", "v2")
			h.add(old, neu)
			require.NoError(t, h.r.SetWeights(map[string]int{"v1": 70, "v2": 30}))
			require.NoError(t, h.r.SetCohorts(Cohorts{Header: tc.header, Cookie: tc.cookie, Order: []string{"v1", "v2"}}))

			users := make([]string, 100)
			first := map[string]string{}
			onNew := 0
			for i := range users {
				users[i] = fmt.Sprintf("user-%d", i)
				b := h.getAs(tc.header, tc.cookie, users[i])
				for range 2 {
					assert.Equal(t, b, h.getAs(tc.header, tc.cookie, users[i]), "%s changed version", users[i])
				}
				want := "old"
				if CohortBucket(users[i]) >= 70 {
					want = "new"
					onNew++
				}
				assert.Equal(t, want, b, "%s (bucket %d)", users[i], CohortBucket(users[i]))
				first[users[i]] = b
			}
			assert.InDelta(t, 30, onNew, 15, "about 30%% of users")

			require.NoError(t, h.r.SetWeights(map[string]int{"v1": 40, "v2": 60}))
			moved := 0
			for _, u := range users {
				b := h.getAs(tc.header, tc.cookie, u)
				if first[u] == "new" {
					assert.Equal(t, "new", b, "%s left the new version when its share grew", u)
				} else if b == "new" {
					moved++
				}
			}
			assert.Positive(t, moved, "a larger share takes more users")
		})
	}
}

// Requests without the cohort key are drawn at random by weight, and a
// zero Cohorts turns cohort routing off.
func TestCohortsWithoutKey(t *testing.T) {
	h := newHarness(t, Config{Seed: 3})
	old, neu := newInstance(t, "old", "v1"), newInstance(t, "new", "v2")
	h.add(old, neu)
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 50, "v2": 50}))
	require.NoError(t, h.r.SetCohorts(Cohorts{Header: "X-User", Order: []string{"v1", "v2"}}))
	require.Error(t, h.r.SetCohorts(Cohorts{Header: "X-User", Cookie: "c"}))
	by, _ := h.countBy(200)
	assert.InDelta(t, 100, by["new"], 40, "no header: random by weight")
	require.NoError(t, h.r.SetCohorts(Cohorts{}))
	assert.Nil(t, h.r.Cohort())
}
