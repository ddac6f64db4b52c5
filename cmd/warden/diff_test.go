package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/diff/difftest"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// diffDB writes difftest.Estate (with difftest.Assets) as snapshots of connection "default": 1
// (before, 50h ago), 2 (after, 26h ago) and 3 (after again, 2h ago), then
// snapshot 4 of connection "prod"; it returns the database's path.
func diffDB(t *testing.T) string {
	t.Helper()
	t.Setenv("WARDEN_DB", "")
	t.Setenv("WARDEN_CONFIG", "")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before, after := difftest.Estate()
	assetsBefore, assetsAfter := difftest.Assets()
	before.Resources = append(before.Resources, assetsBefore...)
	after.Resources = append(after.Resources, assetsAfter...)
	now := time.Now()
	for _, s := range []struct {
		conn string
		ago  time.Duration
		g    *model.Graph
	}{{"default", 50 * time.Hour, before}, {"default", 26 * time.Hour, after}, {"default", 2 * time.Hour, after}, {"prod", time.Hour, after}} {
		at := now.Add(-s.ago)
		snap := &model.Snapshot{ConnectionID: s.conn, StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: model.StatusComplete}
		if _, err := st.WriteSnapshot(ctx, snap, s.g); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

type diffJSON struct {
	From    struct{ ID int64 } `json:"from"`
	To      struct{ ID int64 } `json:"to"`
	Summary struct {
		Changed             bool     `json:"changed"`
		AdministratorsAdded []string `json:"administrators_added"`
	} `json:"summary"`
	Access []struct {
		Text string `json:"text"`
	} `json:"access"`
	Resources []struct {
		Text string `json:"text"`
	} `json:"resources"`
}

func decodeDiff(t *testing.T, out string) diffJSON {
	t.Helper()
	var d diffJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("diff -o json: %v\n%s", err, out)
	}
	return d
}

func TestDiffCommand(t *testing.T) {
	db := diffDB(t)

	// FROM and TO by id: the table says the changes as sentences.
	out, stderr, code := runIn(t, db, "diff", "1", "2")
	if code != 0 {
		t.Fatalf("diff 1 2 exited %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Changes from snapshot 1 (",
		"administrators added               1 (alice)",
		"+  alice gained AdministratorAccess via group admins in 111122223333",
		"+  alice in 111122223333 is a new administrator: AdministratorAccess via group admins",
		"+  role deploy in 111122223333 now trusts anyone (*) with no condition",
		"-  access key AKIABOB0000000000001 of bob in 111122223333 deactivated (Inactive)",
		"+  permission set Admin in 111122223333 (prod) assigned to group eng, reaching ann, ben",
		"       policy.document: - " + `{"Action":"ec2:*","Effect":"Allow","Resource":"*"}`,
		"       policy.document: + " + `{"Action":"s3:PutObject","Effect":"Allow","Resource":"arn:aws:s3:::deploy/*"}`,
		"asset changes of high severity     4",
		"+  [high] bucket policy of bucket site in 111122223333 (us-east-1) now allows s3:GetObject to * (public)",
		"-  security group web in 111122223333 (us-east-1) no longer admits tcp 443 from 10.0.0.0/8",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff 1 2 lacks %q:\n%s", want, out)
		}
	}

	// The default is the previous and the latest snapshot: unchanged.
	out, _, code = runIn(t, db, "diff", "--exit-code")
	if code != 0 || !strings.HasPrefix(out, "No change from snapshot 2 (") {
		t.Errorf("diff --exit-code of unchanged snapshots exited %d:\n%s", code, out)
	}
	out, stderr, code = runIn(t, db, "diff", "1", "--exit-code", "-o", "json")
	if code != exitError || !strings.Contains(stderr, "snapshots 1 and 3 differ") {
		t.Errorf("diff 1 --exit-code exited %d, want 1: %s", code, stderr)
	}
	if d := decodeDiff(t, out); d.From.ID != 1 || d.To.ID != 3 || !d.Summary.Changed || len(d.Summary.AdministratorsAdded) != 1 {
		t.Errorf("diff 1 -o json = %+v, want 1 → 3 with alice a new administrator", d)
	}

	// --since and --at pick the newest snapshot finished by then.
	for _, args := range [][]string{
		{"--since", "30h"}, {"--since", "2d"},
		{"--at", time.Now().Add(-40 * time.Hour).UTC().Format("2006-01-02T15:04Z")},
		{"--at", time.Now().Add(-40 * time.Hour).Format(time.RFC3339)},
	} {
		out, stderr, code = runIn(t, db, append([]string{"diff", "-o", "json"}, args...)...)
		if d := decodeDiff(t, out); code != 0 || d.From.ID != 1 || d.To.ID != 3 {
			t.Errorf("diff %v exited %d: from %d to %d, want 1 → 3\n%s", args, code, d.From.ID, d.To.ID, stderr)
		}
	}
	out, _, _ = runIn(t, db, "diff", "--since", "25h", "-o", "json")
	if d := decodeDiff(t, out); d.From.ID != 2 || d.Summary.Changed {
		t.Errorf("diff --since 25h = %+v, want from snapshot 2, unchanged", d)
	}

	// --principal and --account narrow the report.
	out, _, _ = runIn(t, db, "diff", "1", "2", "--principal", "alice", "--only", "grants", "-o", "json")
	var texts []string
	for _, a := range decodeDiff(t, out).Access {
		texts = append(texts, a.Text)
	}
	if want := []string{"alice gained AdministratorAccess via group admins in 111122223333", "alice gained membership of group admins in 111122223333"}; strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff --principal alice access = %q, want %q", texts, want)
	}
	out, _, _ = runIn(t, db, "diff", "1", "2", "--account", difftest.AcctB, "--only", "resources", "-o", "json")
	texts = nil
	for _, r := range decodeDiff(t, out).Resources {
		texts = append(texts, r.Text)
	}
	if want := []string{"access key AKIAERIN000000000001 in 444455556666 added", "iam user erin in 444455556666 added"}; strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff --account %s resources = %q, want %q", difftest.AcctB, texts, want)
	}
}

