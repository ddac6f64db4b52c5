package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// pruneGraph is a small graph that differs with n: user n is in group eng
// with policy n attached, so every snapshot holds something of its own.
func pruneGraph(n int) *model.Graph {
	const acct = "111122223333"
	user := fmt.Sprintf("arn:aws:iam::%s:user/u%d", acct, n)
	group := "arn:aws:iam::" + acct + ":group/eng"
	pol := fmt.Sprintf("arn:aws:iam::%s:policy/p%d", acct, n)
	g := &model.Graph{
		Resources: []model.Resource{
			{ID: user, Type: model.TypeIAMUser, AccountID: acct, Name: fmt.Sprintf("u%d", n), ARN: user, User: &model.UserAttrs{UserID: fmt.Sprintf("AIDA%d", n)}},
			{ID: group, Type: model.TypeIAMGroup, AccountID: acct, Name: "eng", ARN: group, Group: &model.GroupAttrs{GroupID: "AGPA1"}},
			{ID: pol, Type: model.TypeIAMPolicy, AccountID: acct, Name: fmt.Sprintf("p%d", n), ARN: pol, Policy: &model.PolicyAttrs{PolicyID: fmt.Sprintf("ANPA%d", n), Document: "{}"}},
		},
		Entitlements: []model.Entitlement{
			{ID: model.EntitlementID(group, model.EntMember), ResourceID: group, Name: model.EntMember},
			{ID: model.EntitlementID(pol, model.EntAttached), ResourceID: pol, Name: model.EntAttached},
		},
		Grants: []model.Grant{
			{PrincipalID: user, EntitlementID: model.EntitlementID(group, model.EntMember), Provenance: model.ViaDirect},
			{PrincipalID: group, EntitlementID: model.EntitlementID(pol, model.EntAttached), Provenance: model.ViaDirect},
			{PrincipalID: user, EntitlementID: model.EntitlementID(pol, model.EntAttached), Provenance: model.ViaGroup, ViaID: group},
		},
	}
	g.Sort()
	return g
}

// prunedDB is a database holding snapshots of connections, each finished
// the given ages ago (oldest first), plus one audit record.
type prunedDB struct {
	path   string
	graphs map[int64]*model.Graph // what each snapshot was written with
}

func newPrunedDB(t *testing.T, ages map[string][]time.Duration) *prunedDB {
	t.Helper()
	return newPrunedDBAt(t, filepath.Join(t.TempDir(), "w.db"), ages)
}

