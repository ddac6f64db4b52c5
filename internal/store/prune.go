package store

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes a connection's snapshots as p says, then the history rows
// no remaining snapshot holds, and gives their space back; see Store.
func (s *DB) Prune(ctx context.Context, connectionID string, p PruneOptions) (*PruneResult, error) {
	snaps, err := s.Snapshots(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := &PruneResult{ConnectionID: conn(connectionID), Deleted: []int64{}, DryRun: p.DryRun}
	for i, snap := range snaps {
		if i > 0 && (p.Keep > 0 && i >= p.Keep || p.OlderThan > 0 && now.Sub(snap.FinishedAt) > p.OlderThan) {
			res.Deleted = append(res.Deleted, snap.ID)
		} else {
			res.Kept++
		}
	}
	if len(res.Deleted) == 0 {
		return res, nil
	}
	c := conn(connectionID)
	// A history row goes when no remaining snapshot of its connection falls
	// in its range; open rows always hold the latest snapshot, which stays.
	orphan := func(t string) string {
		return ` FROM ` + t + ` WHERE connection_id=? AND valid_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM snapshots s
			WHERE s.connection_id=` + t + `.connection_id AND s.id>=` + t + `.valid_from AND s.id<` + t + `.valid_to AND s.id NOT IN (` + placeholders(len(res.Deleted)) + `))`
	}
	deleted := make([]any, len(res.Deleted))
	for i, id := range res.Deleted {
		deleted[i] = id
	}
	if p.DryRun {
		for _, t := range []string{"resource_versions", "entitlement_versions", "grant_versions"} {
			var n int64
			if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT count(*)`+orphan(t)), args([]any{c}, deleted)...).Scan(&n); err != nil {
				return nil, fmt.Errorf("prune %s: %w", s.path, err)
			}
			res.Rows += n
		}
		return res, nil
	}
	before, err := s.d.size(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	sc, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	defer sc.Close()
	if err := s.d.beginWrite(ctx, sc, c); err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	committed := false
	defer func() {
		if !committed {
			sc.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	// Keys go with the resource rows they name: delete them first, while
	// the rows still say which are going.
	if _, err := sc.ExecContext(ctx, s.d.rebind(`DELETE FROM resource_keys WHERE connection_id=? AND EXISTS (SELECT 1 FROM resource_versions r
		WHERE r.connection_id=resource_keys.connection_id AND r.id=resource_keys.resource_id AND r.valid_from=resource_keys.valid_from
		AND r.valid_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.connection_id=r.connection_id AND s.id>=r.valid_from AND s.id<r.valid_to AND s.id NOT IN (`+placeholders(len(deleted))+`)))`),
		args([]any{c}, deleted)...); err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	for _, t := range []string{"resource_versions", "entitlement_versions", "grant_versions"} {
		r, err := sc.ExecContext(ctx, s.d.rebind(`DELETE`+orphan(t)), args([]any{c}, deleted)...)
		if err != nil {
			return nil, fmt.Errorf("prune %s: %w", s.path, err)
		}
		n, _ := r.RowsAffected()
		res.Rows += n
	}
	if _, err := sc.ExecContext(ctx, s.d.rebind(`DELETE FROM effective_index WHERE snapshot_id IN (`+placeholders(len(deleted))+`)`), deleted...); err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	if _, err := sc.ExecContext(ctx, s.d.rebind(`DELETE FROM snapshots WHERE id IN (`+placeholders(len(deleted))+`)`), deleted...); err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	if _, err := sc.ExecContext(ctx, `COMMIT`); err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	committed = true
	for _, id := range res.Deleted {
		s.conns.Delete(id)
	}
	if err := s.d.reclaim(ctx, s.db); err != nil {
		return nil, fmt.Errorf("give back the space of pruned snapshots in %s: %w", s.path, err)
	}
	after, err := s.d.size(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", s.path, err)
	}
	res.BytesFreed = max(before-after, 0)
	return res, nil
}