func TestDiffErrors(t *testing.T) {
	db := diffDB(t)
	for _, c := range []struct {
		args    []string
		code    int
		problem string
	}{
		{[]string{"diff", "1", "4"}, exitUsage, "snapshots of different connections cannot be compared"},
		{[]string{"diff", "99"}, exitUsage, "no snapshot 99 in"},
		{[]string{"diff", "one"}, exitUsage, `"one" is not a snapshot id`},
		{[]string{"diff", "1", "2", "3"}, exitUsage, "at most two snapshot ids"},
		{[]string{"diff", "--since", "yesterday"}, exitUsage, `--since "yesterday" is not a duration`},
		{[]string{"diff", "--at", "30/11/2026"}, exitUsage, `--at "30/11/2026" is not a time`},
		{[]string{"diff", "--at", "2020-01-01T00:00Z"}, exitUsage, "had finished by 2020-01-01T00:00:00Z"},
		{[]string{"diff", "--since", "1h", "1"}, exitUsage, "not both"},
		{[]string{"diff", "--only", "keys"}, exitUsage, `--only "keys" is not a kind of change`},
		{[]string{"diff", "--account", "prod"}, exitUsage, `--account "prod" is not an account id`},
		{[]string{"diff", "1", "2", "--principal", "nobody"}, exitUsage, `no user, group or role matches --principal "nobody"`},
		{[]string{"--connection", "prod", "diff"}, exitStore, `only one snapshot (4)`},
		{[]string{"--connection", "never", "diff"}, exitStore, `no snapshot yet`},
		{[]string{"--connection", "prod", "diff", "1"}, exitUsage, `snapshot 1 is of connection "default", not "prod"`},
	} {
		stdout, stderr, code := runIn(t, db, c.args...)
		assertFailure(t, stdout, stderr, code, c.code, c.problem)
	}
	stdout, stderr, code := runIn(t, filepath.Join(t.TempDir(), "none.db"), "diff")
	assertFailure(t, stdout, stderr, code, exitStore, "no database at")
}

