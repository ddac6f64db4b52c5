package setup

import (
	"strings"
	"testing"
)

func TestNewExternalID(t *testing.T) {
	const n = 1000
	seen := map[string]bool{}
	counts := map[rune]int{}
	for i := 0; i < n; i++ {
		id, err := NewExternalID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != ExternalIDLength || len(id) < MinExternalIDLength {
			t.Fatalf("ExternalId %q has %d characters, want %d", id, len(id), ExternalIDLength)
		}
		for _, r := range id {
			if !strings.ContainsRune(externalIDAlphabet, r) {
				t.Fatalf("ExternalId %q has %q, outside [A-Za-z0-9]", id, r)
			}
			counts[r]++
		}
		if seen[id] {
			t.Fatalf("ExternalId %q generated twice", id)
		}
		seen[id] = true
	}
	// 40,000 characters over 62 symbols: about 645 each, standard deviation
	// about 25. Every symbol must appear and stay within 5 standard
	// deviations (a false alarm about once in 30,000 runs), which catches a
	// truncated alphabet and the modulo bias of taking every byte % 62 (the
	// first 8 characters would come out about 780 times).
	if len(counts) != len(externalIDAlphabet) {
		t.Errorf("only %d of %d characters ever appeared", len(counts), len(externalIDAlphabet))
	}
	for r, c := range counts {
		if c < 520 || c > 770 {
			t.Errorf("character %q appeared %d times in %d, expected about 645", r, c, n*ExternalIDLength)
		}
	}
}
