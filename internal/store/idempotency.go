package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// IdempotentResponse is what the store keeps of an API request made with
// an Idempotency-Key: the request it was first made with and, once that
// finished, its response, which a replay of the key gets instead of running
// the request again.
type IdempotentResponse struct {
	Token       string // the token name the key belongs to (keys are per token)
	Key         string
	RequestHash string // sha256 of method+path+body: the same key with another request is refused
	Status      int    // 0 while the first request is still running
	Body        []byte
	Created     time.Time
}

// keyTimeFormat is how a key's claim time is stored: fixed width, so the
// text sorts as the times do (PruneIdempotencyKeys compares it).
const keyTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// ClaimIdempotencyKey records (token, key) as in progress, atomically (a
// unique key; safe across replicas on one PostgreSQL): claimed=true when
// this call made the row; otherwise existing is the row already there
// (Status 0 = still running), whose RequestHash the caller compares with
// its own.
func (s *DB) ClaimIdempotencyKey(ctx context.Context, token, key, requestHash string, at time.Time) (claimed bool, existing *IdempotentResponse, err error) {
	// A row found taken can be released before it is read; then claim
	// again. A few rounds suffice unless others release the key in a loop.
	for range 10 {
		res, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO idempotency_keys (token, key, request_hash, status, body, created) VALUES (?,?,?,0,'',?) ON CONFLICT DO NOTHING`),
			token, key, requestHash, at.UTC().Format(keyTimeFormat))
		if err != nil {
			return false, nil, fmt.Errorf("claim idempotency key %q in %s: %w", key, s.path, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, nil, fmt.Errorf("claim idempotency key %q in %s: %w", key, s.path, err)
		}
		if n == 1 {
			return true, nil, nil
		}
		existing, err := s.idempotentResponse(ctx, token, key)
		if err != nil {
			return false, nil, err
		}
		if existing != nil {
			return false, existing, nil
		}
	}
	return false, nil, fmt.Errorf("claim idempotency key %q in %s: it is claimed and released again and again; retry the request", key, s.path)
}

// idempotentResponse reads the row of (token, key), or nil when there is
// none.
func (s *DB) idempotentResponse(ctx context.Context, token, key string) (*IdempotentResponse, error) {
	r := IdempotentResponse{Token: token, Key: key}
	var body, created string
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT request_hash, status, body, created FROM idempotency_keys WHERE token=? AND key=?`), token, key).
		Scan(&r.RequestHash, &r.Status, &body, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read idempotency key %q in %s: %w", key, s.path, err)
	}
	if r.Body, err = base64.StdEncoding.DecodeString(body); err != nil {
		return nil, fmt.Errorf("read idempotency key %q in %s: corrupt body", key, s.path)
	}
	if r.Created, err = time.Parse(keyTimeFormat, created); err != nil {
		return nil, fmt.Errorf("read idempotency key %q in %s: created %q: %w", key, s.path, created, err)
	}
	return &r, nil
}

// CompleteIdempotencyKey stores the response of the request that claimed
// (token, key); status must not be 0. It fails when the key is not claimed
// and in progress (never claimed, released, pruned or already completed).
func (s *DB) CompleteIdempotencyKey(ctx context.Context, token, key string, status int, body []byte) error {
	if status == 0 {
		return fmt.Errorf("complete idempotency key %q: status 0 means in progress; give the response's HTTP status", key)
	}
	res, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE idempotency_keys SET status=?, body=? WHERE token=? AND key=? AND status=0`),
		status, base64.StdEncoding.EncodeToString(body), token, key)
	if err != nil {
		return fmt.Errorf("complete idempotency key %q in %s: %w", key, s.path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("complete idempotency key %q in %s: %w", key, s.path, err)
	} else if n != 1 {
		return fmt.Errorf("complete idempotency key %q in %s: no request of token %q is in progress with it (released, pruned or already completed)", key, s.path, token)
	}
	return nil
}

// ReleaseIdempotencyKey forgets an in-progress claim whose request failed
// before any write, so it may be retried with the same key. A completed
// key is left as it is.
func (s *DB) ReleaseIdempotencyKey(ctx context.Context, token, key string) error {
	if _, err := s.db.ExecContext(ctx, s.d.rebind(`DELETE FROM idempotency_keys WHERE token=? AND key=? AND status=0`), token, key); err != nil {
		return fmt.Errorf("release idempotency key %q in %s: %w", key, s.path, err)
	}
	return nil
}

// PruneIdempotencyKeys forgets every key claimed before before, completed
// or not, and returns how many it forgot.
func (s *DB) PruneIdempotencyKeys(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.d.rebind(`DELETE FROM idempotency_keys WHERE created < ?`), before.UTC().Format(keyTimeFormat))
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys in %s: %w", s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys in %s: %w", s.path, err)
	}
	return int(n), nil
}
