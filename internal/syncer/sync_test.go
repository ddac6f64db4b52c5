package syncer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

const testAccount = "111122223333"

// The estates of the tests: a small one, and one of more than 1000
// entities, so that GetAccountAuthorizationDetails pages.
var (
	smallEstate = awsfake.Estate{AccountID: testAccount, Users: 40, Groups: 6, Roles: 15, Policies: 10, Seed: 7}
	largeEstate = awsfake.Estate{AccountID: testAccount, Users: 700, Groups: 60, Roles: 260, Policies: 120, Seed: 11}
)

// checkGraph compares the stored graph of snapshot id with the graph
// expected from the ground truth, and reports the differences readably.
func checkGraph(t *testing.T, st store.Store, id int64, want *model.Graph) {
	t.Helper()
	got, err := st.Graph(context.Background(), id)
	if err != nil {
		t.Fatalf("load graph of snapshot %d: %v", id, err)
	}
	g, w := canonical(got), canonical(want)
	if diff := graphDiff(g, w, 25); diff != "" {
		t.Fatalf("stored graph differs from the ground truth (%d resources, %d entitlements, %d grants; want %d, %d, %d):\n%s",
			len(g.Resources), len(g.Entitlements), len(g.Grants), len(w.Resources), len(w.Entitlements), len(w.Grants), diff)
	}
	if jsonOf(g) != jsonOf(w) {
		t.Fatal("stored graph differs from the ground truth in order or duplicates")
	}
}

