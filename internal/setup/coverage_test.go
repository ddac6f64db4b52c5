package setup_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/setup"
	"github.com/warden-iam/warden/internal/store"
	"github.com/warden-iam/warden/internal/syncer"
	"github.com/warden-iam/warden/internal/syncjob"
)

// exercise runs warden features against an emulator and returns the
// actions they called.
type exercise func(t *testing.T) map[string]int64

// exercises says which code exercises each built feature. Several features
// share one run (a sync calls the identity, IAM, credential report and key
// features together); the test runs each distinct run once.
var exercises = map[setup.Feature]string{
	setup.FeatureIdentity:          "account sync",
	setup.FeatureIAMRead:           "account sync",
	setup.FeatureCredentialReport:  "account sync",
	setup.FeatureAccessKeys:        "account sync",
	setup.FeatureOrganizationsRead: "organization sync",
	setup.FeatureAssumeMemberRole:  "organization sync",
	// Both assignment strategies, so both listing actions are called.
	setup.FeatureIdentityCenterRead:      "identity center sync",
	setup.FeatureCloudTrailRead:          "activity sync",
	setup.FeatureIAMLastAccessed:         "activity sync",
	setup.FeatureIAMProvision:            "iam provisioning",
	setup.FeatureIdentityCenterProvision: "identity center provisioning",
	setup.FeatureAssetsRegions:           "asset sync",
	setup.FeatureAssetsEC2:               "asset sync",
	setup.FeatureAssetsS3:                "asset sync",
	setup.FeatureAssetsKMS:               "asset sync",
	setup.FeatureAssetsLambda:            "asset sync",
	setup.FeatureAssetsSecretsManager:    "asset sync",
	setup.FeatureAssetsConfig:            "asset sync",
}

var runs = map[string]exercise{
	"iam provisioning":             iamProvisioning,
	"identity center provisioning": identityCenterProvisioning,
	"account sync":                 accountSync,
	"asset sync":                   assetSync,
	"organization sync":            organizationSync,
	"activity sync":                activitySync,
	"identity center sync": func(t *testing.T) map[string]int64 {
		calls := identityCenterSync(t, collect.AssignmentsByPair)
		for k, v := range identityCenterSync(t, collect.AssignmentsByPrincipal) {
			calls[k] += v
		}
		return calls
	},
}

