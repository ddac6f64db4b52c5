package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
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

// syncAssetEstate syncs an organization of accounts with IAM and assets in
// two regions into a new database (assets: nil syncs none), after mutate
// (when not nil) changed the estate, and returns the database and the
// ground truth.
func syncAssetEstate(t *testing.T, accounts int, assets *awsfake.AssetEstate, mutate func(*awsfake.OrgTruth)) (string, *awsfake.OrgTruth) {
	t.Helper()
	isolateAWSConfig(t)
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	truth := awsfake.OrgEstate{Accounts: accounts, PerAccount: awsfake.Estate{Users: 2, Roles: 3}, Seed: 8, Assets: assets}.Build()
	if mutate != nil {
		mutate(truth)
	}
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
	defer st.Close()
	o := syncer.Options{Organization: &syncer.OrganizationOptions{}}
	if assets != nil {
		o.Assets = &collect.AssetOptions{Regions: []string{"us-east-1", "eu-west-1"}}
	}
	if _, err := syncer.Sync(ctx, sess, st, o); err != nil {
		t.Fatal(err)
	}
	return db, truth
}

// publicAdminTruth are the estate's instances with a public IP whose
// instance profile's role has AdministratorAccess attached (the estate's
// only administrator policy on roles, and no SCP or boundary limits it):
// "instance-ARN role-ARN".
func publicAdminTruth(truth *awsfake.OrgTruth) []string {
	return publicAdminTruthBut(truth, "")
}

// publicAdminTruthBut is publicAdminTruth without the instances running
// as role denied.
func publicAdminTruthBut(truth *awsfake.OrgTruth, denied string) []string {
	var want []string
	for _, in := range truth.Assets.Instances {
		if in.PublicIP == "" || in.InstanceProfileARN == "" {
			continue
		}
		for _, a := range truth.Accounts() {
			if a.ID != in.Account {
				continue
			}
			p := a.IAM.InstanceProfiles[in.InstanceProfileARN[strings.LastIndexByte(in.InstanceProfileARN, '/')+1:]]
			role := a.IAM.Roles[p.Roles[0]]
			if slices.Contains(role.AttachedPolicies, "arn:aws:iam::aws:policy/AdministratorAccess") && role.ARN != denied {
				want = append(want, "arn:aws:ec2:"+in.Region+":"+in.Account+":instance/"+in.ID+" "+role.ARN)
			}
		}
	}
	sort.Strings(want)
	return want
}