// TestDiffJSONKeysAsDocumented: `diff -o json` has every key README's JSON
// table documents for it, every list and nullable object filled by the
// changes of difftest.Estate, and every list [] (never null) when nothing
// changed.
func TestDiffJSONKeysAsDocumented(t *testing.T) {
	docs := readmeJSONDocs(t)
	c := &jsonChecker{docs: docs, lists: map[*jsonSpec]string{}, nonEmpty: map[*jsonSpec]bool{}, nullable: map[*jsonSpec]string{}, nonNull: map[*jsonSpec]bool{}}
	db := diffDB(t)
	for _, args := range [][]string{{"diff", "1", "2"}, {"diff", "2", "1"}, {"diff"}, {"diff", "1", "2", "--only", "findings"}} {
		out, stderr, code := runIn(t, db, append(args, "-o", "json")...)
		if code != 0 {
			t.Fatalf("%v exited %d: %s", args, code, stderr)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		for _, p := range c.check(v, docs["diff"], "diff") {
			t.Errorf("%v: %s", args, p)
		}
	}
	for s, p := range c.lists {
		// The snapshots' own lists are sync's, checked with it.
		if !c.nonEmpty[s] && !strings.HasPrefix(p, "diff.from") && !strings.HasPrefix(p, "diff.to") {
			t.Errorf("%s was [] in every run: the keys of its elements went unchecked", p)
		}
	}
	for s, p := range c.nullable {
		if !c.nonNull[s] {
			t.Errorf("%s was null in every run: its keys went unchecked", p)
		}
	}
	if len(c.lists) < 10 {
		t.Errorf("README's diff row documents only %d lists of objects", len(c.lists))
	}
}

// TestSyncPrintsChangeSummary: sync prints on stderr one paragraph of
// what changed since the previous snapshot (none after the first), and
// stdout keeps its JSON summary.
func TestSyncPrintsChangeSummary(t *testing.T) {
	useFakeAWS(t, "--users", "6", "--seed", "3")
	t.Setenv("WARDEN_CONFIG", "")
	t.Setenv("WARDEN_DB", "")
	db := filepath.Join(t.TempDir(), "w.db")
	sync := func() (stdout, stderr string) {
		t.Helper()
		stdout, stderr, code := runIn(t, db, "sync", "-o", "json")
		if code != 0 {
			t.Fatalf("sync exited %d: %s", code, stderr)
		}
		var sum struct {
			Snapshot struct{ ID int64 } `json:"snapshot"`
		}
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Snapshot.ID == 0 {
			t.Fatalf("sync -o json printed %q (%v)", stdout, err)
		}
		return stdout, stderr
	}
	if _, stderr := sync(); strings.Contains(stderr, "since snapshot") || strings.Contains(stderr, "Since snapshot") {
		t.Errorf("the first sync compared with something: %s", stderr)
	}
	if _, stderr := sync(); !strings.Contains(stderr, "No change since snapshot 1 (just now).\n") {
		t.Errorf("an unchanged re-sync printed %q, want \"No change since snapshot 1 (just now).\"", stderr)
	}
	// Snapshot 3 is snapshot 2 without one user (as if it was created
	// since): the next sync has it gain its access.
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.Graph(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var gone string
	for _, gr := range g.Grants {
		if strings.Contains(gr.PrincipalID, ":user/") && strings.HasSuffix(gr.EntitlementID, "#"+model.EntMember) {
			gone = gr.PrincipalID
			break
		}
	}
	if gone == "" {
		t.Fatal("no IAM user in a group in the emulator's estate")
	}
	var less model.Graph
	owned := map[string]bool{}
	for _, r := range g.Resources {
		if r.ID == gone || r.ParentID == gone {
			owned[r.ID] = true
			continue
		}
		less.Resources = append(less.Resources, r)
	}
	for _, e := range g.Entitlements {
		if !owned[e.ResourceID] {
			less.Entitlements = append(less.Entitlements, e)
		}
	}
	for _, gr := range g.Grants {
		if res, _, _ := strings.Cut(gr.EntitlementID, "#"); gr.PrincipalID != gone && !owned[res] {
			less.Grants = append(less.Grants, gr)
		}
	}
	now := time.Now()
	if _, err := st.WriteSnapshot(ctx, &model.Snapshot{ConnectionID: "default", StartedAt: now, FinishedAt: now, Status: model.StatusComplete}, &less); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, stderr := sync()
	if !strings.Contains(stderr, "Since snapshot 3 (just now): 1 principal gained access; ") ||
		!strings.Contains(stderr, fmt.Sprintf("; %d resources changed. Run `warden diff` for details.\n", len(owned))) {
		t.Errorf("the sync after a user appeared printed %q, want 1 principal gaining access and %d resources changed", stderr, len(owned))
	}
}
