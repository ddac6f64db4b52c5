package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// TestAccessOnAssets: `warden access ARN` on an asset lists, for the
// asset type's actions, who can (through the evaluator), with every key
// of the answer; checked against the estate: a public bucket (Principal
// "*") lets every user and role of its account read its objects and
// anyone outside, a bucket shared with another account names that
// account's root, a function invoked by S3 names the service, an
// instance runs as its instance profile's role.
func TestAccessOnAssets(t *testing.T) {
	db, truth := assetEstateDB(t)
	testAccessOnAssets(t, db, truth)
}

// assetEstateDB syncs a generated organization of one member with its
// assets (us-east-1) from the emulator into a new database.
func assetEstateDB(t *testing.T) (string, *awsfake.OrgTruth) {
	t.Helper()
	isolateAWSConfig(t)
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	truth := awsfake.OrgEstate{Accounts: 1, PerAccount: awsfake.Estate{Users: 2, Roles: 2}, Seed: 5,
		Assets: &awsfake.AssetEstate{Regions: []string{"us-east-1"}, Functions: 8}}.Build()
	c := truth.Install(srv)
	ctx := context.Background()
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 1e5, OrganizationsRate: 1e5,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "w.db")
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syncer.Sync(ctx, sess, st, syncer.Options{Organization: &syncer.OrganizationOptions{}, Assets: &collect.AssetOptions{Regions: []string{"us-east-1"}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	return db, truth
}

func testAccessOnAssets(t *testing.T, db string, truth *awsfake.OrgTruth) {
	type entry struct {
		Principal struct {
			ID, Name  string
			AccountID string `json:"account_id"`
		} `json:"principal"`
		Decision string `json:"decision"`
		Path     string `json:"path"`
	}
	type answer struct {
		Asset   struct{ ID, Type string } `json:"asset"`
		ARN     string                    `json:"arn"`
		RunsAs  *struct{ ID string }      `json:"runs_as"`
		Actions []struct {
			Action     string  `json:"action"`
			Resource   string  `json:"resource"`
			Principals []entry `json:"principals"`
			Evaluated  int     `json:"evaluated"`
		} `json:"actions"`
	}
	ask := func(arn string) answer {
		t.Helper()
		out, errOut, code := runIn(t, db, "access", arn, "-o", "json")
		if code != 0 {
			t.Fatalf("access %s exited %d: %s", arn, code, errOut)
		}
		var raw map[string]any
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatal(err)
		}
		requireKeys(t, "asset answer", raw, "asset", "arn", "runs_as", "actions")
		for _, a := range raw["actions"].([]any) {
			requireKeys(t, "action", a.(map[string]any), "action", "resource", "principals", "evaluated")
		}
		var ans answer
		if err := json.Unmarshal([]byte(out), &ans); err != nil {
			t.Fatal(err)
		}
		if table, errOut, code := runIn(t, db, "access", arn); code != 0 || !strings.Contains(table, "Who can") {
			t.Fatalf("access %s (table) exited %d: %s%s", arn, code, table, errOut)
		}
		return ans
	}
	actions := func(a answer) string {
		var out []string
		for _, x := range a.Actions {
			out = append(out, x.Action+" "+x.Resource)
		}
		return strings.Join(out, ", ")
	}
	allowed := func(es []entry) map[string]bool {
		m := map[string]bool{}
		for _, e := range es {
			if e.Decision == "allowed" {
				m[e.Principal.ID] = true
			}
		}
		return m
	}
	accounts := map[string]*awsfake.Account{}
	for _, a := range truth.Accounts() {
		accounts[a.ID] = a
	}
	var public, partner *awsfake.Bucket
	for _, b := range truth.Assets.Buckets {
		switch {
		case strings.Contains(b.Policy, `"Sid":"PublicRead","Effect":"Allow","Principal":"*"`):
			public = b
		case strings.Contains(b.Policy, `"Sid":"Partner"`) && b.Account == truth.Management.ID:
			partner = b
		}
	}
	if public == nil || partner == nil {
		t.Fatal("the estate has no public bucket or no bucket of the management account shared with a partner")
	}

	// The public bucket: every user and role of its account can read any
	// object on the bucket policy alone, and so can anyone outside.
	pa := ask("arn:aws:s3:::" + public.Name)
	b := "arn:aws:s3:::" + public.Name
	if got, want := actions(pa), "s3:GetObject "+b+"/*, s3:PutObject "+b+"/*, s3:DeleteObject "+b+"/*, s3:ListBucket "+b+", s3:PutBucketPolicy "+b; got != want {
		t.Fatalf("actions %s, want %s", got, want)
	}
	reads := allowed(pa.Actions[0].Principals)
	var missing []string
	for _, u := range accounts[public.Account].IAM.Users {
		if !reads[u.ARN] {
			missing = append(missing, u.ARN)
		}
	}
	for _, r := range accounts[public.Account].IAM.Roles {
		if !reads[r.ARN] {
			missing = append(missing, r.ARN)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || !reads["principal:*:*"] {
		t.Errorf("s3:GetObject on the public bucket: not listed %v (anyone outside listed: %v)", missing, reads["principal:*:*"])
	}

	// The bucket shared with a partner account outside the estate.
	sa := ask("arn:aws:s3:::" + partner.Name)
	if !allowed(sa.Actions[0].Principals)["principal:AWS:arn:aws:iam::999988887777:root"] {
		t.Errorf("s3:GetObject on %s does not list the partner account: %+v", partner.Name, sa.Actions[0].Principals)
	}

	// A function that S3 may invoke.
	for _, f := range truth.Assets.Functions {
		if !strings.Contains(f.Policy, `"Service":"s3.amazonaws.com"`) {
			continue
		}
		fa := ask(f.ARN)
		if actions(fa) != "lambda:InvokeFunction "+f.ARN+", lambda:UpdateFunctionCode "+f.ARN || fa.RunsAs == nil || fa.RunsAs.ID != f.Role {
			t.Fatalf("access on function %s: actions %s, runs as %+v (want %s)", f.Name, actions(fa), fa.RunsAs, f.Role)
		}
		// Its statement asks aws:SourceAccount, which the question leaves
		// open: allowed if it is the function's account.
		listed := false
		for _, e := range fa.Actions[0].Principals {
			listed = listed || e.Principal.ID == "principal:Service:s3.amazonaws.com" && e.Decision == "allowed_if" && e.Path == "outside"
		}
		if !listed {
			t.Errorf("lambda:InvokeFunction on %s does not list s3.amazonaws.com, allowed if aws:SourceAccount is its account: %+v", f.Name, fa.Actions[0].Principals)
		}
		break
	}

	// A function whose prod alias is shared with another account: access
	// asks about each alias, and the alias's own policy lets that
	// account in.
	sharedAlias := false
	for _, f := range truth.Assets.Functions {
		prod := f.Alias("prod")
		if prod == nil || prod.Policy == "" {
			continue
		}
		sharedAlias = true
		fa := ask(f.ARN)
		want := "lambda:InvokeFunction " + f.ARN + ", lambda:UpdateFunctionCode " + f.ARN
		for _, al := range f.Aliases {
			want += ", lambda:InvokeFunction " + f.AliasARN(al.Name)
		}
		if actions(fa) != want {
			t.Fatalf("access on function %s: actions %s, want %s", f.Name, actions(fa), want)
		}
		// The alias's answer is who-can's on the alias's ARN (decided
		// with its own policy, internal/effective's tests say how), and
		// explains itself with that policy wherever a resource policy
		// allows.
		for _, x := range fa.Actions {
			if x.Resource != f.AliasARN("prod") {
				continue
			}
			out, errOut, code := runIn(t, db, "who-can", "lambda:InvokeFunction", x.Resource, "-o", "json")
			if code != 0 {
				t.Fatalf("who-can on %s exited %d: %s", x.Resource, code, errOut)
			}
			var wc struct {
				Principals []entry `json:"principals"`
			}
			if err := json.Unmarshal([]byte(out), &wc); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(wc.Principals) != fmt.Sprint(x.Principals) || len(x.Principals) == 0 {
				t.Errorf("access on %s: %+v; who-can: %+v", x.Resource, x.Principals, wc.Principals)
			}
		}
		break
	}
	if !sharedAlias {
		t.Fatal("the estate has no function whose prod alias has a policy")
	}

	// An instance with an instance profile runs as its role.
	for _, in := range truth.Assets.Instances {
		if in.InstanceProfileARN == "" {
			continue
		}
		acct := accounts[in.Account]
		var role string
		for _, p := range acct.IAM.InstanceProfiles {
			if p.ARN == in.InstanceProfileARN && len(p.Roles) == 1 {
				role = acct.IAM.Roles[p.Roles[0]].ARN
			}
		}
		arn := "arn:aws:ec2:" + in.Region + ":" + in.Account + ":instance/" + in.ID
		ia := ask(arn)
		if actions(ia) != "ec2:TerminateInstances "+arn || ia.RunsAs == nil || ia.RunsAs.ID != role {
			t.Fatalf("access on instance %s: actions %s, runs as %+v, want %s", in.ID, actions(ia), ia.RunsAs, role)
		}
		break
	}
}
