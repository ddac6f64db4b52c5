package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/warden-iam/warden/internal/store"
)

// Store is what the service keeps tokens in; *store.DB is one. Its methods
// are those of store.DB: see their contracts there.
type Store interface {
	CreateToken(ctx context.Context, r store.TokenRecord) error
	Tokens(ctx context.Context) ([]store.TokenRecord, error)
	TokenByHash(ctx context.Context, hash []byte) (*store.TokenRecord, error)
	RevokeToken(ctx context.Context, name string, at time.Time) (bool, error)
	TouchToken(ctx context.Context, name string, at time.Time) error
}

var _ Store = (*store.DB)(nil)

// EnvName is the name of the token that comes from the environment
// (FromEnv), in logs and the audit log; no stored token may take it.
const EnvName = "env"

// SecretPrefix begins every secret Create makes, so a leaked one is
// recognised as warden's (by a secret scanner, say).
const SecretPrefix = "wdn_"

// TouchEvery is how often at most a token's last use is written: a
// request within it of the last recorded use writes nothing.
const TouchEvery = time.Minute

// ErrNotFound is returned (wrapped) by Revoke when no live token has the
// name.
var ErrNotFound = errors.New("no live token of that name")

// ErrBadName is returned (wrapped) by Create for a name that breaks the
// rules of nameRule.
var ErrBadName = errors.New("bad token name")

// nameRule is what a token name may be: 1 to 64 lowercase letters, digits,
// dots, underscores and hyphens, beginning with a letter or digit.
var nameRule = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Options are the service's settings.
type Options struct {
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Env is the token of the environment (FromEnv), or nil for none.
	Env *EnvToken
	// Log receives a warning when a token's last use cannot be recorded,
	// which does not fail its verification (nil: slog.Default()). It
	// names the token, never its secret.
	Log *slog.Logger
}

// Service creates, lists, revokes and verifies API tokens. It is safe for
// concurrent use.
type Service struct {
	st      Store
	now     func() time.Time
	log     *slog.Logger
	env     *EnvToken
	envHash [sha256.Size]byte

	mu      sync.Mutex
	touched map[string]time.Time // token name → the last use this process recorded
	writes  sync.WaitGroup       // last-use writes in flight
}

// New returns a service keeping tokens in st.
func New(st Store, o Options) *Service {
	s := &Service{st: st, now: o.Now, log: o.Log, env: o.Env, touched: map[string]time.Time{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if o.Env != nil {
		s.envHash = sha256.Sum256([]byte(o.Env.Secret))
	}
	return s
}

// hashSecret is what the store keeps of a secret.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// newSecret makes a secret: SecretPrefix and 32 random bytes in URL-safe
// base64 without padding (47 characters in all).
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a token: read random bytes: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// CheckName says whether name may be given to a token: 1 to 64 lowercase
// letters, digits, dots, underscores and hyphens, beginning with a letter
// or digit, and not EnvName.
func CheckName(name string) error {
	if name == EnvName {
		return fmt.Errorf("%w %q: it is the name of the token from WARDEN_API_TOKEN; choose another", ErrBadName, name)
	}
	if !nameRule.MatchString(name) {
		return fmt.Errorf("%w %q: use 1 to 64 lowercase letters, digits, dots, underscores and hyphens, beginning with a letter or digit, such as grafana or ci-deploy", ErrBadName, name)
	}
	return nil
}

// Create makes a token of the name and scope that expires lifetime from
// now (0: never) and returns its secret, which is shown only now: the store
// keeps only its sha256. The name must pass CheckName and belong to no
// live token (the error then wraps store.ErrTokenExists).
func (s *Service) Create(ctx context.Context, name string, scope Scope, lifetime time.Duration) (secret string, t Token, err error) {
	if err := CheckName(name); err != nil {
		return "", Token{}, err
	}
	if _, err := ParseScope(string(scope)); err != nil {
		return "", Token{}, err
	}
	if lifetime < 0 {
		return "", Token{}, fmt.Errorf("token %q: lifetime %s is negative; give a positive one such as 90d, or none for a token that never expires", name, lifetime)
	}
	secret, err = newSecret()
	if err != nil {
		return "", Token{}, err
	}
	r := store.TokenRecord{Name: name, Scope: string(scope), Hash: hashSecret(secret), Created: s.now().UTC().Truncate(time.Second)}
	if lifetime > 0 {
		exp := r.Created.Add(lifetime)
		r.Expires = &exp
	}
	if err := s.st.CreateToken(ctx, r); err != nil {
		return "", Token{}, err
	}
	return secret, fromRecord(r), nil
}

// fromRecord is what may be shown of a stored token.
func fromRecord(r store.TokenRecord) Token {
	return Token{Name: r.Name, Scope: Scope(r.Scope), Created: r.Created, Expires: r.Expires, LastUsed: r.LastUsed, Revoked: r.Revoked}
}

// List returns every stored token by name, revoked and expired ones
// included (the token of the environment is not stored, and not listed).
func (s *Service) List(ctx context.Context) ([]Token, error) {
	recs, err := s.st.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Token, 0, len(recs))
	for _, r := range recs {
		out = append(out, fromRecord(r))
	}
	return out, nil
}

// Revoke revokes the live token of the name, at once for every replica
// sharing the store; an error wrapping ErrNotFound when there is none.
func (s *Service) Revoke(ctx context.Context, name string) error {
	ok, err := s.st.RevokeToken(ctx, name, s.now().UTC())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("token %q: %w; `warden token list` shows the tokens and which are revoked", name, ErrNotFound)
	}
	return nil
}