// isolate keeps the machine's AWS settings out of the test.
func isolate(t *testing.T) {
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// syncInto syncs with the credentials c against srv and fails the test
// unless the snapshot is complete.
func syncInto(t *testing.T, srv *awsfake.Server, c awsfake.Credentials, o syncer.Options) {
	ctx := context.Background()
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		IAMRate:     10000, OrganizationsRate: 10000, IdentityCenterRate: 10000, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o.IAM = collect.IAMOptions{AccessKeys: true, ReportPoll: 5 * time.Millisecond}
	snap, err := syncer.Sync(ctx, sess, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != model.StatusComplete {
		t.Fatalf("snapshot is %s: %+v", snap.Status, snap.Errors)
	}
}

func accountSync(t *testing.T) map[string]int64 {
	srv := awsfake.NewServer(awsfake.Options{CredentialReportDelay: 20 * time.Millisecond})
	defer srv.Close()
	c := srv.AddAccount(awsfake.Estate{Users: 30, Groups: 4, Roles: 6, Policies: 4, Seed: 1}.Build())
	syncInto(t, srv, c, syncer.Options{})
	return srv.Calls()
}

// assetSync syncs an organization's assets of every service, the regions
// learned with DescribeRegions. Its calls are named by operation
// (s3:ListBuckets); the policy's by IAM action (s3:ListAllMyBuckets).
func assetSync(t *testing.T) map[string]int64 {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	// An aggregator over eu-west-1 only: us-east-1 (every bucket, the
	// account's Block Public Access) is read from the service listings.
	c := awsfake.OrgEstate{Accounts: 1, Seed: 1, PerAccount: awsfake.Estate{Users: 2, Roles: 2}, Assets: &awsfake.AssetEstate{
		Aggregator: &awsfake.ConfigAggregator{Organization: true, Regions: []string{"eu-west-1"}, Region: "us-east-1"}}}.Build().Install(srv)
	syncInto(t, srv, c, syncer.Options{Organization: &syncer.OrganizationOptions{}, Assets: &collect.AssetOptions{Config: &collect.ConfigSourceOptions{Mode: collect.ConfigAuto}}})
	calls := map[string]int64{}
	for k, v := range srv.Calls() {
		for action, op := range setup.Operations {
			key := action[:strings.IndexByte(action, ':')+1] + op
			if strings.Contains(op, ":") {
				key = op
			}
			if k == key {
				k = action
			}
		}
		calls[k] += v
	}
	return calls
}

func organizationSync(t *testing.T) map[string]int64 {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	const externalID = "coverage-test-external-id-000000000"
	c := awsfake.OrgEstate{Accounts: 4, SCPs: 2, Seed: 1, ExternalID: externalID,
		PerAccount: awsfake.Estate{Users: 4, Roles: 2}}.Build().Install(srv)
	// A filter on tags, so account tags are read too.
	syncInto(t, srv, c, syncer.Options{Organization: &syncer.OrganizationOptions{ExternalID: externalID, AccountTags: true,
		Select: func(a collect.OrgAccount) bool { return a.Tags["team"] != "" || a.ID == "111111111111" }}})
	return srv.Calls()
}

// activitySync syncs an organization whose connection reads activity,
// as `warden sync` does (syncjob.Run).
func activitySync(t *testing.T) map[string]int64 {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	srv.SetCloudTrailRate(1000)
	c := awsfake.OrgEstate{Accounts: 3, Seed: 1, PerAccount: awsfake.Estate{Users: 3, Roles: 2}}.Build().Install(srv)
	srv.GenerateActivity()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := syncjob.Run(ctx, st, syncjob.Target{Name: "coverage", AWS: awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		IAMRate:     10000, OrganizationsRate: 10000, CloudTrailRate: 1000, MaxBackoff: time.Millisecond},
		IAM:          collect.IAMOptions{ReportPoll: 5 * time.Millisecond},
		Organization: &syncer.OrganizationOptions{}, Activity: &syncjob.ActivityOptions{LastAccessed: "all", CallBudget: 9}}, syncjob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot.Status != model.StatusComplete || res.Activity == nil || res.Activity.Events == 0 ||
		res.Activity.LastAccessed == nil || res.Activity.LastAccessed.Covered == 0 {
		t.Fatalf("activity sync: snapshot %s %+v, activity %+v", res.Snapshot.Status, res.Snapshot.Errors, res.Activity)
	}
	return srv.Calls()
}

func identityCenterSync(t *testing.T, strategy collect.AssignmentStrategy) map[string]int64 {
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	c := awsfake.OrgEstate{Accounts: 2, Seed: 1, PerAccount: awsfake.Estate{Users: 2},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 20, Groups: 3, PermissionSets: 5}}.Build().Install(srv)
	syncInto(t, srv, c, syncer.Options{IdentityCenter: &syncer.IdentityCenterOptions{
		IdentityCenterOptions: collect.IdentityCenterOptions{Strategy: strategy}}})
	return srv.Calls()
}

// iamProvisioning runs every IAM action on users, groups and roles, each
// twice (the replay reads what the first run changed).
func iamProvisioning(t *testing.T) map[string]int64 {
	ctx := context.Background()
	srv := awsfake.NewServer(awsfake.Options{})
	defer srv.Close()
	truth := awsfake.Estate{Users: 3, Groups: 2, Roles: 2, Policies: 1, Seed: 4}.Build()
	var group, role string
	for g := range truth.IAM.Groups {
		group = g
	}
	for r := range truth.IAM.Roles {
		role = r
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, u := range truth.IAM.Users {
		u.SigningCertificates, u.SSHPublicKeys, u.ServiceCredentials = []string{"CERTCOVERAGE000000000001"}, []string{"APKACOVERAGE00000001"}, []string{"ACCACOVERAGE00000001"}
		u.MFADevices = []*awsfake.MFADevice{{SerialNumber: "arn:aws:iam::123456789012:mfa/" + u.Name, Virtual: true}}
		u.AccessKeys = []*awsfake.AccessKey{{ID: "AKIACOVERAGE" + strings.ToUpper(u.ID[len(u.ID)-8:]), Secret: "s", Status: "Active", CreatedAt: now}}
		u.LoginProfile = &awsfake.LoginProfile{CreatedAt: now, PasswordLastChanged: now, Password: "Old-password-1!"}
	}
	c := srv.AddAccount(truth)
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IAMRate: 10000, MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &provision.Provisioner{IAM: sess.IAM("123456789012"), AccountID: "123456789012", DeleteBackoff: time.Millisecond, Audit: st, Records: st}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	ro := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	var victim string
	for u := range truth.IAM.Users {
		if victim == "" || u < victim {
			victim = u
		}
	}
	var actions []provision.Action
	actions = append(actions,
		provision.Action{Kind: provision.CreateUser, User: "joiner", Tags: map[string]string{"team": "x"}, ConsolePassword: true, Groups: []string{group}, Policies: []string{ro}},
		// The same user declared again, elsewhere and with more: converged.
		provision.Action{Kind: provision.CreateUser, User: "joiner", Path: "/moved/", Tags: map[string]string{"team": "y"}, PermissionsBoundary: ro},
		provision.Action{Kind: provision.RemoveFromGroup, User: "joiner", Group: group},
		provision.Action{Kind: provision.AddToGroup, User: "joiner", Group: group},
		provision.Action{Kind: provision.DeactivateUser, User: victim, DenyAll: true},
		provision.Action{Kind: provision.ReactivateUser, User: victim},
	)
	for _, who := range []provision.Action{{User: "joiner"}, {Group: group}, {Role: role}} {
		for _, k := range []provision.Kind{provision.AttachPolicy, provision.DetachPolicy, provision.PutInlinePolicy, provision.PutInlinePolicy, provision.DeleteInlinePolicy} {
			a := who
			a.Kind, a.PolicyARN, a.PolicyName, a.Document = k, "arn:aws:iam::aws:policy/SecurityAudit", "deny-s3", doc
			actions = append(actions, a)
		}
	}
	actions = append(actions, provision.Action{Kind: provision.DeleteUser, User: victim}, provision.Action{Kind: provision.DeleteUser, User: "joiner"})
	for _, a := range actions {
		pl, err := p.Plan(ctx, a)
		if err != nil {
			t.Fatalf("plan %s: %v", a.Kind, err)
		}
		if _, err := p.Apply(ctx, pl); err != nil {
			t.Fatalf("apply %s: %v", a.Kind, err)
		}
	}
	return srv.Calls()
}

// identityCenterProvisioning runs every Identity Center action, with
// assignments that take a moment, so their status is followed.
func identityCenterProvisioning(t *testing.T) map[string]int64 {
	ctx := context.Background()
	srv := awsfake.NewServer(awsfake.Options{AssignmentDelay: 5 * time.Millisecond})
	defer srv.Close()
	truth := awsfake.OrgEstate{Accounts: 1, Seed: 2, PerAccount: awsfake.Estate{Users: 1},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 2, Groups: 1, PermissionSets: 2}}.Build()
	c := truth.Install(srv)
	sess, err := awsapi.Load(ctx, awsapi.Options{Region: "us-east-1", Endpoint: srv.URL(), IdentityCenterRate: 10000, MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	sso, ids := sess.IdentityCenter("")
	ic, err := provision.FindIdentityCenter(ctx, sso, ids)
	if err != nil {
		t.Fatal(err)
	}
	ic.Poll = 2 * time.Millisecond
	p := &provision.Provisioner{AccountID: "111111111111", IC: ic, Org: sess.Organizations()}
	acct := truth.Members[0].ID
	for _, a := range []provision.Action{
		{Kind: provision.CreateSSOUser, User: "u@example.com", DisplayName: "U", GivenName: "U", FamilyName: "V"},
		{Kind: provision.CreateSSOGroup, Group: "g"},
		{Kind: provision.AddSSOUserToGroup, User: "u@example.com", Group: "g"},
		{Kind: provision.AssignPermissionSet, Group: "g", PermissionSet: "ReadOnlyAccess", Account: acct},
		{Kind: provision.AssignPermissionSet, User: "u@example.com", PermissionSet: "ReadOnlyAccess", Account: acct},
		{Kind: provision.UnassignPermissionSet, Group: "g", PermissionSet: "ReadOnlyAccess", Account: acct},
		{Kind: provision.RemoveSSOUserFromGroup, User: "u@example.com", Group: "g"},
		{Kind: provision.DeleteSSOUser, User: "u@example.com"},
		{Kind: provision.DeleteSSOGroup, Group: "g"},
	} {
		pl, err := p.Plan(ctx, a)
		if err != nil {
			t.Fatalf("plan %s: %v", a.Kind, err)
		}
		if _, err := p.Apply(ctx, pl); err != nil {
			t.Fatalf("apply %s: %v", a.Kind, err)
		}
	}
	return srv.Calls()
}

// TestPolicyCoversEveryCall runs every built feature against awsfake and
// checks the read policy both ways: every action called is in it, and
// every action in it was called.
func TestPolicyCoversEveryCall(t *testing.T) {
	isolate(t)
	for _, f := range setup.Features() {
		_, exercised := exercises[f]
		if exercised != setup.Built(f) {
			t.Errorf("feature %s: built = %v but exercised here = %v; a built feature needs a row in exercises, and a row needs the feature built", f, setup.Built(f), exercised)
		}
	}
	var names []string
	for name := range runs {
		names = append(names, name)
	}
	sort.Strings(names)
	results := map[string]map[string]int64{}
	for _, name := range names {
		results[name] = runs[name](t)
	}

	for _, mode := range []setup.Mode{setup.ModeRead, setup.ModeProvision} {
		calledInMode := map[string]int64{}
		for _, name := range names {
			if mode == setup.ModeRead && strings.HasSuffix(name, "provisioning") {
				continue
			}
			for action, n := range results[name] {
				calledInMode[action] += n
			}
		}
		// The opt-in features' actions are in a policy that names them.
		policy := setup.ActionsFor(mode)
		for _, f := range setup.Features() {
			if setup.OptIn(f) {
				policy = append(policy, setup.Actions[f]...)
			}
		}
		for action := range calledInMode {
			if !slices.Contains(policy, action) {
				t.Errorf("%s was called but `warden setup policy --for %s` does not allow it: add it to setup.Actions", action, mode)
			}
		}
		for _, action := range policy {
			if calledInMode[action] == 0 && setup.Implied[action] == "" {
				t.Errorf("%s is in the %s policy but no feature called it: remove it from setup.Actions, or exercise the code that calls it", action, mode)
			}
		}
	}
}