func TestSyncMatchesGroundTruth(t *testing.T) {
	tests := []struct {
		name      string
		estate    awsfake.Estate
		wantPages int // at least
		// pageLimit makes IAM return pages shorter than the MaxItems asked
		// for, with IsTruncated, as IAM documents it may.
		pageLimit int
	}{
		{"small", smallEstate, 1, 0},
		{"more than 1000 entities", largeEstate, 2, 0},
		{"IAM returns short pages", largeEstate, 8, 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.estate, envOptions{fake: awsfake.Options{IAMPageLimit: tc.pageLimit}})
			per := 1000
			if tc.pageLimit > 0 {
				per = tc.pageLimit
			}
			want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
			var mu sync.Mutex
			stages := map[string]Event{}
			opts := syncOptions()
			opts.Progress = func(ev Event) {
				mu.Lock()
				defer mu.Unlock()
				stages[ev.Stage+"/"+strings.TrimPrefix(ev.Message, "account "+testAccount+": ")] = ev
			}
			snap, err := Sync(context.Background(), e.sess, e.st, opts)
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if snap.Status != model.StatusComplete || len(snap.Errors) != 0 {
				t.Fatalf("snapshot %s with errors %+v, want complete", snap.Status, snap.Errors)
			}
			checkGraph(t, e.st, snap.ID, want)

			latest, err := e.st.LatestSnapshot(context.Background(), "")
			if err != nil || latest.ID != snap.ID {
				t.Fatalf("latest snapshot = %+v, %v; want %d", latest, err, snap.ID)
			}
			wantCounts := map[string]int{}
			for _, r := range want.Resources {
				wantCounts[string(r.Type)]++
			}
			if jsonOf(latest.Counts) != jsonOf(wantCounts) {
				t.Errorf("snapshot counts = %v, want %v", latest.Counts, wantCounts)
			}

			// The call budget: ceil(entities/page) pages (page = 1000
			// unless IAM shortens pages), Generate + Get (+1 poll), one
			// ListAccessKeys per user with keys, ceil(assigned virtual MFA
			// devices/page) (at least 1) ListVirtualMFADevices, and one
			// ListMFADevices per user with MFA but no virtual device.
			calls := e.srv.Calls()
			ents := entities(want)
			pages := calls["iam:GetAccountAuthorizationDetails"]
			withKeys := usersWithKeys(e.truth)
			virtual, hardwareOnly := mfaUsers(e.truth)
			wantPages := (ents + per - 1) / per
			virtualPages := max(1, (virtual+per-1)/per)
			budget := int64(wantPages + 3 + withKeys + virtualPages + hardwareOnly)
			if got := iamCalls(calls); got > budget {
				t.Errorf("IAM calls = %d (%v), want at most ceil(%d/%d) + 3 + %d + %d + %d = %d", got, calls, ents, per, withKeys, virtualPages, hardwareOnly, budget)
			}
			if hardwareOnly == 0 {
				t.Error("the estate has no user with only a hardware MFA device: ListMFADevices is not exercised")
			}
			if calls["iam:ListVirtualMFADevices"] != int64(virtualPages) || calls["iam:ListMFADevices"] != int64(hardwareOnly) {
				t.Errorf("ListVirtualMFADevices = %d, ListMFADevices = %d; want %d pages for %d assigned virtual devices and one per user with MFA but no virtual device (%d)",
					calls["iam:ListVirtualMFADevices"], calls["iam:ListMFADevices"], virtualPages, virtual, hardwareOnly)
			}
			if pages < int64(tc.wantPages) || pages != int64(wantPages) {
				t.Errorf("GetAccountAuthorizationDetails pages = %d for %d entities, want %d (and at least %d)", pages, ents, wantPages, tc.wantPages)
			}
			if got := calls["iam:ListAccessKeys"]; got != int64(withKeys) {
				t.Errorf("ListAccessKeys calls = %d, want one per user with keys: %d", got, withKeys)
			}
			for _, perEntity := range []string{"iam:ListUsers", "iam:ListGroupsForUser", "iam:ListAttachedUserPolicies", "iam:GetUserPolicy",
				"iam:ListRoles", "iam:GetPolicyVersion", "iam:GetAccessKeyLastUsed", "iam:GetLoginProfile"} {
				if calls[perEntity] != 0 {
					t.Errorf("%s called %d times: everything it returns is in GetAccountAuthorizationDetails or the credential report", perEntity, calls[perEntity])
				}
			}
			// The snapshot records the calls the session made: the same
			// attempts the emulator counted, plus sts:GetCallerIdentity.
			for k, v := range calls {
				if latest.APICalls[k] != v {
					t.Errorf("snapshot APICalls[%s] = %d, emulator counted %d", k, latest.APICalls[k], v)
				}
			}

			for _, stage := range []string{StageIdentify + "/sts:GetCallerIdentity", StageIAM + "/" + collect.StepAuthorizationDetails,
				StageIAM + "/" + collect.StepAccessKeys, StageStore + "/"} {
				found := false
				for k := range stages {
					found = found || strings.HasPrefix(k, stage)
				}
				if !found {
					t.Errorf("no progress event for %s; got %v", stage, stages)
				}
			}
			if ev := stages[StageIAM+"/"+collect.StepAccessKeys]; ev.Total != withKeys || ev.Done != withKeys {
				t.Errorf("last access keys progress = %d/%d, want %d/%d", ev.Done, ev.Total, withKeys, withKeys)
			}

			checkNoSecrets(t, e)
		})
	}
}

