package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/warden-iam/warden/awsfake"
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

// TestDiffAssetsAgainstTruth: an organization with assets is synced,
// changed through the SDK the way an operator would (a bucket created and
// one deleted, a bucket's Block Public Access loosened and a public policy
// put on it, a KMS grant to another account created and one revoked, a
// function's execution role changed, a secret shared with another account
// and one deleted, a security group opened to the internet on RDP and a
// source revoked from another, an instance stopped), and synced again: the
// diff's assets section is exactly those changes, each with the actor of
// the CloudTrail event awsfake recorded for its call.
func TestDiffAssetsAgainstTruth(t *testing.T) {
	est := awsfake.OrgEstate{Accounts: 1, Seed: 8, ExternalID: activityExternalID, PerAccount: awsfake.Estate{Users: 2, Roles: 4},
		Assets: &awsfake.AssetEstate{}}
	o := buildActivityOrg(t, est, "", "7d", `      regions: [us-east-1, eu-west-1]
    sync:
      assets:
        services: [all]
        regions: [us-east-1, eu-west-1]`)
	o.sync(t)
	ctx := context.Background()
	mgmt := o.truth.Management.ID
	cfg := func(region string) aws.Config {
		c, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithBaseEndpoint(o.srv.URL()),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.creds.AccessKeyID, o.creds.SecretAccessKey, o.creds.SessionToken)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	const region = "us-east-1"
	a := o.truth.Assets
	// The assets to change: the first of each kind that fits, in the
	// management account.
	var buckets []*awsfake.Bucket // one without a policy first, then another
	for _, b := range a.Buckets {
		if b.Account == mgmt && b.Region == region && b.Policy == "" && len(buckets) == 0 {
			buckets = append(buckets, b)
		}
	}
	for _, b := range a.Buckets {
		if b.Account == mgmt && b.Region == region && len(buckets) == 1 && b != buckets[0] {
			buckets = append(buckets, b)
		}
	}
	var grantKey, key *awsfake.KMSKey
	for _, k := range a.Keys {
		if k.Account != mgmt || k.Region != region || k.Manager != "CUSTOMER" {
			continue
		}
		if len(k.Grants) > 0 && grantKey == nil {
			grantKey = k
		} else if key == nil {
			key = k
		}
	}
	var fn *awsfake.Function
	for _, f := range a.Functions {
		if f.Account == mgmt && f.Region == region && fn == nil {
			fn = f
		}
	}
	var secrets []*awsfake.Secret
	for _, x := range a.Secrets {
		if x.Account == mgmt && x.Region == region && (x.Policy == "" || len(secrets) == 1) && len(secrets) < 2 {
			secrets = append(secrets, x)
		}
	}
	var open, narrowed *awsfake.SecurityGroup
	for _, g := range a.SecurityGroups {
		if g.Account != mgmt || g.Region != region {
			continue
		}
		if narrowed == nil && len(g.Ingress) > 0 && len(g.Ingress[0].CIDRs) > 0 {
			narrowed = g
		} else if open == nil {
			open = g
		}
	}
	var inst *awsfake.Instance
	for _, x := range a.Instances {
		if x.Account == mgmt && x.Region == region && x.State == "running" && x.PublicIP != "" && inst == nil {
			inst = x
		}
	}
	if len(buckets) < 2 || grantKey == nil || key == nil || fn == nil || len(secrets) < 2 || open == nil || narrowed == nil || inst == nil {
		t.Fatalf("the estate lacks an asset to change: buckets %d, keys %v %v, function %v, secrets %d, groups %v %v, instance %v",
			len(buckets), grantKey, key, fn, len(secrets), open, narrowed, inst)
	}
	site, gone := buckets[0], buckets[1]
	shared, deleted := secrets[0], secrets[1]
	oldGrant := grantKey.Grants[0]
	newRole := "arn:aws:iam::" + mgmt + ":role/diff-assets-new-role"
	revoked := narrowed.Ingress[0]
	type want struct{ kind, change, asset, event string }
	var wants []want

	s3c := s3.NewFromConfig(cfg(region), func(o *s3.Options) { o.UsePathStyle = true })
	s3eu := s3.NewFromConfig(cfg("eu-west-1"), func(o *s3.Options) { o.UsePathStyle = true })
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := s3eu.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("diff-assets-new"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	check("CreateBucket", err)
	wants = append(wants, want{"asset", "added", "diff-assets-new", "CreateBucket"})
	_, err = s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(gone.Name)})
	check("DeleteBucket", err)
	wants = append(wants, want{"asset", "removed", gone.Name, "DeleteBucket"})
	off := &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(false), IgnorePublicAcls: aws.Bool(false), BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(false)}
	_, err = s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(site.Name), PublicAccessBlockConfiguration: off})
	check("PutPublicAccessBlock", err)
	if p := site.PublicAccessBlock; p != nil && (p.BlockPublicAcls || p.IgnorePublicAcls || p.BlockPublicPolicy || p.RestrictPublicBuckets) {
		wants = append(wants, want{"block_public_access", "changed", site.Name, "PutBucketPublicAccessBlock"})
	}
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + site.Name + `/*"}]}`
	_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(site.Name), Policy: aws.String(public)})
	check("PutBucketPolicy", err)
	wants = append(wants, want{"resource_policy", "added", site.Name, "PutBucketPolicy"})

	kc := kms.NewFromConfig(cfg(region))
	_, err = kc.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(key.ID), GranteePrincipal: aws.String("arn:aws:iam::999988887777:root"),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}})
	check("CreateGrant", err)
	wants = append(wants, want{"kms_grant", "added", key.ID, "CreateGrant"})
	_, err = kc.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(grantKey.ARN), GrantId: aws.String(oldGrant.ID)})
	check("RevokeGrant", err)
	wants = append(wants, want{"kms_grant", "removed", grantKey.ID, "RevokeGrant"})

	_, err = lambda.NewFromConfig(cfg(region)).UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn.Name), Role: aws.String(newRole)})
	check("UpdateFunctionConfiguration", err)
	wants = append(wants, want{"execution_role", "changed", fn.Name, "UpdateFunctionConfiguration20150331v2"})

	sm := secretsmanager.NewFromConfig(cfg(region))
	_, err = sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(shared.ARN), ResourcePolicy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)})
	check("PutResourcePolicy", err)
	wants = append(wants, want{"resource_policy", "added", shared.Name, "PutResourcePolicy"})
	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(deleted.Name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	check("DeleteSecret", err)
	wants = append(wants, want{"asset", "removed", deleted.Name, "DeleteSecret"})

	ec := ec2.NewFromConfig(cfg(region))
	_, err = ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(open.ID), IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	check("AuthorizeSecurityGroupIngress", err)
	wants = append(wants, want{"ingress", "added", open.Name, "AuthorizeSecurityGroupIngress"})
	perm := ec2types.IpPermission{IpProtocol: aws.String(revoked.Protocol), IpRanges: []ec2types.IpRange{{CidrIp: aws.String(revoked.CIDRs[0])}}}
	if revoked.Protocol != "-1" {
		perm.FromPort, perm.ToPort = aws.Int32(int32(revoked.FromPort)), aws.Int32(int32(revoked.ToPort))
	}
	_, err = ec.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(narrowed.ID), IpPermissions: []ec2types.IpPermission{perm}})
	check("RevokeSecurityGroupIngress", err)
	wants = append(wants, want{"ingress", "removed", narrowed.Name, "RevokeSecurityGroupIngress"})
	_, err = ec.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{inst.ID}})
	check("StopInstances", err)
	wants = append(wants, want{"instance_state", "changed", inst.ID, "StopInstances"}, want{"public_ip", "changed", inst.ID, "StopInstances"})

	// The ground truth of the actors: the events awsfake recorded.
	recorded := map[string]awsfake.Event{}
	for _, r := range []string{region, "eu-west-1"} {
		for _, e := range o.srv.Events(mgmt, r) {
			if !e.ReadOnly && e.Source != "sts.amazonaws.com" {
				recorded[e.Name+"|"+e.Region+"|"+strings.Join(eventNames(e), ",")] = e
			}
		}
	}
	o.sync(t)
	out, stderr, code := runIn(t, o.db, "--connection", "org", "diff", "-o", "json")
	if code != 0 {
		t.Fatalf("diff exited %d: %s", code, stderr)
	}
	type actor struct {
		ARN     string    `json:"arn"`
		Type    string    `json:"type"`
		At      time.Time `json:"at"`
		Event   string    `json:"event"`
		EventID string    `json:"event_id"`
	}
	type ref struct {
		ID, Name, Type string
		AccountID      string `json:"account_id"`
	}
	var rep struct {
		Summary struct {
			High int `json:"asset_changes_high"`
		} `json:"summary"`
		Assets []struct {
			Change, Kind, Severity, Exposure, Text string
			Asset                                  ref
			Actor                                  *actor
		} `json:"assets"`
		Resources []struct {
			Change   string
			Resource ref
			Actor    *actor
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var got, wantRows []string
	for _, w := range wants {
		wantRows = append(wantRows, w.kind+" "+w.change+" "+w.asset+" by "+w.event)
	}
	for _, r := range rep.Assets {
		name := r.Asset.Name
		if r.Asset.Type == "kms_key" || r.Asset.Type == "ec2_instance" { // named by their IDs in the wanted rows
			name = r.Asset.ID[strings.LastIndexByte(r.Asset.ID, '/')+1:]
		}
		by := "nobody"
		if r.Actor != nil {
			by = r.Actor.Event
			// The actor is the very event awsfake recorded for the call.
			found := false
			for _, e := range recorded {
				if e.ID == r.Actor.EventID && e.Name == r.Actor.Event && e.IdentityARN == r.Actor.ARN && e.IdentityType == r.Actor.Type && e.Time.Equal(r.Actor.At) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: actor %+v is no event awsfake recorded", r.Text, r.Actor)
			}
		}
		got = append(got, r.Kind+" "+r.Change+" "+name+" by "+by)
	}
	sort.Strings(got)
	sort.Strings(wantRows)
	if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("diff's assets:\n%s\nwant exactly the changes made:\n%s\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"), out)
	}
	if len(wants) != 13 {
		t.Errorf("the estate's bucket %s had no Block Public Access setting on: its change went untested", site.Name)
	}
	if rep.Summary.High != 3 { // the bucket now public (policy, Block Public Access) and RDP open to the internet
		t.Errorf("summary asset_changes_high = %d, want 3", rep.Summary.High)
	}
	for _, r := range rep.Resources {
		if strings.HasPrefix(r.Resource.ID, "arn:aws:s3:::") || strings.Contains(r.Resource.ID, ":instance/") || strings.Contains(r.Resource.ID, ":security-group/") {
			if r.Actor == nil {
				t.Errorf("resource %s %s has no actor", r.Resource.ID, r.Change)
			}
		}
	}
	text, _, _ := runIn(t, o.db, "--connection", "org", "diff")
	if !strings.Contains(text, "[high] bucket policy of bucket "+site.Name) || !strings.Contains(text, "now allows s3:GetObject to * (public) (by ") {
		t.Errorf("diff's table does not say the bucket is now public, by whom:\n%s", text)
	}
}