// Verify returns the token whose secret this is, or ErrInvalid when it is
// unknown, expired or revoked. The token of the environment is
// Token{Name: EnvName} with its scope, compared in constant time. A stored
// token's last use is recorded at most once every TouchEvery, in the
// background: a request never waits for that write (which, on SQLite, may
// queue behind a snapshot being written). Failing to record it is logged
// and does not fail the verification. Wait waits for such writes.
func (s *Service) Verify(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, ErrInvalid
	}
	h := sha256.Sum256([]byte(secret))
	if s.env != nil && subtle.ConstantTimeCompare(h[:], s.envHash[:]) == 1 {
		return Token{Name: EnvName, Scope: s.env.Scope}, nil
	}
	r, err := s.st.TokenByHash(ctx, h[:])
	if err != nil {
		return Token{}, fmt.Errorf("verify a token: %w", err)
	}
	now := s.now()
	if r == nil || r.Revoked != nil || (r.Expires != nil && !now.Before(*r.Expires)) {
		return Token{}, ErrInvalid
	}
	if s.claimTouch(r.Name, r.LastUsed, now) {
		s.writes.Add(1)
		go s.touch(context.WithoutCancel(ctx), r.Name, now.UTC())
	}
	return fromRecord(*r), nil
}

// touchTimeout bounds one write of a token's last use.
const touchTimeout = 30 * time.Second

// touch records that the token name was used at at, logging a failure.
func (s *Service) touch(ctx context.Context, name string, at time.Time) {
	defer s.writes.Done()
	ctx, cancel := context.WithTimeout(ctx, touchTimeout)
	defer cancel()
	if err := s.st.TouchToken(ctx, name, at); err != nil {
		s.log.Warn("could not record the use of a token", "token", name, "err", err)
	}
}

// Wait returns when every write of a last use that Verify started has
// ended: call it before closing the store.
func (s *Service) Wait() {
	s.writes.Wait()
}

// claimTouch says whether this use of the token is the one to record: the
// last recorded use, here or (from the store) on any replica, is
// TouchEvery old or more. It notes the use at once, so concurrent
// requests record one.
func (s *Service) claimTouch(name string, stored *time.Time, now time.Time) bool {
	if stored != nil && now.Sub(*stored) < TouchEvery {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.touched[name]; ok && now.Sub(last) < TouchEvery {
		return false
	}
	s.touched[name] = now
	return true
}
