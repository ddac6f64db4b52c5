package effective

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
)

// The planted organization of the tests: a management account and three
// members, A in OU Prod, B in OU Dev, C under the root, with nothing in
// them but what each case plants (and the role warden assumes in each
// member, OrganizationAccountAccessRole, AdministratorAccess, trusting the
// management account with an ExternalId).
const (
	mgmt       = "111111111111"
	acctA      = "200000000000"
	acctB      = "200000000001"
	acctC      = "200000000002"
	externalID = "effective-test-external-id"

	adminPolicy = "arn:aws:iam::aws:policy/AdministratorAccess"
	s3ReadOnly  = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	ivyID       = "5a1c0e2b-9d7f-4e0a-8b3c-000000000001"
)

func iamARN(account, kind, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + "/" + name
}

func doc(statements string) string {
	return `{"Version":"2012-10-17","Statement":[` + statements + `]}`
}

func trustAWS(principal string) string {
	return doc(`{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}`)
}

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func user(a *awsfake.Account, name string, attached []string, inline map[string]string, boundary string) {
	a.IAM.Users[name] = &awsfake.User{Name: name, ID: fmt.Sprintf("AIDA%s%s", a.ID[:6], pad(name)), Path: "/", ARN: iamARN(a.ID, "user", name),
		CreatedAt: created, AttachedPolicies: attached, InlinePolicies: inline, PermissionsBoundary: boundary}
}

func role(a *awsfake.Account, path, name, trust string, attached []string, inline map[string]string) {
	a.IAM.Roles[name] = &awsfake.Role{Name: name, ID: fmt.Sprintf("AROA%s%s", a.ID[:6], pad(name)), Path: path,
		ARN: "arn:aws:iam::" + a.ID + ":role" + path + name, CreatedAt: created, MaxSessionDuration: 3600,
		AssumeRolePolicy: trust, AttachedPolicies: attached, InlinePolicies: inline}
}

func pad(name string) string {
	s := fmt.Sprintf("%X", name)
	for len(s) < 11 {
		s += "0"
	}
	return s[:11]
}