// checkNoSecrets closes the store and looks for every secret of the estate
// and of the caller in the database's bytes.
func checkNoSecrets(t *testing.T, e *env) {
	t.Helper()
	if err := e.st.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	var db []byte
	for _, suffix := range []string{"", "-wal", "-journal"} {
		b, err := os.ReadFile(e.dbPath + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		db = append(db, b...)
	}
	if len(db) == 0 {
		t.Fatal("database file is empty")
	}
	secrets := map[string]string{"caller secret access key": e.creds.SecretAccessKey}
	if e.creds.SessionToken != "" {
		secrets["caller session token"] = e.creds.SessionToken
	}
	for _, u := range e.truth.IAM.Users {
		for _, k := range u.AccessKeys {
			secrets["secret of "+k.ID] = k.Secret
		}
		if u.LoginProfile != nil && u.LoginProfile.Password != "" {
			secrets["password of "+u.Name] = u.LoginProfile.Password
		}
	}
	checked := 0
	for what, s := range secrets {
		if len(s) < 8 {
			continue // too short to be told from other bytes
		}
		checked++
		if bytes.Contains(db, []byte(s)) {
			t.Errorf("the database holds the %s", what)
		}
	}
	if checked < 2 {
		t.Fatalf("only %d secrets to look for: the estate has no access keys?", checked)
	}
}

// TestSyncReusesCredentialReport: a second sync within four hours asks for
// the report once and gets AWS's held report at once.
func TestSyncReusesCredentialReport(t *testing.T) {
	e := newEnv(t, smallEstate, envOptions{})
	want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
	if _, err := Sync(context.Background(), e.sess, e.st, syncOptions()); err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	e.srv.ResetCalls()
	snap, err := Sync(context.Background(), e.sess, e.st, syncOptions())
	if err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	calls := e.srv.Calls()
	if calls["iam:GenerateCredentialReport"] != 1 || calls["iam:GetCredentialReport"] != 1 {
		t.Errorf("second sync: Generate %d, Get %d; want 1 and 1", calls["iam:GenerateCredentialReport"], calls["iam:GetCredentialReport"])
	}
	checkGraph(t, e.st, snap.ID, want)
	for k, v := range calls {
		if snap.APICalls[k] != v {
			t.Errorf("second snapshot's APICalls[%s] = %d, want this sync's %d", k, snap.APICalls[k], v)
		}
	}
	snaps, err := e.st.Snapshots(context.Background(), "")
	if err != nil || len(snaps) != 2 {
		t.Errorf("snapshots = %d, %v; want 2", len(snaps), err)
	}
}

// TestSyncUnderThrottling: with 30% of calls throttled, retries recover
// every one and the snapshot is exactly the ground truth.
func TestSyncUnderThrottling(t *testing.T) {
	e := newEnv(t, largeEstate, envOptions{fake: awsfake.Options{ThrottleFraction: 0.3, Seed: 3}})
	want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
	snap, err := Sync(context.Background(), e.sess, e.st, syncOptions())
	if err != nil {
		t.Fatalf("Sync under 30%% throttling: %v", err)
	}
	if snap.Status != model.StatusComplete {
		t.Fatalf("snapshot %s, errors %+v; want complete", snap.Status, snap.Errors)
	}
	checkGraph(t, e.st, snap.ID, want)
	minimal := int64((entities(want)+999)/1000 + 2 + usersWithKeys(e.truth))
	if got := iamCalls(e.srv.Calls()); got <= minimal {
		t.Errorf("IAM attempts = %d, no more than the %d calls of an unthrottled sync: was anything throttled?", got, minimal)
	}
}

// TestSyncCredentialReportRefused: AWS refusing the report makes a partial
// snapshot naming the refused action; everything else is the ground truth,
// keys included (listed per user instead).
func TestSyncCredentialReportRefused(t *testing.T) {
	for _, refused := range []string{"GenerateCredentialReport", "GetCredentialReport"} {
		t.Run(refused, func(t *testing.T) {
			e := newEnv(t, smallEstate, envOptions{fault: func(action string, _ int) (int, string) {
				if action == refused {
					return http.StatusForbidden, accessDenied(action)
				}
				return 0, ""
			}})
			want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
			withoutReport(want)
			snap, err := Sync(context.Background(), e.sess, e.st, syncOptions())
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if snap.Status != model.StatusPartial || len(snap.Errors) != 1 {
				t.Fatalf("snapshot %s with errors %+v; want partial with one error", snap.Status, snap.Errors)
			}
			se := snap.Errors[0]
			if se.Source != collect.SourceCredentialReport || se.AccountID != testAccount ||
				!strings.Contains(se.Message, "iam:"+refused) || !strings.Contains(se.Fix, "iam:"+refused) {
				t.Errorf("source error = %+v; want the credential report, naming iam:%s in message and fix", se, refused)
			}
			latest, err := e.st.LatestSnapshot(context.Background(), "")
			if err != nil || latest.ID != snap.ID || latest.Status != model.StatusPartial || len(latest.Errors) != 1 {
				t.Fatalf("stored snapshot = %+v, %v; want the partial one with its error", latest, err)
			}
			checkGraph(t, e.st, snap.ID, want)
			calls := e.srv.Calls()
			keys := 0
			for _, u := range e.truth.IAM.Users {
				keys += len(u.AccessKeys)
			}
			if calls["iam:ListAccessKeys"] != int64(len(e.truth.IAM.Users)) || calls["iam:GetAccessKeyLastUsed"] != int64(keys) {
				t.Errorf("fallback calls: ListAccessKeys %d (want %d users), GetAccessKeyLastUsed %d (want %d keys)",
					calls["iam:ListAccessKeys"], len(e.truth.IAM.Users), calls["iam:GetAccessKeyLastUsed"], keys)
			}
		})
	}
}

// withoutReport clears from an expected graph what only the credential
// report tells.
func withoutReport(g *model.Graph) {
	for i := range g.Resources {
		r := &g.Resources[i]
		switch r.Type {
		case model.TypeIAMUser:
			r.User = &model.UserAttrs{UserID: r.User.UserID, PermissionsBoundary: r.User.PermissionsBoundary}
		case model.TypeAccount:
			r.CreatedAt = time.Time{}
			r.Account = &model.AccountAttrs{}
		}
	}
}

// TestInterruptedSyncKeepsPreviousSnapshot: a sync cancelled half-way, and
// one whose store write fails, leave the previous snapshot current and
// intact.
func TestInterruptedSyncKeepsPreviousSnapshot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var armed sync.Mutex
	cancelAfter := -1 // ListAccessKeys calls let through before cancelling; -1: never
	e := newEnv(t, smallEstate, envOptions{fault: func(action string, n int) (int, string) {
		armed.Lock()
		defer armed.Unlock()
		if cancelAfter >= 0 && action == "ListAccessKeys" && n > cancelAfter {
			cancel()
		}
		return 0, ""
	}})
	want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
	first, err := Sync(context.Background(), e.sess, e.st, syncOptions())
	if err != nil {
		t.Fatalf("first Sync: %v", err)
	}

	t.Run("cancelled during collection", func(t *testing.T) {
		armed.Lock()
		cancelAfter = e.proxy.count("ListAccessKeys") + 3
		armed.Unlock()
		snap, err := Sync(ctx, e.sess, e.st, syncOptions())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Sync = %+v, %v; want context.Canceled", snap, err)
		}
		checkPrevious(t, e.st, first.ID, want)
	})
	t.Run("store write fails", func(t *testing.T) {
		failing := &failingStore{Store: e.st}
		snap, err := Sync(context.Background(), e.sess, failing, syncOptions())
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("Sync = %+v, %v; want the store's error", snap, err)
		}
		if !failing.called {
			t.Fatal("the store was never asked to write")
		}
		checkPrevious(t, e.st, first.ID, want)
	})
}

