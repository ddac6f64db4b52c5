package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// TokenRecord is an API token of `warden serve` as the store keeps it:
// its name, scope and times, and the sha256 of its secret. The secret
// itself is never stored.
type TokenRecord struct {
	Name     string
	Scope    string
	Hash     []byte // sha256 of the secret; the secret itself is never stored
	Created  time.Time
	Expires  *time.Time // nil: never expires
	LastUsed *time.Time // nil: never used
	Revoked  *time.Time // nil: live
}

// ErrTokenExists is returned (wrapped) by CreateToken when a live
// (unrevoked) token already has the name.
var ErrTokenExists = errors.New("a live token already has this name")

// timeValue is an optional time as stored: RFC 3339 in UTC, or NULL.
func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

// parseOptTime reads an optional time a column holds.
func parseOptTime(v sql.NullString) (*time.Time, error) {
	if !v.Valid {
		return nil, nil
	}
	t, err := time.Parse(timeFormat, v.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateToken stores a new token, or returns an error wrapping
// ErrTokenExists when a live token already has its name (a revoked one
// does not keep it). Its hash must be 32 bytes (sha256).
func (s *DB) CreateToken(ctx context.Context, r TokenRecord) error {
	if len(r.Hash) != 32 {
		return fmt.Errorf("store token %q: its hash is %d bytes, want the 32 of a sha256", r.Name, len(r.Hash))
	}
	res, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO api_tokens (name, scope, hash, created, expires, last_used, revoked)
		VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`),
		r.Name, r.Scope, hex.EncodeToString(r.Hash), r.Created.UTC().Format(timeFormat), timeValue(r.Expires), timeValue(r.LastUsed), timeValue(r.Revoked))
	if err != nil {
		return fmt.Errorf("store token %q in %s: %w", r.Name, s.path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store token %q in %s: %w", r.Name, s.path, err)
	} else if n == 0 {
		return fmt.Errorf("token %q: %w in %s; revoke it first (warden token revoke %s) or choose another name", r.Name, ErrTokenExists, s.path, r.Name)
	}
	return nil
}

const tokenCols = `name, scope, hash, created, expires, last_used, revoked`

// scanToken reads one row of tokenCols.
func scanToken(sc interface{ Scan(...any) error }) (*TokenRecord, error) {
	var r TokenRecord
	var hash, created string
	var expires, lastUsed, revoked sql.NullString
	if err := sc.Scan(&r.Name, &r.Scope, &hash, &created, &expires, &lastUsed, &revoked); err != nil {
		return nil, err
	}
	var err error
	if r.Hash, err = hex.DecodeString(hash); err != nil {
		return nil, fmt.Errorf("token %q: corrupt hash", r.Name)
	}
	if r.Created, err = time.Parse(timeFormat, created); err != nil {
		return nil, fmt.Errorf("token %q: created %q: %w", r.Name, created, err)
	}
	for _, f := range []struct {
		v   sql.NullString
		dst **time.Time
	}{{expires, &r.Expires}, {lastUsed, &r.LastUsed}, {revoked, &r.Revoked}} {
		if *f.dst, err = parseOptTime(f.v); err != nil {
			return nil, fmt.Errorf("token %q: %w", r.Name, err)
		}
	}
	return &r, nil
}

// Tokens lists every token, revoked ones included, by name (and, for one
// name, oldest first).
func (s *DB) Tokens(ctx context.Context) ([]TokenRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []TokenRecord{}
	for rows.Next() {
		r, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens in %s: %w", s.path, err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens in %s: %w", s.path, err)
	}
	return out, nil
}

// TokenByHash returns the token whose secret has this sha256, revoked or
// expired alike (the caller decides), or nil and no error when there is
// none.
func (s *DB) TokenByHash(ctx context.Context, hash []byte) (*TokenRecord, error) {
	r, err := scanToken(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+tokenCols+` FROM api_tokens WHERE hash=?`), hex.EncodeToString(hash)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("look up a token in %s: %w", s.path, err)
	}
	return r, nil
}

// RevokeToken marks the live token of the name revoked at at; false when
// there is no live token of that name. A revoked token stays listed, and
// its name may be given to a new token.
func (s *DB) RevokeToken(ctx context.Context, name string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE api_tokens SET revoked=? WHERE name=? AND revoked IS NULL`), at.UTC().Format(timeFormat), name)
	if err != nil {
		return false, fmt.Errorf("revoke token %q in %s: %w", name, s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("revoke token %q in %s: %w", name, s.path, err)
	}
	return n > 0, nil
}

// TouchToken records that the live token of the name was used at at (its
// LastUsed); a name with no live token is left alone.
func (s *DB) TouchToken(ctx context.Context, name string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE api_tokens SET last_used=? WHERE name=? AND revoked IS NULL`), at.UTC().Format(timeFormat), name); err != nil {
		return fmt.Errorf("record the use of token %q in %s: %w", name, s.path, err)
	}
	return nil
}