// newPrunedDBAt is newPrunedDB in the database at target: a SQLite file or
// a PostgreSQL URL.
func newPrunedDBAt(t *testing.T, target string, ages map[string][]time.Duration) *prunedDB {
	t.Helper()
	ctx := context.Background()
	d := &prunedDB{path: target, graphs: map[int64]*model.Graph{}}
	st := d.open(t, false)
	defer st.Close()
	now := time.Now().UTC()
	n := 0
	conns := make([]string, 0, len(ages))
	for c := range ages {
		conns = append(conns, c)
	}
	slices.Sort(conns)
	for _, c := range conns {
		for _, age := range ages[c] {
			n++
			g := pruneGraph(n)
			snap := &model.Snapshot{ConnectionID: c, StartedAt: now.Add(-age - time.Minute), FinishedAt: now.Add(-age), Status: model.StatusComplete}
			id, err := st.WriteSnapshot(ctx, snap, g)
			if err != nil {
				t.Fatal(err)
			}
			d.graphs[id] = g
		}
	}
	if err := st.AppendAudit(ctx, store.AuditRecord{At: now.Add(-400 * 24 * time.Hour), ConnectionID: "default", Actor: "arn:aws:iam::111122223333:user/admin",
		Action: "delete-user", Target: "user u1 in 111122223333", Call: "iam:DeleteUser", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	return d
}

// open opens the database, read-only when it is a SQLite file and
// readOnly.
func (d *prunedDB) open(t *testing.T, readOnly bool) *store.DB {
	t.Helper()
	ctx := context.Background()
	var st *store.DB
	var err error
	switch {
	case store.IsPostgresURL(d.path):
		st, err = store.OpenPostgres(ctx, d.path)
	case readOnly:
		st, err = store.OpenSQLiteReadOnly(ctx, d.path)
	default:
		st, err = store.OpenSQLite(ctx, d.path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// snapshotIDs lists the connection's snapshots, newest first, through the CLI.
func (d *prunedDB) snapshotIDs(t *testing.T, conn string) []int64 {
	t.Helper()
	out, errOut, code := runIn(t, d.path, "--connection", conn, "snapshots", "-o", "json")
	if code != 0 {
		t.Fatalf("snapshots exited %d: %s", code, errOut)
	}
	var snaps []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &snaps); err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, s := range snaps {
		ids = append(ids, s.ID)
	}
	return ids
}

// check fails unless each snapshot left reads back as written and the
// audit record is still there.
func (d *prunedDB) check(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	st := d.open(t, true)
	defer st.Close()
	conns, err := st.Connections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		eachSnapshot(t, st, c, func(s model.Snapshot, g *model.Graph) {
			g.Sort()
			if !reflect.DeepEqual(g, d.graphs[s.ID]) {
				t.Errorf("snapshot %d of %s reads back as %+v, written as %+v", s.ID, c, g, d.graphs[s.ID])
			}
		})
	}
	audit, err := st.Audit(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Action != "delete-user" {
		t.Errorf("audit log after prune = %+v; want its one record untouched", audit)
	}
}

type pruneJSON struct {
	ConnectionID string  `json:"connection_id"`
	Deleted      []int64 `json:"deleted"`
	Kept         int     `json:"kept"`
	Rows         int64   `json:"rows"`
	BytesFreed   int64   `json:"bytes_freed"`
	DryRun       bool    `json:"dry_run"`
}

func prune(t *testing.T, db string, args ...string) []pruneJSON {
	t.Helper()
	args = append(append([]string{"snapshots", "prune"}, args...), "-o", "json")
	out, errOut, code := runIn(t, db, args...)
	if code != 0 {
		t.Fatalf("warden %s exited %d: %s", strings.Join(args, " "), code, errOut)
	}
	var res []pruneJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return res
}

const day = 24 * time.Hour

func TestPruneByCount(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	d := newPrunedDB(t, map[string][]time.Duration{"default": {5 * day, 4 * day, 3 * day, 2 * day, day}})
	res := prune(t, d.path, "--keep", "2")
	if len(res) != 1 || res[0].ConnectionID != "default" || !slices.Equal(res[0].Deleted, []int64{3, 2, 1}) || res[0].Kept != 2 || res[0].DryRun {
		t.Fatalf("prune --keep 2 = %+v; want snapshots 3, 2, 1 deleted and 2 kept", res)
	}
	if ids := d.snapshotIDs(t, "default"); !slices.Equal(ids, []int64{5, 4}) {
		t.Errorf("snapshots left: %v, want [5 4]", ids)
	}
	d.check(t)
	// Again: nothing more to delete.
	if res := prune(t, d.path, "--keep", "2"); len(res[0].Deleted) != 0 || res[0].Kept != 2 {
		t.Errorf("second prune --keep 2 = %+v; want nothing deleted", res)
	}
	// The table says what went.
	out, errOut, code := runIn(t, d.path, "snapshots", "prune", "--keep", "1")
	if code != 0 || !strings.Contains(out, "Pruned") || !strings.Contains(out, "default") || !strings.Contains(out, " 4 ") {
		t.Errorf("prune --keep 1 exited %d:\n%s%s", code, out, errOut)
	}
	if ids := d.snapshotIDs(t, "default"); !slices.Equal(ids, []int64{5}) {
		t.Errorf("snapshots left: %v, want [5]", ids)
	}
	d.check(t)
}

func TestPruneByAge(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	d := newPrunedDB(t, map[string][]time.Duration{"default": {40 * day, 31 * day, 10 * day, time.Hour}})
	res := prune(t, d.path, "--older-than", "30d")
	if !slices.Equal(res[0].Deleted, []int64{2, 1}) || res[0].Kept != 2 {
		t.Fatalf("prune --older-than 30d = %+v; want snapshots 2 and 1 (40 and 31 days old) deleted", res)
	}
	// 1w: the 10-day-old snapshot goes, the hour-old one stays.
	if res := prune(t, d.path, "--older-than", "1w"); !slices.Equal(res[0].Deleted, []int64{3}) || res[0].Kept != 1 {
		t.Errorf("prune --older-than 1w = %+v; want snapshot 3 deleted", res)
	}
	d.check(t)
}

func TestPruneNeverDeletesTheLatest(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	d := newPrunedDB(t, map[string][]time.Duration{"default": {90 * day, 60 * day, 45 * day}})
	// Every snapshot is older than a minute; the newest stays anyway.
	res := prune(t, d.path, "--older-than", "1m", "--keep", "1")
	if !slices.Equal(res[0].Deleted, []int64{2, 1}) || res[0].Kept != 1 {
		t.Fatalf("prune = %+v; want 2 and 1 deleted, the latest (3) kept", res)
	}
	if ids := d.snapshotIDs(t, "default"); !slices.Equal(ids, []int64{3}) {
		t.Errorf("snapshots left: %v, want [3]", ids)
	}
	d.check(t)
}

func TestPruneDryRunDeletesNothing(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	d := newPrunedDB(t, map[string][]time.Duration{"default": {3 * day, 2 * day, day}})
	before, err := os.ReadFile(d.path)
	if err != nil {
		t.Fatal(err)
	}
	res := prune(t, d.path, "--keep", "1", "--dry-run")
	if !slices.Equal(res[0].Deleted, []int64{2, 1}) || !res[0].DryRun {
		t.Fatalf("prune --dry-run = %+v; want 2 and 1 listed, dry_run true", res)
	}
	if ids := d.snapshotIDs(t, "default"); !slices.Equal(ids, []int64{3, 2, 1}) {
		t.Errorf("snapshots after a dry run: %v, want all three", ids)
	}
	if after, _ := os.ReadFile(d.path); string(after) != string(before) {
		t.Error("a dry run changed the database file")
	}
	out, _, code := runIn(t, d.path, "snapshots", "prune", "--keep", "1", "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run: nothing deleted") || !strings.Contains(out, "2, 1") {
		t.Errorf("dry-run table (exit %d):\n%s", code, out)
	}
	d.check(t)
}

func TestPruneAllConnections(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	d := newPrunedDB(t, map[string][]time.Duration{"a": {3 * day, 2 * day, day}, "b": {2 * day, day}})
	// --connection prunes that one only.
	if res := prune(t, d.path, "--connection", "b", "--keep", "1"); len(res) != 1 || res[0].ConnectionID != "b" || !slices.Equal(res[0].Deleted, []int64{4}) {
		t.Fatalf("prune --connection b = %+v; want snapshot 4 of b deleted", res)
	}
	if ids := d.snapshotIDs(t, "a"); len(ids) != 3 {
		t.Errorf("connection a has %v after pruning b", ids)
	}
	res := prune(t, d.path, "--all", "--keep", "1")
	if len(res) != 2 || res[0].ConnectionID != "a" || !slices.Equal(res[0].Deleted, []int64{2, 1}) ||
		res[1].ConnectionID != "b" || len(res[1].Deleted) != 0 || res[1].Kept != 1 {
		t.Fatalf("prune --all --keep 1 = %+v; want a: 2, 1 deleted; b: nothing", res)
	}
	d.check(t)
}

func TestPruneBadInput(t *testing.T) {
	t.Setenv("WARDEN_CONFIG", "")
	d := newPrunedDB(t, map[string][]time.Duration{"default": {2 * day, day}})
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "needs --keep N or --older-than AGE"},
		{[]string{"--keep", "0"}, exitUsage, "--keep must be at least 1, got 0"},
		{[]string{"--keep", "-3"}, exitUsage, "--keep must be at least 1, got -3"},
		{[]string{"--older-than", "30x"}, exitUsage, `--older-than "30x" is not an age: unknown unit at "x"`},
		{[]string{"--older-than", "30"}, exitUsage, "30 has no unit"},
		{[]string{"--older-than", "0d"}, exitUsage, "more than zero"},
		{[]string{"--keep", "1", "--all", "--connection", "default"}, exitUsage, "does not go with --connection"},
		{[]string{"--keep", "1", "--connection", "nope"}, exitStore, `no snapshot of connection "nope"`},
		{[]string{"--keep", "1", "extra"}, exitUsage, ""},
	} {
		args := append([]string{"snapshots", "prune"}, tt.args...)
		out, errOut, code := runIn(t, d.path, args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "fix: ") {
			t.Errorf("warden %s exited %d (want %d):\n%s%s\nwant %q and a fix", strings.Join(args, " "), code, tt.code, out, errOut, tt.want)
		}
	}
	if ids := d.snapshotIDs(t, "default"); !slices.Equal(ids, []int64{2, 1}) {
		t.Errorf("refused prunes deleted snapshots: %v left", ids)
	}
	// A misspelt subcommand is named, with a suggestion.
	if _, errOut, code := runIn(t, d.path, "snapshots", "prun"); code != exitUsage || !strings.Contains(errOut, `unknown command "prun"`) || !strings.Contains(errOut, "did you mean prune?") {
		t.Errorf("snapshots prun exited %d: %s", code, errOut)
	}
	// A missing database is reported, not created.
	missing := filepath.Join(t.TempDir(), "none.db")
	if _, errOut, code := runIn(t, missing, "snapshots", "prune", "--keep", "1"); code != exitStore || !strings.Contains(errOut, "no database at") {
		t.Errorf("prune of a missing database exited %d: %s", code, errOut)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("prune created the missing database")
	}
}

// TestPruneOnPostgres prunes by count, by age and on a dry run in a
// PostgreSQL database (--db postgres://…), as in a SQLite file.
func TestPruneOnPostgres(t *testing.T) {
	db := pgTestDatabase(t)
	if db == "" {
		t.Skip("skipped: PostgreSQL: WARDEN_TEST_POSTGRES is not set; .ci/run sets it (apt-get install postgresql)")
	}
	t.Setenv("WARDEN_CONFIG", "")
	d := newPrunedDBAt(t, db, map[string][]time.Duration{"default": {40 * day, 31 * day, 10 * day, 2 * day, time.Hour}})
	if res := prune(t, db, "--keep", "2", "--dry-run"); !slices.Equal(res[0].Deleted, []int64{3, 2, 1}) || !res[0].DryRun {
		t.Fatalf("dry run = %+v; want 3, 2, 1 listed", res)
	}
	if ids := d.snapshotIDs(t, "default"); len(ids) != 5 {
		t.Fatalf("a dry run deleted snapshots: %v left", ids)
	}
	if res := prune(t, db, "--older-than", "30d"); !slices.Equal(res[0].Deleted, []int64{2, 1}) || res[0].Kept != 3 {
		t.Errorf("prune --older-than 30d = %+v; want 2 and 1 deleted", res)
	}
	if res := prune(t, db, "--keep", "1"); !slices.Equal(res[0].Deleted, []int64{4, 3}) || res[0].Kept != 1 {
		t.Errorf("prune --keep 1 = %+v; want 4 and 3 deleted", res)
	}
	if ids := d.snapshotIDs(t, "default"); !slices.Equal(ids, []int64{5}) {
		t.Errorf("snapshots left: %v, want [5]", ids)
	}
	d.check(t)
}

// TestRetentionAppliedAfterSync: a connection's retention: in warden.yaml
// prunes it after each sync, and says so on stderr; a connection without
// one keeps every snapshot.
func TestRetentionAppliedAfterSync(t *testing.T) {
	env := useFakeAWS(t, "--users", "3")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "warden.yaml")
	file := `version: 1
connections:
  - id: kept
    endpoint: ` + env["AWS_ENDPOINT_URL"] + `
    retention:
      keep: 2
      older_than: 30d
  - id: all
    endpoint: ` + env["AWS_ENDPOINT_URL"] + `
`
	if err := os.WriteFile(cfg, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "w.db")
	var errOut string
	for range 3 {
		var code int
		if _, errOut, code = runIn(t, db, "--config", cfg, "sync"); code != 0 {
			t.Fatalf("sync exited %d: %s", code, errOut)
		}
	}
	// Syncs alternate kept (1, 3, 5) and all (2, 4, 6): the third sync of
	// kept pruned its first.
	if !strings.Contains(errOut, "retention (keep 2, older_than 30d): connection kept: pruned 1 snapshot(s) [1]") {
		t.Errorf("third sync's stderr does not say what retention pruned:\n%s", errOut)
	}
	if strings.Contains(errOut, "connection all:") {
		t.Errorf("a connection without retention was pruned:\n%s", errOut)
	}
	d := &prunedDB{path: db}
	if ids := d.snapshotIDs(t, "kept"); !slices.Equal(ids, []int64{5, 3}) {
		t.Errorf("connection kept has snapshots %v, want [5 3]", ids)
	}
	if ids := d.snapshotIDs(t, "all"); !slices.Equal(ids, []int64{6, 4, 2}) {
		t.Errorf("connection all has snapshots %v, want [6 4 2]", ids)
	}

	// A retention warden cannot read stops the sync before AWS is called.
	bad := strings.Replace(file, "older_than: 30d", "older_than: 30 days", 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runIn(t, db, "--config", cfg, "sync")
	if code != exitUsage || !strings.Contains(errOut, `connections[0].retention.older_than "30 days" is not an age`) {
		t.Errorf("sync with a bad retention exited %d: %s", code, errOut)
	}
	if ids := d.snapshotIDs(t, "all"); len(ids) != 3 {
		t.Errorf("a refused sync stored snapshots: all has %v", ids)
	}
}