func checkPrevious(t *testing.T, st store.Store, id int64, want *model.Graph) {
	t.Helper()
	latest, err := st.LatestSnapshot(context.Background(), "")
	if err != nil || latest.ID != id {
		t.Fatalf("latest snapshot = %+v, %v; want the previous one, %d", latest, err, id)
	}
	snaps, err := st.Snapshots(context.Background(), "")
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots = %d, %v; want only the previous one", len(snaps), err)
	}
	checkGraph(t, st, id, want)
}

// failingStore fails every write, as a full disk would.
type failingStore struct {
	store.Store
	called bool
}

func (f *failingStore) WriteSnapshot(context.Context, *model.Snapshot, *model.Graph) (int64, error) {
	f.called = true
	return 0, fmt.Errorf("write snapshot: disk full")
}

// TestSyncFailsWithoutAuthorizationDetails: when the account's IAM cannot
// be read at all, Sync fails with AWS's error and stores nothing.
func TestSyncFailsWithoutAuthorizationDetails(t *testing.T) {
	e := newEnv(t, smallEstate, envOptions{fault: func(action string, _ int) (int, string) {
		if action == "GetAccountAuthorizationDetails" {
			return http.StatusForbidden, accessDenied(action)
		}
		return 0, ""
	}})
	_, err := Sync(context.Background(), e.sess, e.st, syncOptions())
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("Sync err = %v, want AccessDenied", err)
	}
	if _, err := e.st.LatestSnapshot(context.Background(), ""); !errors.Is(err, store.ErrNoSnapshot) {
		t.Errorf("LatestSnapshot after a failed first sync: %v, want ErrNoSnapshot", err)
	}
}