// eventNames are the names of an event's resources.
func eventNames(e awsfake.Event) []string {
	var out []string
	for _, r := range e.Resources {
		out = append(out, r.Name)
	}
	return out
}

// TestDiffKeyCreatedActor: a key created for a user the credential report
// shows without keys is seen once IAM makes a new report, which it does
// only when the last one is more than 4 hours old (GenerateCredentialReport
// answers COMPLETE with the old one before that), as a real user sees it:
// the emulator's clock starts 5 hours back, the first sync reads a report
// made then, the clock moves on to now, the key is created, and the second
// sync reads a new report, lists the user's keys and finds the new one. Its
// diff row carries the CreateAccessKey event awsfake recorded.
func TestDiffKeyCreatedActor(t *testing.T) {
	var mu sync.Mutex
	offset := -5 * time.Hour
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	est := awsfake.OrgEstate{Accounts: 1, Seed: 6, ExternalID: activityExternalID, PerAccount: awsfake.Estate{Users: 5, Groups: 2, Roles: 2}}
	o := buildActivityOrgAt(t, est, "", "7d", "", clock)
	o.sync(t)
	mgmt := o.truth.Management
	var user string
	for _, n := range sortedUserNames(mgmt) {
		if len(mgmt.IAM.Users[n].AccessKeys) == 0 && user == "" {
			user = n
		}
	}
	if user == "" {
		t.Fatal("the estate has no user without an access key")
	}
	mu.Lock()
	offset = 0 // 5 hours pass
	mu.Unlock()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(o.srv.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.creds.AccessKeyID, o.creds.SecretAccessKey, o.creds.SessionToken)))
	if err != nil {
		t.Fatal(err)
	}
	created, err := iam.NewFromConfig(cfg).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(created.AccessKey.AccessKeyId)
	var truth *awsfake.Event
	for _, e := range o.srv.Events(mgmt.ID, "us-east-1") {
		if e.Name == "CreateAccessKey" && e.Request["userName"] == user {
			truth = &e
		}
	}
	if truth == nil {
		t.Fatal("awsfake recorded no CreateAccessKey event")
	}
	o.sync(t)
	out, stderr, code := runIn(t, o.db, "--connection", "org", "diff", "-o", "json")
	if code != 0 {
		t.Fatalf("diff exited %d: %s", code, stderr)
	}
	var rep struct {
		AccessKeys []struct {
			Change string `json:"change"`
			Key    struct {
				Name string `json:"name"`
			} `json:"key"`
			User struct {
				Name string `json:"name"`
			} `json:"user"`
			Actor *struct {
				ARN     string    `json:"arn"`
				Type    string    `json:"type"`
				Account string    `json:"account"`
				At      time.Time `json:"at"`
				Event   string    `json:"event"`
				EventID string    `json:"event_id"`
			} `json:"actor"`
		} `json:"access_keys"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.AccessKeys) != 1 || rep.AccessKeys[0].Change != "created" || rep.AccessKeys[0].Key.Name != keyID || rep.AccessKeys[0].User.Name != user {
		t.Fatalf("diff's access keys = %+v, want key %s of %s created\n%s", rep.AccessKeys, keyID, user, out)
	}
	a := rep.AccessKeys[0].Actor
	if a == nil || a.EventID != truth.ID || a.Event != "CreateAccessKey" || a.ARN != truth.IdentityARN || a.Type != truth.IdentityType ||
		a.Account != truth.IdentityAccount || !a.At.Equal(truth.Time) {
		t.Errorf("the created key's actor = %+v, want event %s CreateAccessKey by %s (%s) at %v", a, truth.ID, truth.IdentityARN, truth.IdentityType, truth.Time)
	}
}

// sortedUserNames returns an account's IAM user names, sorted.
func sortedUserNames(a *awsfake.Account) []string {
	var out []string
	for n := range a.IAM.Users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestDiffOrganizationActors: an account moved to another OU, a new
// service control policy created and attached to it, through the SDK
// between two syncs: the diff's rows of the move (placement lost and
// gained), the attachment and the new policy carry the MoveAccount,
// AttachPolicy and CreatePolicy events awsfake recorded.
func TestDiffOrganizationActors(t *testing.T) {
	est := awsfake.OrgEstate{Accounts: 2, OUs: 2, SCPs: 1, Seed: 4, ExternalID: activityExternalID, PerAccount: awsfake.Estate{Users: 1, Roles: 1}}
	o := buildActivityOrg(t, est, "", "7d", "")
	o.sync(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(o.srv.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.creds.AccessKeyID, o.creds.SecretAccessKey, o.creds.SessionToken)))
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(cfg)
	member := o.truth.Members[0].ID
	parents, err := org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(member)})
	if err != nil || len(parents.Parents) != 1 {
		t.Fatalf("ListParents of %s: %v %v", member, parents, err)
	}
	from := aws.ToString(parents.Parents[0].Id)
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	ou, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String("diff-actors")})
	if err != nil {
		t.Fatal(err)
	}
	to := aws.ToString(ou.OrganizationalUnit.Id)
	if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(member), SourceParentId: aws.String(from), DestinationParentId: aws.String(to)}); err != nil {
		t.Fatal(err)
	}
	pol, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("deny-leave"), Description: aws.String("no leaving"), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	policyID := aws.ToString(pol.Policy.PolicySummary.Id)
	if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(member)}); err != nil {
		t.Fatal(err)
	}
	truth := map[string]awsfake.Event{}
	for _, e := range o.srv.Events(o.truth.Management.ID, "us-east-1") {
		switch e.Name {
		case "CreateOrganizationalUnit", "MoveAccount", "CreatePolicy", "AttachPolicy":
			truth[e.Name] = e
		}
	}
	if len(truth) != 4 {
		t.Fatalf("awsfake recorded %d of the 4 changes: %v", len(truth), truth)
	}
	o.sync(t)
	out, stderr, code := runIn(t, o.db, "--connection", "org", "diff", "-o", "json")
	if code != 0 {
		t.Fatalf("diff exited %d: %s", code, stderr)
	}
	type actor struct {
		EventID string `json:"event_id"`
		Event   string `json:"event"`
		ARN     string `json:"arn"`
	}
	type ref struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	var rep struct {
		Access []struct {
			Change      string `json:"change"`
			Principal   ref    `json:"principal"`
			Entitlement string `json:"entitlement"`
			Resource    ref    `json:"resource"`
			Actor       *actor `json:"actor"`
		} `json:"access"`
		Resources []struct {
			Change   string `json:"change"`
			Resource ref    `json:"resource"`
			Actor    *actor `json:"actor"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	tail := func(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }
	for _, a := range rep.Access {
		if tail(a.Principal.ID) != member && tail(a.Principal.ID) != to {
			continue
		}
		by := "nobody"
		if a.Actor != nil {
			by = a.Actor.Event
			if w := truth[a.Actor.Event]; w.ID != a.Actor.EventID || w.IdentityARN != a.Actor.ARN {
				t.Errorf("%s %s of %s: actor %+v is not awsfake's event %+v", a.Change, a.Entitlement, a.Resource.ID, a.Actor, w)
			}
		}
		got[a.Change+" "+a.Entitlement+" "+tail(a.Principal.ID)+" on "+tail(a.Resource.ID)] = by
	}
	for _, r := range rep.Resources {
		if r.Change == "added" && (tail(r.Resource.ID) == policyID || tail(r.Resource.ID) == to) {
			by := "nobody"
			if r.Actor != nil {
				by = r.Actor.Event
			}
			got["added "+tail(r.Resource.ID)] = by
		}
	}
	want := map[string]string{
		"lost contains " + member + " on " + from:       "MoveAccount",
		"gained contains " + member + " on " + to:       "MoveAccount",
		"gained contains " + to + " on " + root:         "CreateOrganizationalUnit",
		"gained attached " + member + " on " + policyID: "AttachPolicy",
		"added " + policyID:                             "CreatePolicy",
		"added " + to:                                   "CreateOrganizationalUnit",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: actor %q, want %q", k, got[k], v)
		}
	}
	if t.Failed() {
		t.Logf("rows: %v", got)
	}
}
