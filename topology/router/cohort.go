package router

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/textproto"
	"slices"
)

// Cohorts makes the weighted choice of version sticky per user: a request
// carrying the header (or cookie) is placed by the hash of its value, so
// the same value always lands in the same percentile bucket, and versions
// own consecutive buckets in Order. The last version of Order owns the top
// buckets; raising its weight only moves users onto it, never off it. A
// request without the header or cookie is drawn at random, as without
// cohorts.
type Cohorts struct {
	Header string
	Cookie string
	// Order lists versions from the first bucket to the last; versions
	// not listed follow by name.
	Order []string
}

// SetCohorts turns cohort routing on; a zero Cohorts turns it off. It
// applies with explicit weights (SetWeights).
func (r *Router) SetCohorts(c Cohorts) error {
	if c.Header != "" && c.Cookie != "" {
		return fmt.Errorf("router %s: set cohorts: a header or a cookie, not both", r.cfg.Service)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.Header == "" && c.Cookie == "" {
		r.cohorts = nil
	} else {
		c.Header = textproto.CanonicalMIMEHeaderKey(c.Header)
		c.Order = slices.Clone(c.Order)
		r.cohorts = &c
	}
	r.rebuildLocked()
	return nil
}

// CohortBucket is the percentile bucket (0..99) of a cohort key: the
// version owning the bucket serves the key's requests.
func CohortBucket(key string) int { return int(cohortHash(key) % 100) }

func cohortHash(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return splitmix64(h.Sum64()) // FNV's low bits alone are poorly mixed
}

// cohortOrder lists slot indices in cohort order.
func cohortOrder(slots []slot, order []string) []int {
	rank := map[string]int{}
	for i, v := range order {
		rank[v] = i
	}
	idx := make([]int, len(slots))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ra, oka := rank[slots[a].version]
		rb, okb := rank[slots[b].version]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0 // slots are sorted by name already
	})
	return idx
}

// cohortDraw is the request's cohort hash, when cohorts apply to it.
func (t *table) cohortDraw(req *http.Request) (uint64, bool) {
	c := t.cohorts
	if c == nil {
		return 0, false
	}
	var key string
	if c.Header != "" {
		key = req.Header.Get(c.Header)
	} else if ck, err := req.Cookie(c.Cookie); err == nil {
		key = ck.Value
	}
	if key == "" {
		return 0, false
	}
	return cohortHash(key), true
}

// chooseCohort places bucket x%100 on the weights taken in cohort order.
// Weights are percents summing to 100, so the bucket is a percentile.
func (t *table) chooseCohort(x uint64) *backend {
	if t.total == 0 {
		return nil
	}
	p := int(x % 100)
	if t.total != 100 {
		p = int(x % uint64(t.total))
	}
	for _, i := range t.order {
		s := &t.slots[i]
		if p < s.weight {
			return t.fromSlot(s, x)
		}
		p -= s.weight
	}
	return nil
}

// Cohort returns the current cohort settings (nil when off), for tests
// and status pages.
func (r *Router) Cohort() *Cohorts {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cohorts == nil {
		return nil
	}
	c := *r.cohorts
	c.Order = slices.Clone(c.Order)
	return &c
}
