package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// TestShowAssets syncs an organization's assets into a database and lists
// them with `warden show instances|buckets|keys-kms|functions|secrets`, as
// JSON with every documented key and as tables: every asset of the estate
// once, the planted exposures flagged, and no secret's value anywhere.
func TestShowAssets(t *testing.T) {
	isolateAWSConfig(t)
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	// The member's Block Public Access confines its buckets: show
	// buckets reads the account's settings with them.
	truth := awsfake.OrgEstate{Accounts: 1, PerAccount: awsfake.Estate{Users: 2, Roles: 3}, Seed: 3,
		Assets: &awsfake.AssetEstate{AccountBlockPublicAccess: map[string]*awsfake.PublicAccessBlock{"200000000000": {RestrictPublicBuckets: true}}}}.Build()
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
	if _, err := syncer.Sync(ctx, sess, st, syncer.Options{Organization: &syncer.OrganizationOptions{}, Assets: &collect.AssetOptions{Regions: []string{"us-east-1", "eu-west-1"}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	a := truth.Assets
	customerKeys := 0
	for _, k := range a.Keys {
		if k.Manager == "CUSTOMER" {
			customerKeys++
		}
	}
	exposed := map[string]bool{}
	for _, e := range a.Exposures {
		exposed[e.ARN] = true
	}
	cases := []struct {
		list string
		want int
		keys []string
	}{
		{"instances", len(a.Instances), []string{"account_id", "region", "id", "instance_id", "name", "state", "type", "public_ip", "private_ip", "instance_profile", "role", "security_groups", "open_admin_ports"}},
		{"security-groups", len(a.SecurityGroups), []string{"account_id", "region", "id", "group_id", "name", "vpc", "description", "ingress", "open_admin_ports"}},
		{"buckets", len(a.Buckets), []string{"account_id", "region", "name", "has_policy", "block_public_access", "acl_grants", "exposure"}},
		{"keys-kms", customerKeys, []string{"account_id", "region", "arn", "key_id", "state", "description", "grants", "exposure"}},
		{"functions", len(a.Functions), []string{"account_id", "region", "name", "arn", "runtime", "role", "has_policy", "aliases", "alias_policies", "exposure"}},
		{"secrets", len(a.Secrets), []string{"account_id", "region", "name", "arn", "kms_key_id", "has_policy", "exposure"}},
	}
	for _, tc := range cases {
		out, errOut, code := runIn(t, db, "show", tc.list, "-o", "json")
		if code != 0 {
			t.Fatalf("show %s: exit %d: %s", tc.list, code, errOut)
		}
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("show %s: %v\n%s", tc.list, err, out)
		}
		if len(rows) != tc.want {
			t.Fatalf("show %s: %d rows, want %d", tc.list, len(rows), tc.want)
		}
		flagged := 0
		for _, r := range rows {
			for _, k := range tc.keys {
				if _, ok := r[k]; !ok {
					t.Fatalf("show %s: row without %q: %v", tc.list, k, r)
				}
			}
			if e, ok := r["exposure"].(map[string]any); ok {
				for _, k := range []string{"public", "cross_account", "account_manage"} {
					if _, ok := e[k]; !ok {
						t.Fatalf("show %s: exposure without %q", tc.list, k)
					}
				}
				id, _ := r["arn"].(string)
				if tc.list == "buckets" {
					id = "arn:aws:s3:::" + r["name"].(string)
				}
				isExposed := e["public"] == true || e["account_manage"] == true || len(e["cross_account"].([]any)) > 0
				if isExposed != exposed[id] {
					t.Errorf("show %s: %s exposed %v, the estate says %v", tc.list, id, isExposed, exposed[id])
				}
				if isExposed {
					flagged++
				}
			}
		}
		if tc.list == "security-groups" {
			open := map[string]bool{}
			for _, e := range a.Exposures {
				if e.Kind == "open-admin-port" {
					open[e.ARN] = true
				}
			}
			for _, r := range rows {
				ports, _ := r["open_admin_ports"].([]any)
				if (len(ports) > 0) != open[r["id"].(string)] {
					t.Errorf("show security-groups: %s open admin ports %v, the estate says open %v", r["id"], ports, open[r["id"].(string)])
				}
			}
		}
		// A bucket's ACL grants to others than its owner, a function's
		// aliases: as the estate placed them.
		for _, r := range rows {
			switch tc.list {
			case "buckets":
				for _, b := range a.Buckets {
					if b.Name != r["name"] {
						continue
					}
					n := 0
					for _, g := range b.ACL {
						if g.ID != awsfake.CanonicalUserID(b.Account) {
							n++
						}
					}
					if got, _ := r["acl_grants"].(float64); int(got) != n {
						t.Errorf("show buckets: %s acl_grants %v, the estate has %d", b.Name, r["acl_grants"], n)
					}
				}
			case "functions":
				for _, f := range a.Functions {
					if f.ARN != r["arn"] {
						continue
					}
					var names []string
					for _, al := range f.Aliases {
						names = append(names, al.Name)
					}
					if got := fmt.Sprint(r["aliases"]); got != fmt.Sprint(names) {
						t.Errorf("show functions: %s aliases %s, the estate has %v", f.Name, got, names)
					}
				}
			}
		}
		// --region: exactly the rows of that region.
		inRegion, errOut, code := runIn(t, db, "show", tc.list, "--region", "eu-west-1", "-o", "json")
		if code != 0 {
			t.Fatalf("show %s --region: exit %d: %s", tc.list, code, errOut)
		}
		var regional []map[string]any
		if err := json.Unmarshal([]byte(inRegion), &regional); err != nil {
			t.Fatal(err)
		}
		wantRegional := 0
		for _, r := range rows {
			if r["region"] == "eu-west-1" {
				wantRegional++
			}
		}
		if len(regional) != wantRegional {
			t.Errorf("show %s --region eu-west-1: %d rows, want %d", tc.list, len(regional), wantRegional)
		}
		for _, r := range regional {
			if r["region"] != "eu-west-1" {
				t.Errorf("show %s --region eu-west-1 lists a row of %v", tc.list, r["region"])
			}
		}
		if tc.list != "instances" && tc.list != "security-groups" && flagged == 0 {
			t.Errorf("show %s flags no exposure", tc.list)
		}
		table, _, code := runIn(t, db, "show", tc.list)
		if code != 0 || strings.Count(table, "\n") != tc.want+1 {
			t.Errorf("show %s: exit %d, table of %d lines, want %d:\n%s", tc.list, code, strings.Count(table, "\n"), tc.want+1, table)
		}
		for _, x := range a.Secrets {
			if strings.Contains(out+table, x.Value) {
				t.Fatalf("show %s printed the value of secret %s", tc.list, x.Name)
			}
		}
	}
	// --region is for the asset listings only: elsewhere a usage error.
	if _, errOut, code := runIn(t, db, "show", "users", "--region", "eu-west-1"); code == 0 || !strings.Contains(errOut, "--region applies to the asset listings only") {
		t.Errorf("show users --region: exit %d: %s", code, errOut)
	}
}