// plantedTruth is the organization and the cases planted in it.
func plantedTruth() *awsfake.OrgTruth {
	t := awsfake.OrgEstate{Accounts: 3, OUs: 3, Seed: 7, ExternalID: externalID,
		IdentityCenter: &awsfake.IdentityCenterEstate{}}.Build()
	o := t.Organization
	ous := map[string]string{}
	for id, ou := range o.OUs {
		ous[ou.Name] = id
	}
	o.Accounts[acctA].ParentID = ous["Prod"]
	o.Accounts[acctB].ParentID = ous["Dev"]
	o.Accounts[acctC].ParentID = o.Root.ID
	scp := func(id, name, content string, targets ...string) {
		o.Policies[id] = &awsfake.OrgPolicy{ID: id, ARN: "arn:aws:organizations::" + mgmt + ":policy/" + o.ID + "/service_control_policy/" + id,
			Name: name, Type: "SERVICE_CONTROL_POLICY", Content: content, Targets: targets}
	}
	// An SCP deny at an OU; one at the root (the management account is not
	// subject to it); one at account C.
	scp("p-denydelete1", "deny-s3-delete-prod", doc(`{"Sid":"NoBucketDeletes","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}`), ous["Prod"])
	scp("p-denyusers01", "deny-iam-users", doc(`{"Sid":"NoIAMUsers","Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}`), o.Root.ID)
	scp("p-denyreadsc1", "deny-s3-read-c", doc(`{"Sid":"NoReadsInC","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`), acctC)

	a, b, c := t.Members[0], t.Members[1], t.Members[2]
	user(t.Management, "root-admin", []string{adminPolicy}, nil, "")
	user(a, "ann", []string{adminPolicy}, nil, "")
	user(a, "carl", nil, map[string]string{"assume-cross": doc(`{"Sid":"AssumeCross","Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + iamARN(acctC, "role", "cross-reader") + `"}`)}, "")
	user(a, "dora", nil, nil, "")
	user(a, "mia", nil, map[string]string{"mfa-terminate": doc(`{"Sid":"TerminateWithMFA","Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)}, "")
	role(a, "/aws-service-role/support.amazonaws.com/", "AWSServiceRoleForSupport",
		doc(`{"Effect":"Allow","Principal":{"Service":"support.amazonaws.com"},"Action":"sts:AssumeRole"}`), []string{adminPolicy}, nil)

	// A boundary that denies everything, under AdministratorAccess.
	deny := iamARN(acctB, "policy", "deny-all-boundary")
	b.IAM.Policies[deny] = &awsfake.ManagedPolicy{Name: "deny-all-boundary", ID: "ANPADENYALLBOUNDARY01", Path: "/", ARN: deny,
		CreatedAt: created, UpdatedAt: created, DefaultVersionID: "v1", IsAttachable: true,
		Versions: []*awsfake.PolicyVersion{{ID: "v1", Document: doc(`{"Sid":"DenyAll","Effect":"Deny","Action":"*","Resource":"*"}`), CreatedAt: created}}}
	user(b, "bound", []string{adminPolicy}, nil, deny)
	// A two-step chain: eve assumes hop1 (its trust names her), hop1 may
	// assume hop2 in C (which trusts account B), and hop2 may delete tables.
	user(b, "eve", nil, nil, "")
	role(b, "/", "hop1", trustAWS(iamARN(acctB, "user", "eve")), nil,
		map[string]string{"assume-hop2": doc(`{"Sid":"AssumeHop2","Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + iamARN(acctC, "role", "hop2") + `"}`)})
	role(c, "/", "hop2", trustAWS("arn:aws:iam::"+acctB+":root"), nil,
		map[string]string{"tables": doc(`{"Sid":"DeleteTables","Effect":"Allow","Action":"dynamodb:DeleteTable","Resource":"*"}`)})
	// A cross-account trust: cross-reader in C trusts carl in A.
	role(c, "/", "cross-reader", trustAWS(iamARN(acctA, "user", "carl")), []string{s3ReadOnly}, nil)

	// An Identity Center user with a permission set in B and in C.
	ic := t.IdentityCenter
	ps := &awsfake.PermissionSet{ARN: "arn:aws:sso:::permissionSet/" + ic.InstanceARN[len("arn:aws:sso:::instance/"):] + "/ps-00000000000000a1",
		Name: "S3Reader", SessionDuration: "PT1H", CreatedAt: created, ManagedPolicies: []string{s3ReadOnly}}
	ic.PermissionSets[ps.ARN] = ps
	ic.Users[ivyID] = &awsfake.SSOUser{ID: ivyID, UserName: "ivy@example.com", DisplayName: "Ivy Example", GivenName: "Ivy", FamilyName: "Example",
		Email: "ivy@example.com", Status: "ENABLED", CreatedAt: created}
	for _, m := range []*awsfake.Account{b, c} {
		ic.Assignments = append(ic.Assignments, awsfake.Assignment{AccountID: m.ID, PermissionSetARN: ps.ARN, PrincipalType: "USER", PrincipalID: ivyID})
		r := awsfake.ReservedRole(ps, m.ID)
		m.IAM.Roles[r.Name] = r
	}
	return t
}

var planted struct {
	once  sync.Once
	dir   string
	st    *store.DB
	snap  int64
	truth *awsfake.OrgTruth
	calls map[string]int64 // the sync's calls, by service:Action
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupAssetStore()
	cleanupBenchAsset()
	if planted.st != nil {
		planted.st.Close()
	}
	if planted.dir != "" {
		os.RemoveAll(planted.dir)
	}
	os.Exit(code)
}

// isolateAWS clears the AWS variables of the environment that would point
// the SDK elsewhere.
func isolateAWS(tb testing.TB) {
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"} {
		os.Setenv(k, "")
	}
	dir := tb.TempDir()
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// plantedStore syncs the planted organization (with Identity Center) from
// the emulator through the real SDK into a SQLite store, once per process.
func plantedStore(t *testing.T) (*store.DB, int64) {
	t.Helper()
	planted.once.Do(func() {
		isolateAWS(t)
		ctx := context.Background()
		planted.truth = plantedTruth()
		srv := awsfake.NewServer(awsfake.Options{})
		defer srv.Close()
		defer func() { planted.calls = srv.Calls() }()
		creds := planted.truth.Install(srv)
		sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
			Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)})
		if err != nil {
			planted.err = err
			return
		}
		if planted.dir, err = os.MkdirTemp("", "effective-test-"); err != nil {
			planted.err = err
			return
		}
		if planted.st, err = store.OpenSQLite(ctx, filepath.Join(planted.dir, "warden.db")); err != nil {
			planted.err = err
			return
		}
		snap, err := syncer.Sync(ctx, sess, planted.st, syncer.Options{
			IAM:            collect.IAMOptions{AccessKeys: true, ReportPoll: 10 * time.Millisecond},
			Organization:   &syncer.OrganizationOptions{ExternalID: externalID},
			IdentityCenter: &syncer.IdentityCenterOptions{}})
		if err != nil {
			planted.err = err
			return
		}
		if snap.Status != model.StatusComplete {
			planted.err = fmt.Errorf("sync is %s: %+v", snap.Status, snap.Errors)
			return
		}
		planted.snap = snap.ID
	})
	if planted.err != nil {
		t.Fatalf("sync the planted organization: %v", planted.err)
	}
	return planted.st, planted.snap
}
