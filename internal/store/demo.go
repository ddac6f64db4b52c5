package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// demoKey is the warden_meta key listing the snapshots `warden demo` wrote.
const demoKey = "demo_snapshots"

// MarkDemoSnapshot records that snapshot id was written by `warden demo`,
// so a later demo may replace the file while it holds nothing else.
func (s *DB) MarkDemoSnapshot(ctx context.Context, id int64) error {
	ids, err := s.demoSnapshots(ctx)
	if err != nil {
		return err
	}
	ids = append(ids, strconv.FormatInt(id, 10))
	if _, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO warden_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`),
		demoKey, strings.Join(ids, ",")); err != nil {
		return fmt.Errorf("mark demo snapshot %d in %s: %w", id, s.path, err)
	}
	return nil
}

func (s *DB) demoSnapshots(ctx context.Context) ([]string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT coalesce((SELECT value FROM warden_meta WHERE key=?), '')`), demoKey).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("read demo marker of %s: %w", s.path, err)
	}
	if v == "" {
		return nil, nil
	}
	return strings.Split(v, ","), nil
}

// Foreign describes what the database holds besides snapshots `warden demo`
// wrote: "" when nothing (the demo may replace the file), else a short
// account such as "3 snapshots not made by the demo, 12 audit records".
func (s *DB) Foreign(ctx context.Context) (string, error) {
	ids, err := s.demoSnapshots(ctx)
	if err != nil {
		return "", err
	}
	demo := map[string]bool{}
	for _, id := range ids {
		demo[id] = true
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id FROM snapshots`))
	if err != nil {
		return "", fmt.Errorf("list snapshots of %s: %w", s.path, err)
	}
	defer rows.Close()
	others := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", fmt.Errorf("list snapshots of %s: %w", s.path, err)
		}
		if !demo[id] {
			others++
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("list snapshots of %s: %w", s.path, err)
	}
	var held []string
	if others > 0 {
		held = append(held, plural(others, "snapshot")+" not made by the demo")
	}
	for _, t := range []struct{ table, what string }{
		{"audit_log", "audit record"}, {"deactivations", "deactivation record"}, {"scim_pushed", "SCIM push record"},
	} {
		var n int
		if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT count(*) FROM `+t.table)).Scan(&n); err != nil {
			return "", fmt.Errorf("count %s in %s: %w", t.table, s.path, err)
		}
		if n > 0 {
			held = append(held, plural(n, t.what))
		}
	}
	return strings.Join(held, ", "), nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
