package setup

import (
	"crypto/rand"
	"fmt"
)

// ExternalID sizes: NewExternalID makes ExternalIDLength characters, and the
// templates refuse an ExternalId shorter than MinExternalIDLength.
const (
	ExternalIDLength    = 40
	MinExternalIDLength = 32
)

// externalIDAlphabet is the characters of a generated ExternalId: letters
// and digits only, so it can be pasted anywhere without quoting.
const externalIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewExternalID returns a new random ExternalId of ExternalIDLength
// characters from [A-Za-z0-9], drawn from crypto/rand with every character
// equally likely (about 238 bits).
func NewExternalID() (string, error) {
	// Bytes at or above the largest multiple of the alphabet size are
	// rejected so that b % 62 is uniform.
	const limit = 256 - 256%len(externalIDAlphabet)
	out := make([]byte, 0, ExternalIDLength)
	buf := make([]byte, 2*ExternalIDLength)
	for len(out) < ExternalIDLength {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate ExternalId: read random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, externalIDAlphabet[int(b)%len(externalIDAlphabet)])
			if len(out) == ExternalIDLength {
				break
			}
		}
	}
	return string(out), nil
}
