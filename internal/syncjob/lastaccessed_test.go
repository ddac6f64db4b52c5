package syncjob_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
	"github.com/warden-iam/warden/internal/syncjob"
)

// TestSyncReadsLastAccessedOverSeveralSyncs syncs an organization whose
// principals the budget cannot cover at once: each sync covers what the
// budget allows (3 calls a principal), across accounts, the principals
// never read first, so the syncs together read every principal once
// before any twice (the last sync spends what is left on the ones read
// longest ago); the stored data equals awsfake's ground truth.
func TestSyncReadsLastAccessedOverSeveralSyncs(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	c := awsfake.OrgEstate{Accounts: 3, Seed: 4, PerAccount: awsfake.Estate{Users: 4, Roles: 3, Policies: 2}}.Build().Install(srv)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const budget = 21 // 7 principals a sync
	target := syncjob.Target{ID: "org", Name: "connection org", AWS: awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		IAMRate:     10000, OrganizationsRate: 10000, CloudTrailRate: 1000, MaxBackoff: time.Millisecond},
		IAM:          collect.IAMOptions{ReportPoll: 5 * time.Millisecond},
		Organization: &syncer.OrganizationOptions{},
		Activity:     &syncjob.ActivityOptions{LastAccessed: "all", CallBudget: budget, LastAccessedPoll: time.Millisecond}}
	readAt := map[string]time.Time{}
	wanted := 0
	for sync := 1; ; sync++ {
		if sync > 10 {
			t.Fatalf("%d of %d principals covered after 10 syncs", len(readAt), wanted)
		}
		srv.ResetCalls()
		res, err := syncjob.Run(ctx, st, target, syncjob.Options{})
		if err != nil {
			t.Fatal(err)
		}
		la := res.Activity.LastAccessed
		if res.Snapshot.Status != model.StatusComplete || la == nil {
			t.Fatalf("sync %d: %s %+v, last accessed %+v", sync, res.Snapshot.Status, res.Snapshot.Errors, la)
		}
		calls := srv.Calls()
		made := calls["iam:GenerateServiceLastAccessedDetails"] + calls["iam:GetServiceLastAccessedDetails"]
		if la.Calls > budget || int64(la.Calls) != made || la.Budget != budget {
			t.Fatalf("sync %d: %d calls counted, %d made, budget %d", sync, la.Calls, made, budget)
		}
		wanted = la.Wanted
		recs, err := st.LastAccessed(ctx, "org", "")
		if err != nil {
			t.Fatal(err)
		}
		fresh, again := 0, 0
		for _, r := range recs {
			if prev, ok := readAt[r.Principal]; ok {
				if !r.ReadAt.Equal(prev) {
					again++
				}
				continue
			}
			fresh++
			readAt[r.Principal] = r.ReadAt
			truth, ok := srv.LastAccessed(r.Account, r.Principal, true)
			if !ok {
				t.Fatalf("stored %s, which awsfake does not have", r.Principal)
			}
			var got []collect.ServiceLastAccessed
			if err := json.Unmarshal(r.Services, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(truth) {
				t.Fatalf("%s: %d services stored, awsfake has %d", r.Principal, len(got), len(truth))
			}
			for i := range got {
				w := truth[i]
				if got[i].Namespace != w.Namespace || !reflect.DeepEqual(got[i].LastAuthenticated, w.LastAuthenticated) || len(got[i].Actions) != len(w.Actions) {
					t.Fatalf("%s: service %d = %+v, want %+v", r.Principal, i, got[i], w)
				}
			}
		}
		if fresh+again != la.Covered {
			t.Errorf("sync %d stored %d new principals and %d again, its summary says it covered %d", sync, fresh, again, la.Covered)
		}
		if again > 0 && len(readAt) < wanted {
			t.Errorf("sync %d read %d principals again before every principal was read once", sync, again)
		}
		if len(readAt) < wanted && la.Covered != budget/3 {
			t.Errorf("sync %d covered %d, want %d (%s)", sync, la.Covered, budget/3, la)
		}
		if len(readAt) == wanted {
			if sync < 2 {
				t.Fatalf("covered in one sync: the budget %d is too large for the test", budget)
			}
			break
		}
	}
}
