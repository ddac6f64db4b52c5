// Package tokens issues and checks the API tokens of `warden serve`. A
// token is shown once, when it is created; only its hash is stored.
package tokens

import (
	"errors"
	"time"
)

// Scope is what a token may do.
type Scope string

// Scopes: read answers questions; admin may also sync, provision and push.
const (
	ScopeRead  Scope = "read"
	ScopeAdmin Scope = "admin"
)

// Token is what is known of a token: never the secret itself.
type Token struct {
	Name     string     `json:"name"`
	Scope    Scope      `json:"scope"`
	Created  time.Time  `json:"created"`
	Expires  *time.Time `json:"expires"`
	LastUsed *time.Time `json:"last_used"`
	Revoked  *time.Time `json:"revoked"`
}

// ErrInvalid is returned for a secret that matches no live token (unknown,
// expired or revoked); which of these is not said, so it cannot be probed.
var ErrInvalid = errors.New("invalid, expired or revoked token")
