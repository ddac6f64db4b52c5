package access

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/store"
)

// LastAccessedStore is what reading stored IAM last accessed data needs.
// *store.DB is one.
type LastAccessedStore interface {
	LastAccessed(ctx context.Context, connection, account string) ([]store.LastAccessedRecord, error)
}

// StoredLastAccessed returns a connection's stored IAM last accessed data
// (what `activity.last_accessed` read), one entry a principal, as the
// unused-services rule reads it; none when the connection reads none.
func StoredLastAccessed(ctx context.Context, st LastAccessedStore, connection string) ([]findings.LastAccessed, error) {
	recs, err := st.LastAccessed(ctx, connection, "")
	if err != nil {
		return nil, err
	}
	out := make([]findings.LastAccessed, 0, len(recs))
	for _, r := range recs {
		d := findings.LastAccessed{Principal: r.Principal, ReadAt: r.ReadAt}
		if len(r.Services) > 0 {
			if err := json.Unmarshal(r.Services, &d.Services); err != nil {
				return nil, fmt.Errorf("read the stored last accessed data of %s: %w", r.Principal, err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// LastAccessedOf returns the stored last accessed data of the IAM user or
// role with ARN arn in account, or nil when none was read.
func LastAccessedOf(ctx context.Context, st LastAccessedStore, connection, account, arn string) (*findings.LastAccessed, error) {
	recs, err := st.LastAccessed(ctx, connection, account)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Principal != arn {
			continue
		}
		d := &findings.LastAccessed{Principal: r.Principal, ReadAt: r.ReadAt}
		if len(r.Services) > 0 {
			if err := json.Unmarshal(r.Services, &d.Services); err != nil {
				return nil, fmt.Errorf("read the stored last accessed data of %s: %w", r.Principal, err)
			}
		}
		return d, nil
	}
	return nil, nil
}
