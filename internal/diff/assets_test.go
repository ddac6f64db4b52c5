package diff

import (
	"context"
	"reflect"
	"testing"

	"github.com/warden-iam/warden/internal/diff/difftest"
	"github.com/warden-iam/warden/internal/model"
)

// TestComputeAssets: one asset change of every kind (difftest.Assets) is
// one row each, in words, with its exposure and severity; backwards, the
// widenings read as narrowings with no severity.
func TestComputeAssets(t *testing.T) {
	rb, ra := difftest.Assets()
	st, snaps := writeSnapshots(t, &model.Graph{Resources: rb}, &model.Graph{Resources: ra})
	r, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	row := func(a AssetChange) string { return a.Severity + "|" + a.Exposure + "|" + a.Text }
	wantTexts(t, "assets", texts(r.Assets, row), []string{
		"medium||Block Public Access of account 111122223333: IgnorePublicAcls, BlockPublicPolicy turned off",
		"|" + "|instance i-1 in 111122223333 (us-east-1) is stopped (was running)",
		"|" + "|instance i-1 in 111122223333 (us-east-1) no longer has a public IP (was 203.0.113.10)",
		"low||instance i-2 in 111122223333 (us-east-1) now runs as role deploy (was app)",
		"high|open-admin-port|security group web in 111122223333 (us-east-1) now admits tcp 22 from 0.0.0.0/0 (open to the internet on admin port 22)",
		"|" + "|security group web in 111122223333 (us-east-1) no longer admits tcp 443 from 10.0.0.0/8",
		"medium|cross-account-grant|KMS key k-1 in 111122223333 (us-east-1) now grants Decrypt to arn:aws:iam::444455556666:root (grant g-new) (cross-account-grant)",
		"|" + "|KMS key k-1 in 111122223333 (us-east-1) no longer grants Encrypt to arn:aws:iam::111122223333:role/deploy (grant g-old)",
		"low||function resize in 111122223333 (us-east-1) now runs as role resize-v2 (was resize-v1)",
		"|" + "|bucket old-logs in 111122223333 (us-east-1) removed",
		"high|public|bucket public-drop in 111122223333 (us-east-1) added (public)",
		"high|public|Block Public Access of bucket site in 111122223333 (us-east-1): BlockPublicPolicy, RestrictPublicBuckets turned off (now public)",
		"high|public|bucket policy of bucket site in 111122223333 (us-east-1) now allows s3:GetObject to * (public)",
		"|" + "|secret policy of secret db in 111122223333 (us-east-1) no longer allows secretsmanager:GetSecretValue to arn:aws:iam::444455556666:root",
	})
	// The kinds and values of the rows, as JSON gives them.
	var kinds []string
	for _, a := range r.Assets {
		kinds = append(kinds, a.Change+" "+a.Kind+" "+a.Before+" → "+a.After)
	}
	wantTexts(t, "kinds", kinds, []string{
		"changed block_public_access BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy → BlockPublicAcls",
		"changed instance_state running → stopped",
		"changed public_ip 203.0.113.10 → ",
		"changed instance_role arn:aws:iam::111122223333:role/app → arn:aws:iam::111122223333:role/deploy",
		"added ingress  → ",
		"removed ingress  → ",
		"added kms_grant  → ",
		"removed kms_grant  → ",
		"changed execution_role arn:aws:iam::111122223333:role/resize-v1 → arn:aws:iam::111122223333:role/resize-v2",
		"removed asset  → ",
		"added asset  → ",
		"changed block_public_access BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets → BlockPublicAcls,IgnorePublicAcls",
		"added resource_policy  → ",
		"removed resource_policy  → ",
	})
	for _, a := range r.Assets {
		if a.Kind == AssetKindIngress && a.Change == Added {
			if want := `{"protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"}`; string(a.Detail) != want {
				t.Errorf("ingress detail %s, want %s", a.Detail, want)
			}
		}
		if a.Kind == AssetKindAsset && string(a.Detail) != "null" {
			t.Errorf("%s: detail %s, want null", a.Text, a.Detail)
		}
	}
	s := r.Summary
	if got := [4]int{s.AssetsAdded, s.AssetsRemoved, s.AssetsChanged, s.AssetsHighSeverity}; got != [4]int{1, 1, 12, 4} {
		t.Errorf("summary assets added, removed, changes, high = %v, want [1 1 12 4]", got)
	}

	// Backwards.
	back, err := Compute(context.Background(), st, snaps[1], snaps[0], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var widening []string
	for _, a := range back.Assets {
		if a.Severity != "" {
			widening = append(widening, row(a))
		}
	}
	wantTexts(t, "backwards widenings", widening, []string{
		"low||instance i-1 in 111122223333 (us-east-1) is running (was stopped)",
		"medium||instance i-1 in 111122223333 (us-east-1) now has public IP 203.0.113.10",
		"low||instance i-2 in 111122223333 (us-east-1) now runs as role app (was deploy)",
		"low||security group web in 111122223333 (us-east-1) now admits tcp 443 from 10.0.0.0/8",
		"low||KMS key k-1 in 111122223333 (us-east-1) now grants Encrypt to arn:aws:iam::111122223333:role/deploy (grant g-old)",
		"low||function resize in 111122223333 (us-east-1) now runs as role resize-v1 (was resize-v2)",
		"low||bucket old-logs in 111122223333 (us-east-1) added",
		"medium|cross-account|secret policy of secret db in 111122223333 (us-east-1) now allows secretsmanager:GetSecretValue to arn:aws:iam::444455556666:root (cross-account)",
	})

	// --account and --principal keep an asset's rows.
	only, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{Principals: []string{"arn:aws:s3:::site"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(only.Assets, func(a AssetChange) string { return a.Kind }); !reflect.DeepEqual(got, []string{"block_public_access", "resource_policy"}) {
		t.Errorf("assets about bucket site: %v", got)
	}
	other, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{AccountID: difftest.AcctB})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Assets) != 0 {
		t.Errorf("assets of account %s: %v, want none", difftest.AcctB, other.Assets)
	}

	// With the account's RestrictPublicBuckets on, a public statement
	// exposes nothing: S3 confines the bucket to the account.
	restrict := &model.PublicAccessBlock{RestrictPublicBuckets: true}
	acct := model.Resource{ID: model.AccountAssetsID(difftest.AcctA), Type: model.TypeAccountAssets, AccountID: difftest.AcctA, Name: difftest.AcctA,
		AccountAssets: &model.AccountAssetsAttrs{PublicAccessBlock: restrict}}
	var siteBefore, siteAfter model.Resource
	for _, x := range rb {
		if x.Name == "site" {
			siteBefore = x
		}
	}
	for _, x := range ra {
		if x.Name == "site" {
			siteAfter = x
		}
	}
	st2, snaps2 := writeSnapshots(t, &model.Graph{Resources: []model.Resource{acct, siteBefore}}, &model.Graph{Resources: []model.Resource{acct, siteAfter}})
	confined, err := Compute(context.Background(), st2, snaps2[0], snaps2[1], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "assets under the account's RestrictPublicBuckets", texts(confined.Assets, row), []string{
		"medium||Block Public Access of bucket site in 111122223333 (us-east-1): BlockPublicPolicy, RestrictPublicBuckets turned off",
		"low||bucket policy of bucket site in 111122223333 (us-east-1) now allows s3:GetObject to *",
	})
}

// TestComputeBucketACL: each grant of a bucket's ACL added or removed is
// a row, a public grant high (public-acl) unless IgnorePublicAcls, a grant
// to another account medium (cross-account-acl), the log delivery group
// low; an ACL turned public by IgnorePublicAcls going off says so.
func TestComputeBucketACL(t *testing.T) {
	const owner, other = "0wner0wner0wner0wner", "0ther0ther0ther0ther"
	grant := func(typ, who, perm string) model.BucketACLGrant {
		return model.BucketACLGrant{GranteeType: typ, Grantee: who, Permission: perm}
	}
	bucket := func(name string, pab *model.PublicAccessBlock, grants ...model.BucketACLGrant) model.Resource {
		return model.Resource{ID: "arn:aws:s3:::" + name, Type: model.TypeS3Bucket, AccountID: "111122223333", Name: name, ARN: "arn:aws:s3:::" + name,
			Bucket: &model.BucketAttrs{Region: "us-east-1", PublicAccessBlock: pab,
				ACL: &model.BucketACL{OwnerID: owner, Grants: append([]model.BucketACLGrant{grant(model.ACLCanonicalUser, owner, "FULL_CONTROL")}, grants...)}}}
	}
	ignore := &model.PublicAccessBlock{IgnorePublicAcls: true}
	before := []model.Resource{
		bucket("logs", nil, grant(model.ACLCanonicalUser, other, "READ")),
		bucket("site", ignore, grant(model.ACLGroup, model.ACLAllUsers, "READ")),
		bucket("quiet", ignore),
	}
	after := []model.Resource{
		bucket("logs", nil, grant(model.ACLGroup, model.ACLLogDelivery, "WRITE"), grant(model.ACLGroup, model.ACLAuthenticatedUsers, "READ")),
		bucket("site", nil, grant(model.ACLGroup, model.ACLAllUsers, "READ")),
		bucket("quiet", ignore, grant(model.ACLCanonicalUser, other, "WRITE"), grant(model.ACLGroup, model.ACLAllUsers, "WRITE")),
	}
	st, snaps := writeSnapshots(t, &model.Graph{Resources: before}, &model.Graph{Resources: after})
	r, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	row := func(a AssetChange) string { return a.Severity + "|" + a.Exposure + "|" + a.Text }
	wantTexts(t, "assets", texts(r.Assets, row), []string{
		"high|public-acl|ACL of bucket logs in 111122223333 (us-east-1) now grants READ to AuthenticatedUsers (public-acl)",
		"low||ACL of bucket logs in 111122223333 (us-east-1) now grants WRITE to LogDelivery",
		"|" + "|ACL of bucket logs in 111122223333 (us-east-1) no longer grants READ to canonical user 0ther0ther0t…",
		"medium|cross-account-acl|ACL of bucket quiet in 111122223333 (us-east-1) now grants WRITE to canonical user 0ther0ther0t… (cross-account-acl)",
		"low||ACL of bucket quiet in 111122223333 (us-east-1) now grants WRITE to AllUsers",
		"high|public-acl|Block Public Access of bucket site in 111122223333 (us-east-1): IgnorePublicAcls turned off (now public)",
	})
}

// TestComputeAliasPolicy: a statement added to a function alias's policy
// is a row judged on the alias alone (cross-account medium, even though
// the function's own policy is public), a removed alias takes its
// statements with it, and the function's own policy is compared apart.
func TestComputeAliasPolicy(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:111122223333:function:resize"
	public := `{"Version":"2012-10-17","Statement":[{"Sid":"pub","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"` + arn + `"}]}`
	partner := `{"Version":"2012-10-17","Statement":[{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `:prod"}]}`
	service := `{"Version":"2012-10-17","Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `:old"}]}`
	fn := func(aliases ...model.FunctionAlias) model.Resource {
		return model.Resource{ID: arn, Type: model.TypeLambdaFunction, AccountID: "111122223333", Name: "resize", ARN: arn,
			Function: &model.FunctionAttrs{Region: "us-east-1", Role: "arn:aws:iam::111122223333:role/resize", Policy: public, Aliases: aliases}}
	}
	before := fn(model.FunctionAlias{Name: "old", Version: "1", Policy: service}, model.FunctionAlias{Name: "prod", Version: "2"})
	after := fn(model.FunctionAlias{Name: "prod", Version: "3", Policy: partner})
	st, snaps := writeSnapshots(t, &model.Graph{Resources: []model.Resource{before}}, &model.Graph{Resources: []model.Resource{after}})
	r, err := Compute(context.Background(), st, snaps[0], snaps[1], Filter{})
	if err != nil {
		t.Fatal(err)
	}
	row := func(a AssetChange) string { return a.Severity + "|" + a.Exposure + "|" + a.Kind + "|" + a.Text }
	wantTexts(t, "assets", texts(r.Assets, row), []string{
		"medium|cross-account|alias_policy|policy of alias prod of function resize in 111122223333 (us-east-1) now allows lambda:InvokeFunction to arn:aws:iam::444455556666:root (cross-account)",
		"||alias_policy|policy of alias old of function resize in 111122223333 (us-east-1) no longer allows lambda:InvokeFunction to s3.amazonaws.com",
	})
}
