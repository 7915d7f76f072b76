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
	g := []rune(norm(got))
	// A third of the word, at most 3 edits, is a typo; more is a different
	// word. Words of one or two letters only match up to case and "-"/"_".
	limit := min(len(g)/3, 3)
	best, bestDist := "", -1
	for _, v := range valid {
		n := []rune(norm(v))
		if abs(len(n)-len(g)) > limit {
			continue // more edits than the limit, whatever they are
		}
		dist := editRunes(g, n)
		if bestDist < 0 || dist < bestDist {
			best, bestDist = v, dist
		}
	}
	return best, bestDist >= 0 && bestDist <= limit
}

// norm is s lower-cased without "_", "-" and spaces.
func norm(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if r != '_' && r != '-' && r != ' ' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int { return editRunes([]rune(a), []rune(b)) }

func editRunes(ra, rb []rune) int {
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
