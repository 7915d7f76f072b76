package scenarios

import (
	"fmt"
	"strings"
)

// suggest says which valid word was probably meant, or lists them all.
func suggest(got string, valid []string) string {
	if best, ok := closest(got, valid); ok {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "valid keys are: " + strings.Join(valid, ", ")
}

// closest is the valid word nearest to got, if it is near enough to be a
// typo. Case, "-" and "_" are ignored first, so dependsOn finds depends_on.
func closest(got string, valid []string) (string, bool) {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	g := norm(got)
	best, bestDist := "", -1
	for _, v := range valid {
		dist := editDistance(g, norm(v))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = v, dist
		}
	}
	// A third of the word, at most 3 edits, is a typo; more is a different
	// word. Words of one or two letters only match up to case and "-"/"_".
	limit := min(len([]rune(g))/3, 3)
	return best, bestDist >= 0 && bestDist <= limit
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