// TestFindingsAssets runs `warden findings` over a synced organization
// with assets: the exposures are exactly the estate's planted ones, each
// with its severity and fix, and the public instances running as an
// administrator role exactly the ground truth's, decided by the
// effective administrators (or, with --effective=false, by the
// administrator policies held); the tables show both. One administrator
// role has an inline policy denying iam:*: it holds an administrator
// policy but is no effective administrator, so its instances are listed
// by the administrator policies only. A snapshot whose sync read no
// assets says so.
func TestFindingsAssets(t *testing.T) {
	var denied string
	db, truth := syncAssetEstate(t, 2, &awsfake.AssetEstate{Instances: 16}, func(truth *awsfake.OrgTruth) {
		pub := publicAdminTruth(truth)
		if len(pub) < 2 {
			t.Fatalf("the estate planted %d public instances running as an administrator, want 2 or more", len(pub))
		}
		denied = pub[0][strings.IndexByte(pub[0], ' ')+1:]
		for _, a := range truth.Accounts() {
			for _, r := range a.IAM.Roles {
				if r.ARN == denied {
					if r.InlinePolicies == nil {
						r.InlinePolicies = map[string]string{}
					}
					r.InlinePolicies["deny-iam"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
				}
			}
		}
	})
	type exposure struct {
		Kind      string   `json:"kind"`
		AssetID   string   `json:"asset_id"`
		AssetType string   `json:"asset_type"`
		Region    string   `json:"region"`
		Accounts  []string `json:"accounts"`
		Ports     []int    `json:"ports"`
		Severity  string   `json:"severity"`
		Fix       string   `json:"fix"`
	}
	type instance struct {
		InstanceID string `json:"instance_id"`
		Role       string `json:"role"`
		DecidedBy  string `json:"decided_by"`
		Decision   string `json:"decision"`
		Severity   string `json:"severity"`
		Fix        string `json:"fix"`
	}
	var f struct {
		AssetsRead bool       `json:"assets_read"`
		Exposures  []exposure `json:"exposures"`
		Public     []instance `json:"public_admin_instances"`
		From       string     `json:"public_admin_instances_from"`
	}
	out, errOut, code := runIn(t, db, "findings", "-o", "json")
	if code != 0 {
		t.Fatalf("findings: exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	_ = json.Unmarshal([]byte(out), &keys)
	for _, k := range []string{"assets_read", "exposures", "public_admin_instances", "public_admin_instances_from"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("findings -o json has no %q", k)
		}
	}
	if !f.AssetsRead {
		t.Fatal("assets_read is false after a sync that read assets")
	}
	types := map[string]string{"bucket": "s3_bucket", "kms-key": "kms_key", "function": "lambda_function", "secret": "secret", "security-group": "ec2_security_group"}
	var want, got []string
	for _, e := range truth.Assets.Exposures {
		want = append(want, fmt.Sprintf("%s %s %s %s %v %v", e.ARN, e.Kind, types[e.Type], e.Region, e.Accounts, e.Ports))
	}
	for _, e := range f.Exposures {
		var accounts []string
		if len(e.Accounts) > 0 {
			accounts = e.Accounts
		}
		var ports []int
		if len(e.Ports) > 0 {
			ports = e.Ports
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %v %v", e.AssetID, e.Kind, e.AssetType, e.Region, accounts, ports))
		wantSev := "medium"
		if e.Kind == "public" || e.Kind == "open-admin-port" {
			wantSev = "high"
		}
		if e.Severity != wantSev || e.Fix == "" {
			t.Errorf("%s %s: severity %q, fix %q", e.AssetID, e.Kind, e.Severity, e.Fix)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) < 20 || !slices.Equal(got, want) {
		t.Errorf("exposures\n got %q\nwant %q", got, want)
	}
	wantPub, wantEff := publicAdminTruth(truth), publicAdminTruthBut(truth, denied)
	t.Logf("%d exposures, %d public admin instances planted, %d running as an effective administrator", len(want), len(wantPub), len(wantEff))
	if len(wantEff) == 0 || len(wantEff) == len(wantPub) {
		t.Fatalf("want some public admin instances, not all, running as an effective administrator: %d of %d", len(wantEff), len(wantPub))
	}
	check := func(what, from string, list []instance, wantPub []string) {
		t.Helper()
		var got []string
		for _, p := range list {
			got = append(got, p.InstanceID+" "+p.Role)
			if p.DecidedBy != from || p.Severity != "high" || !strings.Contains(p.Fix, "replace-iam-instance-profile-association") {
				t.Errorf("%s: %s decided by %q (want %q), severity %q, fix %q", what, p.InstanceID, p.DecidedBy, from, p.Severity, p.Fix)
			}
		}
		if !slices.Equal(got, wantPub) {
			t.Errorf("%s: public admin instances\n got %v\nwant %v", what, got, wantPub)
		}
	}
	if f.From != "effective_admins" {
		t.Errorf("public_admin_instances_from %q, want effective_admins", f.From)
	}
	check("effective", "effective_admins", f.Public, wantEff)
	for _, p := range f.Public {
		if p.Decision != "allowed" {
			t.Errorf("%s: decision %q", p.InstanceID, p.Decision)
		}
	}
	out, errOut, code = runIn(t, db, "findings", "--effective=false", "-o", "json")
	if code != 0 {
		t.Fatalf("findings --effective=false: exit %d: %s", code, errOut)
	}
	f.Public = nil
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	if f.From != "admin_policies" {
		t.Errorf("--effective=false: public_admin_instances_from %q", f.From)
	}
	check("admin policies", "admin_policies", f.Public, wantPub)

	table, errOut, code := runIn(t, db, "findings", "--limit", "0")
	if code != 0 {
		t.Fatalf("findings: exit %d: %s", code, errOut)
	}
	if !strings.Contains(table, fmt.Sprintf("Asset exposures (%d)", len(want))) ||
		!strings.Contains(table, fmt.Sprintf("Instances with a public IP running as an administrator role (%d)", len(wantEff))) {
		t.Errorf("the findings tables lack the asset findings:\n%s", table)
	}
	for _, p := range wantEff {
		id := p[strings.LastIndexByte(p[:strings.IndexByte(p, ' ')], '/')+1 : strings.IndexByte(p, ' ')]
		if !strings.Contains(table, id) {
			t.Errorf("the table lacks instance %s", id)
		}
	}

	// No assets read: none found, and it says so.
	db, _ = syncAssetEstate(t, 1, nil, nil)
	out, errOut, code = runIn(t, db, "findings", "-o", "json")
	if code != 0 {
		t.Fatalf("findings without assets: exit %d: %s", code, errOut)
	}
	f.Exposures, f.Public = nil, nil
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	if f.AssetsRead || f.Exposures == nil || len(f.Exposures) != 0 || f.Public == nil || len(f.Public) != 0 || f.From != "" {
		t.Errorf("without assets: assets_read %v, exposures %v, public %v, from %q", f.AssetsRead, f.Exposures, f.Public, f.From)
	}
	table, _, _ = runIn(t, db, "findings")
	if !strings.Contains(table, "assets were not read (add sync.assets") {
		t.Errorf("without assets the tables do not say assets were not read:\n%s", table)
	}
}
