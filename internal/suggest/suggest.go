// Package suggest finds the known word a misspelt one was meant to be, for
// errors that say "did you mean …?" (a changes file's keys, warden.yaml's).
package suggest

import "strings"

// Closest returns the word of known nearest to name (compared in lower
// case) when it is close enough to be a misspelling of it: fewer than
// len(name)/3+2 edits away. It returns "" when none is.
func Closest(name string, known []string) string {
	name = strings.ToLower(name)
	best, bestDist := "", len(name)/3+2
	for _, k := range known {
		if d := Distance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in bytes: the
// fewest insertions, deletions and substitutions that turn a into b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
