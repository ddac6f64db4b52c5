package tokens

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/config"
)

// ParseScope reads a scope: read or admin.
func ParseScope(s string) (Scope, error) {
	switch sc := Scope(s); sc {
	case ScopeRead, ScopeAdmin:
		return sc, nil
	}
	return "", fmt.Errorf("unknown token scope %q: use read (answers questions) or admin (may also sync, provision and push)", s)
}

// Allows says whether a token of scope s may do what needs want: admin
// allows read and admin, read only read; an unknown scope allows nothing.
func (s Scope) Allows(want Scope) bool {
	switch s {
	case ScopeAdmin:
		return want == ScopeAdmin || want == ScopeRead
	case ScopeRead:
		return want == ScopeRead
	}
	return false
}

// ParseLifetime reads how long a token lasts, as config.ParseAge does (such
// as 90d, 12h, 2w or 1d12h; more than zero, at most 100 years), and also
// in years: 1y is 365 days.
func ParseLifetime(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(t, "y"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		d, err := config.ParseAge(n + "d")
		if err != nil || d > 100*24*time.Hour {
			return 0, fmt.Errorf("%q is not a lifetime: write a whole number of years up to 100, such as 1y, or days such as 90d", s)
		}
		return d * 365, nil
	}
	d, err := config.ParseAge(t)
	if err != nil {
		return 0, fmt.Errorf("token lifetime: %w; or years, such as 1y", err)
	}
	return d, nil
}

// EnvToken is the one token a deployment may give through the
// environment instead of creating one in the store.
type EnvToken struct {
	Secret string
	Scope  Scope
}

// MinEnvLength is the fewest characters the environment's token may have.
const MinEnvLength = 24

// The environment variables FromEnv reads.
const (
	EnvVar      = "WARDEN_API_TOKEN"
	EnvFileVar  = "WARDEN_API_TOKEN_FILE"
	EnvScopeVar = "WARDEN_API_TOKEN_SCOPE"
)

// FromEnv reads the token of the environment: WARDEN_API_TOKEN, or
// WARDEN_API_TOKEN_FILE naming a file that holds it (a trailing newline
// trimmed), with WARDEN_API_TOKEN_SCOPE read (the default) or admin. It is
// nil and no error when neither token variable is set. Both set, a token
// shorter than MinEnvLength or with spaces or control characters, a file
// that cannot be read, or a bad or lone scope is an error naming the
// variable and the fix, never the token.
func FromEnv(getenv func(string) string) (*EnvToken, error) {
	secret, file, scope := getenv(EnvVar), getenv(EnvFileVar), getenv(EnvScopeVar)
	from := EnvVar
	switch {
	case secret != "" && file != "":
		return nil, fmt.Errorf("both %s and %s are set: unset one (better %s, so the token stays out of the process environment)", EnvVar, EnvFileVar, EnvVar)
	case secret == "" && file == "":
		if scope != "" {
			return nil, fmt.Errorf("%s is set but neither %s nor %s is: set one of them to the token, or unset %s", EnvScopeVar, EnvVar, EnvFileVar, EnvScopeVar)
		}
		return nil, nil
	case file != "":
		from = EnvFileVar
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: cannot read the token: %v; make it a file this process can read", EnvFileVar, file, readProblem(err))
		}
		secret = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		from = fmt.Sprintf("%s=%s", EnvFileVar, file)
	}
	if len(secret) < MinEnvLength {
		return nil, fmt.Errorf("the token of %s is %d characters, fewer than %d; generate one with `openssl rand -hex 32`", from, len(secret), MinEnvLength)
	}
	for _, c := range secret {
		if c <= ' ' || c == 0x7f || c > '~' {
			return nil, fmt.Errorf("the token of %s holds a space, a control or a non-ASCII character, which no Authorization header can carry; generate one with `openssl rand -hex 32`", from)
		}
	}
	sc := ScopeRead
	if scope != "" {
		var err error
		if sc, err = ParseScope(scope); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvScopeVar, err)
		}
	}
	return &EnvToken{Secret: secret, Scope: sc}, nil
}

// readProblem is why a file could not be read, without its content.
func readProblem(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
