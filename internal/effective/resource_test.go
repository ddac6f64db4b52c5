package effective

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// The asset estate of the resource policy tests: an organization of a
// management account and two members, A (200000000000) and B
// (200000000001), with buckets, keys, a function and a secret in A whose
// policies name principals of A, of B and outside the organization
// (outsider, 999988887777). Each case below says what AWS decides and
// why; the estate is synced through the real SDK from the emulator.
const (
	outsider = "999988887777"
	keyNoIAM = "11111111-2222-4333-8444-000000000001"
	keyIAM   = "11111111-2222-4333-8444-000000000002"
	keyAcct  = "11111111-2222-4333-8444-000000000003"
	keyGrant = "11111111-2222-4333-8444-000000000004"
)

var (
	fnARN     = "arn:aws:lambda:us-east-1:" + acctA + ":function:worker"
	secretARN = "arn:aws:secretsmanager:us-east-1:" + acctA + ":secret:db/password-AbCdEf"
)

func keyARN(id string) string { return "arn:aws:kms:us-east-1:" + acctA + ":key/" + id }

// assetTruth is the organization and the assets planted in it.
func assetTruth() *awsfake.OrgTruth {
	t := awsfake.OrgEstate{Accounts: 2, OUs: 1, Seed: 11, ExternalID: externalID}.Build()
	a, b := t.Members[0], t.Members[1]
	allow := func(sid, actions string) string {
		return doc(`{"Sid":"` + sid + `","Effect":"Allow","Action":` + actions + `,"Resource":"*"}`)
	}
	user(a, "named", nil, nil, "")
	user(a, "nobody", nil, nil, "")
	user(a, "keyuser", nil, map[string]string{"use-keys": allow("UseKeys", `["kms:Decrypt","kms:Encrypt"]`)}, "")
	user(a, "keyadmin", nil, nil, "")
	role(a, "/apps/", "app", trustAWS(iamARN(acctA, "user", "named")), nil, nil)
	user(b, "breader", nil, map[string]string{"reads": allow("Reads", `["s3:GetObject","secretsmanager:GetSecretValue","lambda:InvokeFunction"]`)}, "")
	user(b, "bnoid", nil, nil, "")
	user(b, "blister", nil, map[string]string{"lists": allow("Lists", `["s3:ListBucket","s3:ListBucketVersions","s3:PutObject"]`)}, "")

	bucket := func(name, pol string, restrict bool) *awsfake.Bucket {
		bk := &awsfake.Bucket{Name: name, Account: acctA, Region: "us-east-1", CreatedAt: created, Policy: pol}
		if restrict {
			bk.PublicAccessBlock = &awsfake.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
		}
		return bk
	}
	obj := func(b string) string { return `"arn:aws:s3:::` + b + `/*"` }
	as := &awsfake.Assets{OptedIn: map[string][]string{}, DeniedRegions: map[string][]string{}}
	as.Buckets = []*awsfake.Bucket{
		bucket("private-a", doc(
			`{"Effect":"Allow","Principal":{"AWS":"`+iamARN(acctA, "user", "named")+`"},"Action":"s3:GetObject","Resource":`+obj("private-a")+`},`+
				`{"Sid":"AppRole","Effect":"Allow","Principal":{"AWS":"`+iamARN(acctA, "role/apps", "app")+`"},"Action":"s3:GetObject","Resource":`+obj("private-a")+`},`+
				`{"Sid":"AccountB","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctB+`:root"},"Action":"s3:GetObject","Resource":`+obj("private-a")+`},`+
				`{"Sid":"Outsider","Effect":"Allow","Principal":{"AWS":"`+outsider+`"},"Action":"s3:GetObject","Resource":`+obj("private-a")+`},`+
				`{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":`+obj("private-a")+`}`), false),
		bucket("restricted-a", doc(`{"Sid":"PublicRead","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":`+obj("restricted-a")+`}`), true),
		bucket("open-a", doc(`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":`+obj("open-a")+`}`), false),
	}
	key := func(id, pol string) *awsfake.KMSKey {
		return &awsfake.KMSKey{ID: id, ARN: keyARN(id), Account: acctA, Region: "us-east-1", CreatedAt: created, Manager: "CUSTOMER", State: "Enabled", Policy: pol}
	}
	as.Keys = []*awsfake.KMSKey{
		// No statement for the account root: IAM policies do not count.
		key(keyNoIAM, doc(`{"Sid":"KeyAdmin","Effect":"Allow","Principal":{"AWS":"`+iamARN(acctA, "user", "keyadmin")+`"},"Action":"kms:*","Resource":"*"}`)),
		// The default key policy: IAM policies count.
		key(keyIAM, doc(`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acctA+`:root"},"Action":"kms:*","Resource":"*"}`)),
		// Anyone in the account may manage it (kms:CallerAccount).
		key(keyAcct, doc(`{"Sid":"AccountAdmins","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Put*","kms:ScheduleKeyDeletion"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"`+acctA+`"}}}`)),
		// Only keyadmin in the key policy; grants give the rest (grants.go).
		key(keyGrant, doc(`{"Sid":"KeyAdmin","Effect":"Allow","Principal":{"AWS":"`+iamARN(acctA, "user", "keyadmin")+`"},"Action":"kms:*","Resource":"*"},`+
			`{"Sid":"NoGrantUse","Effect":"Deny","Principal":{"AWS":"`+iamARN(acctA, "user", "named")+`"},"Action":"kms:*","Resource":"*"}`)),
	}
	as.Keys[3].Grants = kmsGrants()
	as.Functions = []*awsfake.Function{{Name: "worker", ARN: fnARN, Account: acctA, Region: "us-east-1", Runtime: "python3.12", Handler: "index.handler",
		Role: iamARN(acctA, "role/apps", "app"), LastModified: created, Policy: doc(
			`{"Sid":"s3-invoke","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"},` +
				`{"Sid":"b-invoke","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctB + `:root"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `"}`),
		// Aliases: prod's own policy lets the outsider invoke it; live has
		// none (the function's policy does not grant on an alias).
		Aliases: []*awsfake.FunctionAlias{{Name: "live", FunctionVersion: "1"}, {Name: "prod", FunctionVersion: "2", Policy: doc(
			`{"Sid":"outsider-prod","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + outsider + `:root"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `:prod"},` +
				`{"Sid":"b-prod","Effect":"Allow","Principal":{"AWS":"` + iamARN(acctB, "user", "breader") + `"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `:prod"}`)}}}}
	as.Secrets = []*awsfake.Secret{{Name: "db/password", ARN: secretARN, Account: acctA, Region: "us-east-1", CreatedAt: created, Value: "never-read",
		Policy: doc(`{"Sid":"BReader","Effect":"Allow","Principal":{"AWS":"` + iamARN(acctB, "user", "breader") + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`)}}
	// A public bucket in the management account, whose resources RCPs do
	// not restrict.
	as.Buckets = append(as.Buckets, &awsfake.Bucket{Name: "mgmt-open", Account: mgmt, Region: "us-east-1", CreatedAt: created,
		Policy: doc(`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":` + obj("mgmt-open") + `}`)})
	// A public bucket in B, whose account's Block Public Access restricts
	// public buckets (the bucket sets none of its own).
	as.Buckets = append(as.Buckets, &awsfake.Bucket{Name: "open-b", Account: acctB, Region: "us-east-1", CreatedAt: created,
		Policy: doc(`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":` + obj("open-b") + `}`)})
	as.AccountPublicAccessBlocks = map[string]*awsfake.PublicAccessBlock{acctB: {RestrictPublicBuckets: true}}
	// Buckets whose ACLs grant (acl.go): to anyone and to any AWS account;
	// to account B and to the outsider by their canonical users (B's is
	// known from open-b's owner, the outsider's is not), with a policy
	// that denies one of the actions READ maps to; and to anyone under
	// IgnorePublicAcls.
	aclBucket := func(name, pol string, pab *awsfake.PublicAccessBlock, grants ...awsfake.BucketGrant) *awsfake.Bucket {
		own := awsfake.BucketGrant{Type: awsfake.GranteeCanonicalUser, ID: awsfake.CanonicalUserID(acctA), Permission: "FULL_CONTROL"}
		return &awsfake.Bucket{Name: name, Account: acctA, Region: "us-east-1", CreatedAt: created, Policy: pol, PublicAccessBlock: pab,
			ObjectOwnership: awsfake.ObjectOwnershipPreferred, ACL: append([]awsfake.BucketGrant{own}, grants...)}
	}
	group := func(uri, perm string) awsfake.BucketGrant {
		return awsfake.BucketGrant{Type: awsfake.GranteeGroup, URI: uri, Permission: perm}
	}
	canonical := func(acct, perm string) awsfake.BucketGrant {
		return awsfake.BucketGrant{Type: awsfake.GranteeCanonicalUser, ID: awsfake.CanonicalUserID(acct), Permission: perm}
	}
	as.Buckets = append(as.Buckets,
		aclBucket("acl-public-a", "", nil, group(awsfake.GroupAllUsers, "READ"), group(awsfake.GroupAuthenticatedUsers, "WRITE")),
		aclBucket("acl-shared-a", doc(`{"Sid":"NoVersions","Effect":"Deny","Principal":"*","Action":"s3:ListBucketVersions","Resource":"arn:aws:s3:::acl-shared-a"}`), nil,
			canonical(acctB, "READ"), canonical(outsider, "FULL_CONTROL"), group(awsfake.GroupLogDelivery, "WRITE")),
		aclBucket("acl-ignored-a", "", &awsfake.PublicAccessBlock{IgnorePublicAcls: true}, group(awsfake.GroupAllUsers, "READ")))
	t.Assets = &awsfake.AssetTruth{Assets: as}

	// Resource control policies: enabled (RCPFullAWSAccess everywhere), one
	// at the root denying key deletion and reads of mgmt-open, one at
	// account A confining open-a's reads to the organization.
	o := t.Organization
	o.EnablePolicyType("RESOURCE_CONTROL_POLICY")
	rcp := func(id, name, content string, targets ...string) {
		o.Policies[id] = &awsfake.OrgPolicy{ID: id, ARN: "arn:aws:organizations::" + mgmt + ":policy/" + o.ID + "/resource_control_policy/" + id,
			Name: name, Type: "RESOURCE_CONTROL_POLICY", Content: content, Targets: targets}
	}
	rcp("p-rcpnokeydel", "no-key-deletion", doc(`{"Sid":"NoKeyDeletion","Effect":"Deny","Principal":"*","Action":"kms:ScheduleKeyDeletion","Resource":"*"},`+
		`{"Sid":"NoMgmtReads","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":`+obj("mgmt-open")+`}`), o.Root.ID)
	rcp("p-rcporgonly1", "org-only-open-a", doc(`{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":`+obj("open-a")+
		`,"Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"`+o.ID+`"}}}`), acctA)
	return t
}

var assetPlanted struct {
	once  sync.Once
	dir   string
	st    *store.DB
	snap  int64
	orgID string
	calls map[string]int64 // the sync's calls, by service:Action
	err   error
}

// assetStore syncs the asset estate (with its assets, in us-east-1) into
// a SQLite store, once per process.
func assetStore(t *testing.T) (*store.DB, int64) {
	t.Helper()
	assetPlanted.once.Do(func() {
		isolateAWS(t)
		ctx := context.Background()
		truth := assetTruth()
		assetPlanted.orgID = truth.Organization.ID
		srv := awsfake.NewServer(awsfake.Options{})
		defer srv.Close()
		defer func() { assetPlanted.calls = srv.Calls() }()
		creds := truth.Install(srv)
		sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
			Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)})
		if err != nil {
			assetPlanted.err = err
			return
		}
		if assetPlanted.dir, err = os.MkdirTemp("", "effective-assets-"); err != nil {
			assetPlanted.err = err
			return
		}
		if assetPlanted.st, err = store.OpenSQLite(ctx, filepath.Join(assetPlanted.dir, "warden.db")); err != nil {
			assetPlanted.err = err
			return
		}
		snap, err := syncer.Sync(ctx, sess, assetPlanted.st, syncer.Options{
			IAM:          collect.IAMOptions{ReportPoll: 10 * time.Millisecond},
			Organization: &syncer.OrganizationOptions{ExternalID: externalID},
			Assets:       &collect.AssetOptions{Regions: []string{"us-east-1"}}})
		if err != nil {
			assetPlanted.err = err
			return
		}
		if snap.Status != model.StatusComplete {
			assetPlanted.err = fmt.Errorf("sync is %s: %+v", snap.Status, snap.Errors)
			return
		}
		assetPlanted.snap = snap.ID
	})
	if assetPlanted.err != nil {
		t.Fatalf("sync the asset estate: %v", assetPlanted.err)
	}
	return assetPlanted.st, assetPlanted.snap
}

func cleanupAssetStore() {
	if assetPlanted.st != nil {
		assetPlanted.st.Close()
	}
	if assetPlanted.dir != "" {
		os.RemoveAll(assetPlanted.dir)
	}
}

// TestCanResourcePolicies asks `can` on each planted asset and checks
// AWS's decision and the statement that makes it.
func TestCanResourcePolicies(t *testing.T) {
	st, snap := assetStore(t)
	named, app := iamARN(acctA, "user", "named"), iamARN(acctA, "role/apps", "app")
	cases := []struct {
		name      string
		principal string
		action    string
		resource  string
		decision  policy.Decision
		step      *step
	}{
		{"a same-account bucket policy naming the user grants on its own", named, "s3:GetObject", "arn:aws:s3:::private-a/reports/q1.csv",
			policy.Allowed, &step{"resource", "bucket policy of private-a", "#1", "Allow", "bucket policy"}},
		{"the bucket itself is the bucket's resource too", named, "s3:GetObject", "arn:aws:s3:::private-a/x",
			policy.Allowed, &step{"resource", "bucket policy of private-a", "#1", "Allow", "bucket policy"}},
		{"a bucket policy naming the role grants its sessions (role path kept)", app, "s3:GetObject", "arn:aws:s3:::private-a/x",
			policy.Allowed, &step{"resource", "bucket policy of private-a", "AppRole", "Allow", "bucket policy"}},
		{"a same-account principal the policy does not name, without an identity allow", "nobody", "s3:GetObject", "arn:aws:s3:::private-a/x",
			policy.ImplicitDeny, nil},
		{"the bucket policy's explicit deny wins", named, "s3:DeleteObject", "arn:aws:s3:::private-a/x",
			policy.ExplicitDeny, &step{"resource", "bucket policy of private-a", "NoDeletes", "Deny", "bucket policy"}},
		{"cross-account: identity allow and the bucket policy naming the account", "breader", "s3:GetObject", "arn:aws:s3:::private-a/x",
			policy.Allowed, &step{"resource", "bucket policy of private-a", "AccountB", "Allow", "bucket policy"}},
		{"cross-account: the bucket policy alone is not enough", "bnoid", "s3:GetObject", "arn:aws:s3:::private-a/x",
			policy.ImplicitDeny, nil},
		{"a public bucket policy lets in other accounts", "breader", "s3:GetObject", "arn:aws:s3:::open-a/x",
			policy.Allowed, &step{"resource", "bucket policy of open-a", "PublicRead", "Allow", "bucket policy"}},
		{"the RCPs of every level allow", "breader", "s3:GetObject", "arn:aws:s3:::open-a/x",
			policy.Allowed, &step{"rcp", "RCPFullAWSAccess", "#1", "Allow", "RCP at root"}},
		{"a public bucket policy grants the owner's principals on its own", "nobody", "s3:GetObject", "arn:aws:s3:::open-a/x",
			policy.Allowed, &step{"resource", "bucket policy of open-a", "PublicRead", "Allow", "bucket policy"}},
		{"RestrictPublicBuckets confines a public policy to the owner's account", "breader", "s3:GetObject", "arn:aws:s3:::restricted-a/x",
			policy.ImplicitDeny, &step{"resource", "bucket policy of restricted-a", "", "none", "Block Public Access"}},
		{"the account's RestrictPublicBuckets confines its buckets' public policies", iamARN(acctA, "role", "OrganizationAccountAccessRole"), "s3:GetObject", "arn:aws:s3:::open-b/x",
			policy.ImplicitDeny, &step{"resource", "bucket policy of open-b", "", "none", "Block Public Access"}},
		{"the account's RestrictPublicBuckets admits the account's own principals", "bnoid", "s3:GetObject", "arn:aws:s3:::open-b/x",
			policy.Allowed, &step{"resource", "bucket policy of open-b", "PublicRead", "Allow", "bucket policy"}},
		{"RestrictPublicBuckets still admits the owner's account", "nobody", "s3:GetObject", "arn:aws:s3:::restricted-a/x",
			policy.Allowed, &step{"resource", "bucket policy of restricted-a", "PublicRead", "Allow", "bucket policy"}},
		{"a key policy without the account root: IAM policies do not count", "keyuser", "kms:Decrypt", keyARN(keyNoIAM),
			policy.ImplicitDeny, &step{"resource", "key policy of " + keyNoIAM, "", "none", "key policy"}},
		{"a key policy naming the user grants on its own", "keyadmin", "kms:PutKeyPolicy", keyARN(keyNoIAM),
			policy.Allowed, &step{"resource", "key policy of " + keyNoIAM, "KeyAdmin", "Allow", "key policy"}},
		{"an RCP at the root denies what the key policy allows", "keyadmin", "kms:ScheduleKeyDeletion", keyARN(keyNoIAM),
			policy.ExplicitDeny, &step{"rcp", "no-key-deletion", "NoKeyDeletion", "Deny", "RCP at root"}},
		{"RCPs apply to sts:AssumeRole on a role of a member account", "named", "sts:AssumeRole", app,
			policy.Allowed, &step{"rcp", "RCPFullAWSAccess", "#1", "Allow", "RCP at account " + acctA}},
		{"an RCP does not restrict the management account's resources", "breader", "s3:GetObject", "arn:aws:s3:::mgmt-open/x",
			policy.Allowed, &step{"resource", "bucket policy of mgmt-open", "PublicRead", "Allow", "bucket policy"}},
		{"an RCP confining a public bucket to the organization lets its principals in", "breader", "s3:GetObject", "arn:aws:s3:::open-a/x",
			policy.Allowed, &step{"rcp", "RCPFullAWSAccess", "#1", "Allow", "RCP at account " + acctA}},
		{"the default key policy delegates to IAM policies", "keyuser", "kms:Decrypt", keyARN(keyIAM),
			policy.Allowed, &step{"identity", "use-keys", "UseKeys", "Allow", "inline"}},
		{"the default key policy alone grants nothing", "nobody", "kms:Decrypt", keyARN(keyIAM),
			policy.ImplicitDeny, nil},
		{"kms:CallerAccount is the caller's account: anyone in the account", "nobody", "kms:PutKeyPolicy", keyARN(keyAcct),
			policy.Allowed, &step{"resource", "key policy of " + keyAcct, "AccountAdmins", "Allow", "key policy"}},
		{"kms:CallerAccount is the caller's account: not another account", "breader", "kms:PutKeyPolicy", keyARN(keyAcct),
			policy.ImplicitDeny, nil},
		{"a function policy naming the account", "breader", "lambda:InvokeFunction", fnARN,
			policy.Allowed, &step{"resource", "function policy of worker", "b-invoke", "Allow", "function policy"}},
		// Lambda: a permission on the unqualified function is valid only
		// for its unqualified ARN; an alias has its own policy.
		{"the unqualified function's policy does not grant on an alias", "breader", "lambda:InvokeFunction", fnARN + ":live",
			policy.ImplicitDeny, nil},
		{"an alias's own policy grants on the alias", "breader", "lambda:InvokeFunction", fnARN + ":prod",
			policy.Allowed, &step{"resource", "function policy of worker:prod", "b-prod", "Allow", "function policy"}},
		{"an alias's own policy needs the identity side across accounts", "bnoid", "lambda:InvokeFunction", fnARN + ":prod",
			policy.ImplicitDeny, nil},
		{"a version's own policy is not read: the identity side alone", "breader", "lambda:InvokeFunction", fnARN + ":2",
			policy.ImplicitDeny, nil},
		{"a function policy naming the account needs the identity side", "bnoid", "lambda:InvokeFunction", fnARN,
			policy.ImplicitDeny, nil},
		{"a secret policy naming a user of another account", "breader", "secretsmanager:GetSecretValue", secretARN,
			policy.Allowed, &step{"resource", "secret policy of db/password", "BReader", "Allow", "secret policy"}},
		// Bucket ACLs (acl.go).
		{"an ACL's READ to another account, with the identity allow", "blister", "s3:ListBucket", "arn:aws:s3:::acl-shared-a",
			policy.Allowed, &step{"resource", "bucket policy of acl-shared-a", "bucket ACL: READ to account " + acctB, "Allow", "bucket policy"}},
		{"an ACL's READ to another account needs the identity side", "bnoid", "s3:ListBucket", "arn:aws:s3:::acl-shared-a",
			policy.ImplicitDeny, nil},
		{"the bucket policy's deny wins over an ACL grant", "blister", "s3:ListBucketVersions", "arn:aws:s3:::acl-shared-a",
			policy.ExplicitDeny, &step{"resource", "bucket policy of acl-shared-a", "NoVersions", "Deny", "bucket policy"}},
		{"an ACL's READ to AllUsers lets in other accounts", "blister", "s3:ListBucket", "arn:aws:s3:::acl-public-a",
			policy.Allowed, &step{"resource", "bucket policy of acl-public-a", "bucket ACL: READ to AllUsers (anyone)", "Allow", "bucket policy"}},
		{"an ACL's WRITE to AuthenticatedUsers allows PutObject on the bucket's objects", "blister", "s3:PutObject", "arn:aws:s3:::acl-public-a/up.txt",
			policy.Allowed, &step{"resource", "bucket policy of acl-public-a", "bucket ACL: WRITE to AuthenticatedUsers (any AWS account)", "Allow", "bucket policy"}},
		{"an ACL's READ on the bucket grants no object", "blister", "s3:ListBucketVersions", "arn:aws:s3:::acl-public-a/x",
			policy.ImplicitDeny, nil},
		{"IgnorePublicAcls: S3 ignores the public grant", "blister", "s3:ListBucket", "arn:aws:s3:::acl-ignored-a",
			policy.ImplicitDeny, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkCan(t, st, snap, Question{Principal: c.principal, Action: c.action, Resource: c.resource}, c.decision, c.step)
		})
	}
}

// checkCan asks q of the snapshot and returns its only case, failing the
// test unless its decision is want and, when step is not nil, its
// explanation names step.
func checkCan(t *testing.T, st *store.DB, snap int64, q Question, want policy.Decision, step *step) Case {
	t.Helper()
	a, err := Can(context.Background(), st, snap, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Cases) != 1 {
		t.Fatalf("%d cases, want 1", len(a.Cases))
	}
	got := a.Cases[0]
	if got.Decision != want {
		t.Fatalf("decision %s, want %s: %+v %v", got.Decision, want, got.Explanation, got.Notes)
	}
	if step != nil && !hasStep(got.Explanation, *step) {
		t.Fatalf("explanation %+v does not name %+v", got.Explanation, *step)
	}
	return got
}

// assetEntryKey sums up a who-can entry: path, principal (name@account, or the
// outside principal's ID), decision, the roles of its chain, and the
// statement of the request's resource policy that allows it.
func assetEntryKey(e Entry) string {
	who := e.Principal.Name + "@" + e.Principal.AccountID
	if e.Path == "outside" {
		who = e.Principal.ID
	}
	var chain []string
	for _, h := range e.Chain {
		chain = append(chain, h.Role.Name+"@"+h.Role.AccountID)
	}
	res := "-"
	for _, s := range e.Explanation {
		if s.Kind == "resource" && s.Effect == "Allow" {
			res = s.Policy + " " + s.Statement
		}
	}
	return fmt.Sprintf("%s %s %s [%s] %s", e.Path, who, e.Decision, strings.Join(chain, " "), res)
}

func assetEntryKeys(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, assetEntryKey(e))
	}
	sort.Strings(out)
	return out
}

// TestWhoCanResourcePolicies asks who-can on the planted assets: every
// principal of the snapshot the resource policy lets in (with the
// identity side across accounts), and the outside principals it names.
func TestWhoCanResourcePolicies(t *testing.T) {
	st, snap := assetStore(t)
	ctx := context.Background()
	const (
		orgRole = "OrganizationAccountAccessRole"
		pa      = "bucket policy of private-a"
	)
	// Each member's OrganizationAccountAccessRole has AdministratorAccess:
	// in A it needs no resource policy, in B the resource policy must let
	// account B in. A's own principals are every user and role of A.
	ownA := func(res string) []string {
		var out []string
		for _, n := range []string{orgRole, "app", "keyadmin", "keyuser", "named", "nobody"} {
			out = append(out, "direct "+n+"@"+acctA+" allowed [] "+res)
		}
		return out
	}
	kp := func(id, sid string) string { return "key policy of " + id + " " + sid }
	cases := []struct {
		name     string
		action   string
		resource string
		want     []string
	}{
		{"private bucket", "s3:GetObject", "arn:aws:s3:::private-a/x", []string{
			"direct " + orgRole + "@" + acctA + " allowed [] -",
			"direct " + orgRole + "@" + acctB + " allowed [] " + pa + " AccountB",
			"direct app@" + acctA + " allowed [] " + pa + " AppRole",
			"direct breader@" + acctB + " allowed [] " + pa + " AccountB",
			"direct named@" + acctA + " allowed [] " + pa + " #1",
			"outside principal:AWS:" + outsider + " allowed [] " + pa + " Outsider",
		}},
		// Principal "*": every principal of A on its own, of B with its
		// identity allow, and anyone outside.
		{"public bucket", "s3:GetObject", "arn:aws:s3:::open-a/x", append(ownA("bucket policy of open-a PublicRead"),
			"direct "+orgRole+"@"+acctB+" allowed [] bucket policy of open-a PublicRead",
			"direct breader@"+acctB+" allowed [] bucket policy of open-a PublicRead",
			// The RCP at A confines it to the organization: anyone outside
			// only if in it.
			"outside principal:*:* allowed_if [] bucket policy of open-a PublicRead")},
		// In another account: the members' principals need an identity
		// allow; the RCP at the root does not apply to the management
		// account's bucket.
		{"public bucket of the management account", "s3:GetObject", "arn:aws:s3:::mgmt-open/x", []string{
			"direct " + orgRole + "@" + acctA + " allowed [] bucket policy of mgmt-open PublicRead",
			"direct " + orgRole + "@" + acctB + " allowed [] bucket policy of mgmt-open PublicRead",
			"direct breader@" + acctB + " allowed [] bucket policy of mgmt-open PublicRead",
			"outside principal:*:* allowed [] bucket policy of mgmt-open PublicRead"}},
		// RestrictPublicBuckets: A's principals only.
		{"public bucket restricted by Block Public Access", "s3:GetObject", "arn:aws:s3:::restricted-a/x", ownA("bucket policy of restricted-a PublicRead")},
		// The account's Block Public Access: B's principals only.
		{"public bucket restricted by its account's Block Public Access", "s3:GetObject", "arn:aws:s3:::open-b/x", []string{
			"direct " + orgRole + "@" + acctB + " allowed [] bucket policy of open-b PublicRead",
			"direct blister@" + acctB + " allowed [] bucket policy of open-b PublicRead",
			"direct bnoid@" + acctB + " allowed [] bucket policy of open-b PublicRead",
			"direct breader@" + acctB + " allowed [] bucket policy of open-b PublicRead"}},
		// Only the key policy counts: the administrator role of A cannot.
		{"key policy without the account", "kms:Decrypt", keyARN(keyNoIAM), []string{
			"direct keyadmin@" + acctA + " allowed [] " + kp(keyNoIAM, "KeyAdmin")}},
		{"key policy delegating to IAM", "kms:Decrypt", keyARN(keyIAM), []string{
			"direct " + orgRole + "@" + acctA + " allowed [] " + kp(keyIAM, "Enable IAM User Permissions"),
			"direct keyuser@" + acctA + " allowed [] " + kp(keyIAM, "Enable IAM User Permissions")}},
		{"function policy naming a service and an account", "lambda:InvokeFunction", fnARN, []string{
			"direct " + orgRole + "@" + acctA + " allowed [] -",
			"direct " + orgRole + "@" + acctB + " allowed [] function policy of worker b-invoke",
			"direct breader@" + acctB + " allowed [] function policy of worker b-invoke",
			"outside principal:Service:s3.amazonaws.com allowed [] function policy of worker s3-invoke"}},
		{"alias policy naming a user of another account and an outsider", "lambda:InvokeFunction", fnARN + ":prod", []string{
			"direct " + orgRole + "@" + acctA + " allowed [] -",
			"direct breader@" + acctB + " allowed [] function policy of worker:prod b-prod",
			"outside principal:AWS:arn:aws:iam::" + outsider + ":root allowed [] function policy of worker:prod outsider-prod"}},
		{"secret policy naming a user of another account", "secretsmanager:GetSecretValue", secretARN, []string{
			"direct " + orgRole + "@" + acctA + " allowed [] -",
			"direct breader@" + acctB + " allowed [] secret policy of db/password BReader"}},
		// ACL grants: to account B (its principals with an identity allow),
		// to the outsider's canonical user (FULL_CONTROL), to S3's log
		// delivery (WRITE only).
		{"bucket ACL naming accounts", "s3:ListBucket", "arn:aws:s3:::acl-shared-a", append([]string{"direct " + orgRole + "@" + acctA + " allowed [] -"},
			"direct "+orgRole+"@"+acctB+" allowed [] bucket policy of acl-shared-a bucket ACL: READ to account "+acctB,
			"direct blister@"+acctB+" allowed [] bucket policy of acl-shared-a bucket ACL: READ to account "+acctB,
			"outside principal:CanonicalUser:"+awsfake.CanonicalUserID(outsider)+" allowed [] bucket policy of acl-shared-a bucket ACL: FULL_CONTROL to canonical user "+awsfake.CanonicalUserID(outsider)[:12]+"…")},
		{"bucket ACL granting anyone", "s3:PutObject", "arn:aws:s3:::acl-public-a/x", append(ownA("bucket policy of acl-public-a bucket ACL: WRITE to AuthenticatedUsers (any AWS account)"),
			"direct "+orgRole+"@"+acctB+" allowed [] bucket policy of acl-public-a bucket ACL: WRITE to AuthenticatedUsers (any AWS account)",
			"direct blister@"+acctB+" allowed [] bucket policy of acl-public-a bucket ACL: WRITE to AuthenticatedUsers (any AWS account)",
			"outside principal:*:* allowed [] bucket policy of acl-public-a bucket ACL: WRITE to AuthenticatedUsers (any AWS account)")},
		{"bucket ACL's public grant ignored", "s3:ListBucket", "arn:aws:s3:::acl-ignored-a", []string{"direct " + orgRole + "@" + acctA + " allowed [] -"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := WhoCan(ctx, st, snap, WhoCanQuestion{Action: c.action, Resource: c.resource})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range a.Principals {
				if e.Decision == policy.Conditional && (len(e.AllowedIf) != 1 || len(e.AllowedIf[0].Requires) != 1 ||
					e.AllowedIf[0].Requires[0].String() != "aws:PrincipalOrgID StringEquals "+assetPlanted.orgID) {
					t.Errorf("%s is allowed if %+v, want if aws:PrincipalOrgID StringEquals %s (the RCP)", e.Principal.ID, e.AllowedIf, assetPlanted.orgID)
				}
			}
			got := assetEntryKeys(a.Principals)
			sort.Strings(c.want)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("who-can %s %s:\n%s\nwant:\n%s", c.action, c.resource, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestSyncReadsRCPs: the sync stores each resource control policy as an
// SCP is stored (its document, and the root, OUs and accounts it is
// attached to), at the cost the docs give: one more ListPolicies page, and
// one DescribePolicy and one ListTargetsForPolicy page per RCP; an
// organization without RCPs enabled makes none of these calls for them.
func TestSyncReadsRCPs(t *testing.T) {
	st, snap := assetStore(t)
	ctx := context.Background()
	rs, err := st.Resources(ctx, snap, store.ResourceFilter{Type: model.TypeRCP})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rs {
		if r.SCP == nil || r.SCP.Document == "" {
			t.Fatalf("RCP %s stored without its document", r.ID)
		}
		hs, err := st.HoldersOf(ctx, snap, model.EntitlementID(r.ID, model.EntAttached))
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, h := range hs {
			targets = append(targets, lastPart(h.Grant.PrincipalID))
		}
		sort.Strings(targets)
		got[r.Name] = strings.Join(targets, " ")
	}
	truth := assetTruth().Organization
	want := map[string]string{}
	for _, p := range truth.Policies {
		if p.Type != "RESOURCE_CONTROL_POLICY" {
			continue
		}
		var targets []string
		for _, id := range p.Targets {
			if model.IsAccountID(id) {
				id = lastPart(model.AccountResourceID(id))
			}
			targets = append(targets, id)
		}
		sort.Strings(targets)
		want[p.Name] = strings.Join(targets, " ")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored RCPs and their targets:\n%v\nwant\n%v", got, want)
	}
	scps := 0
	for _, p := range truth.Policies {
		if p.Type == "SERVICE_CONTROL_POLICY" {
			scps++
		}
	}
	calls := assetPlanted.calls
	if calls["organizations:ListPolicies"] != 2 || calls["organizations:DescribePolicy"] != int64(scps+len(want)) ||
		calls["organizations:ListTargetsForPolicy"] != int64(scps+len(want)) {
		t.Errorf("calls %v: want ListPolicies 2 (SCPs, RCPs), DescribePolicy and ListTargetsForPolicy %d each (%d SCPs, %d RCPs)",
			calls, scps+len(want), scps, len(want))
	}
}

// TestSyncWithoutRCPsCallsNothingForThem: the planted organization has no
// RCPs enabled, so its sync lists only the SCPs.
func TestSyncWithoutRCPsCallsNothingForThem(t *testing.T) {
	plantedStore(t)
	scps := 0
	for _, p := range planted.truth.Organization.Policies {
		if p.Type == "SERVICE_CONTROL_POLICY" {
			scps++
		}
	}
	c := planted.calls
	if c["organizations:ListPolicies"] != 1 || c["organizations:DescribePolicy"] != int64(scps) || c["organizations:ListTargetsForPolicy"] != int64(scps) {
		t.Errorf("calls %v: want ListPolicies 1, DescribePolicy and ListTargetsForPolicy %d each (the SCPs)", c, scps)
	}
}

// TestCanSessionPolicy: a session policy must allow too (AdministratorAccess
// under a session policy allowing only s3:ListBucket cannot read), its
// explicit deny wins, and it limits what a resource policy naming the role
// grants (AWS IAM User Guide, "Session policies").
func TestCanSessionPolicy(t *testing.T) {
	st, snap := assetStore(t)
	ctx := context.Background()
	admin := iamARN(acctA, "role", "OrganizationAccountAccessRole")
	app := iamARN(acctA, "role/apps", "app")
	only := func(effect, action string) string {
		return doc(`{"Sid":"S","Effect":"` + effect + `","Action":"` + action + `","Resource":"*"}`)
	}
	cases := []struct {
		name, principal, session string
		decision                 policy.Decision
		step                     *step
	}{
		{"the session policy allows too", admin, only("Allow", "s3:GetObject"), policy.Allowed, &step{"session", "session policy", "S", "Allow", "session policy"}},
		{"the session policy does not allow", admin, only("Allow", "s3:ListBucket"), policy.ImplicitDeny, &step{"session", "", "", "none", ""}},
		{"the session policy's deny wins", admin, doc(`{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"S","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`),
			policy.ExplicitDeny, &step{"session", "session policy", "S", "Deny", "session policy"}},
		{"a resource policy naming the role is limited by the session policy", app, only("Allow", "s3:ListBucket"), policy.ImplicitDeny, &step{"session", "", "", "none", ""}},
		{"a resource policy naming the role, within the session policy", app, only("Allow", "s3:Get*"), policy.Allowed, &step{"resource", "bucket policy of private-a", "AppRole", "Allow", "bucket policy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Can(ctx, st, snap, Question{Principal: c.principal, Action: "s3:GetObject", Resource: "arn:aws:s3:::private-a/x", SessionPolicy: c.session})
			if err != nil {
				t.Fatal(err)
			}
			if !a.SessionPolicy || len(a.Cases) != 1 || a.Cases[0].Decision != c.decision {
				t.Fatalf("answer %+v, want %s", a, c.decision)
			}
			if !hasStep(a.Cases[0].Explanation, *c.step) {
				t.Fatalf("explanation %+v does not name %+v", a.Cases[0].Explanation, *c.step)
			}
		})
	}
	for what, bad := range map[string]string{"not JSON": "{", "a Principal": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`,
		"too long": doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2100) + `"}`)} {
		_, err := Can(ctx, st, snap, Question{Principal: admin, Action: "s3:GetObject", SessionPolicy: bad})
		if !IsInput(err) {
			t.Errorf("session policy with %s: %v, want an input error", what, err)
		}
	}
}

// TestCanFunctionQualifierNotes: a request on a version or on an alias the
// snapshot does not hold says why no resource policy decides it.
func TestCanFunctionQualifierNotes(t *testing.T) {
	st, snap := assetStore(t)
	for _, c := range []struct{ resource, note string }{
		{fnARN + ":2", "version 2 of function worker has a policy of its own, which the sync does not read"},
		{fnARN + ":canary", "the snapshot holds no alias canary of function worker"},
	} {
		got := checkCan(t, st, snap, Question{Principal: "breader", Action: "lambda:InvokeFunction", Resource: c.resource}, policy.ImplicitDeny, nil)
		if !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, c.note) }) {
			t.Errorf("%s: notes %q lack %q", c.resource, got.Notes, c.note)
		}
	}
}
