package collect

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
)

// fakeIAM serves a scripted account through the IAMAPI methods, as the IAM
// API shapes it: URL-encoded documents, GetAccountAuthorizationDetails in
// pages, a credential report, per-user keys.
type fakeIAM struct {
	pages      []*iam.GetAccountAuthorizationDetailsOutput
	report     string
	reportErr  error
	keys       map[string][]types.AccessKeyMetadata
	lastUsed   map[string]*types.AccessKeyLastUsed
	listKeyErr error
	// lastUsedErr, when set, answers every GetAccessKeyLastUsed.
	lastUsedErr error

	mu    sync.Mutex
	calls map[string]int
	gaad  []*iam.GetAccountAuthorizationDetailsInput
}

func (f *fakeIAM) count(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
}

func (f *fakeIAM) GetAccountAuthorizationDetails(_ context.Context, in *iam.GetAccountAuthorizationDetailsInput, _ ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	f.count("GetAccountAuthorizationDetails")
	f.mu.Lock()
	cp := *in
	f.gaad = append(f.gaad, &cp)
	f.mu.Unlock()
	i := 0
	if in.Marker != nil {
		i = int((*in.Marker)[0] - '0')
	}
	if i >= len(f.pages) {
		return nil, errors.New("bad marker")
	}
	return f.pages[i], nil
}

func (f *fakeIAM) GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	f.count("GenerateCredentialReport")
	if f.reportErr != nil {
		return nil, f.reportErr
	}
	return &iam.GenerateCredentialReportOutput{State: types.ReportStateTypeComplete}, nil
}

func (f *fakeIAM) GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	f.count("GetCredentialReport")
	return &iam.GetCredentialReportOutput{Content: []byte(f.report), GeneratedTime: aws.Time(time.Now())}, nil
}

func (f *fakeIAM) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	f.count("ListAccessKeys")
	if f.listKeyErr != nil {
		return nil, f.listKeyErr
	}
	return &iam.ListAccessKeysOutput{AccessKeyMetadata: f.keys[aws.ToString(in.UserName)]}, nil
}

func (f *fakeIAM) ListVirtualMFADevices(context.Context, *iam.ListVirtualMFADevicesInput, ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error) {
	f.count("ListVirtualMFADevices")
	return &iam.ListVirtualMFADevicesOutput{}, nil
}

func (f *fakeIAM) ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	f.count("ListMFADevices")
	return &iam.ListMFADevicesOutput{}, nil
}

func (f *fakeIAM) GetAccessKeyLastUsed(_ context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	f.count("GetAccessKeyLastUsed")
	if f.lastUsedErr != nil {
		return nil, f.lastUsedErr
	}
	return &iam.GetAccessKeyLastUsedOutput{AccessKeyLastUsed: f.lastUsed[aws.ToString(in.AccessKeyId)]}, nil
}

const acct = "111122223333"

func arn(kind, name string) string { return "arn:aws:iam::" + acct + ":" + kind + "/" + name }

// encoded URL-encodes a policy document as IAM returns it.
func encoded(doc string) *string { return aws.String(url.QueryEscape(doc)) }

func trust(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}]}`
}

const allowS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

// fixture returns an account in two pages: users and groups, then roles
// and policies.
func fixture() *fakeIAM {
	created := aws.Time(time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC))
	readOnly := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	deploy := arn("policy", "deploy")
	page1 := &iam.GetAccountAuthorizationDetailsOutput{
		IsTruncated: true, Marker: aws.String("1"),
		UserDetailList: []types.UserDetail{
			{UserName: aws.String("alice"), UserId: aws.String("AIDAALICE"), Arn: aws.String(arn("user", "alice")), Path: aws.String("/"), CreateDate: created,
				GroupList: []string{"devs"}, AttachedManagedPolicies: []types.AttachedPolicy{{PolicyArn: aws.String(readOnly)}},
				UserPolicyList: []types.PolicyDetail{{PolicyName: aws.String("self"), PolicyDocument: encoded(allowS3)}},
				Tags:           []types.Tag{{Key: aws.String("email"), Value: aws.String("alice@example.com")}}},
			{UserName: aws.String("bob"), UserId: aws.String("AIDABOB"), Arn: aws.String(arn("user", "bob")), Path: aws.String("/"), CreateDate: created,
				PermissionsBoundary: &types.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(deploy)}},
		},
		GroupDetailList: []types.GroupDetail{
			{GroupName: aws.String("devs"), GroupId: aws.String("AGPADEVS"), Arn: aws.String(arn("group", "devs")), Path: aws.String("/"), CreateDate: created,
				AttachedManagedPolicies: []types.AttachedPolicy{{PolicyArn: aws.String(deploy)}},
				GroupPolicyList:         []types.PolicyDetail{{PolicyName: aws.String("grp"), PolicyDocument: encoded(allowS3)}}},
		},
	}
	role := func(name, principal string) types.RoleDetail {
		return types.RoleDetail{RoleName: aws.String(name), RoleId: aws.String("AROA" + strings.ToUpper(name)), Arn: aws.String(arn("role", name)),
			Path: aws.String("/"), CreateDate: created, AssumeRolePolicyDocument: encoded(trust(principal))}
	}
	page2 := &iam.GetAccountAuthorizationDetailsOutput{
		RoleDetailList: []types.RoleDetail{
			role("ci", `{"AWS":"`+arn("user", "alice")+`"}`),
			role("admin", `{"AWS":"arn:aws:iam::`+acct+`:root"}`),
			role("bare", `{"AWS":"`+acct+`"}`),
			role("ec2", `{"Service":"ec2.amazonaws.com"}`),
			role("partner", `{"AWS":"arn:aws:iam::999988887777:root"}`),
			role("chain", `{"AWS":"`+arn("role", "ci")+`"}`),
		},
		Policies: []types.ManagedPolicyDetail{
			{PolicyName: aws.String("ReadOnlyAccess"), Arn: aws.String(readOnly), PolicyId: aws.String("ANPARO"), DefaultVersionId: aws.String("v2"),
				AttachmentCount: aws.Int32(1), IsAttachable: true, PolicyVersionList: []types.PolicyVersion{
					{VersionId: aws.String("v1"), Document: encoded(`{"Statement":[]}`)},
					{VersionId: aws.String("v2"), IsDefaultVersion: true, Document: encoded(allowS3)}}},
			{PolicyName: aws.String("deploy"), Arn: aws.String(deploy), PolicyId: aws.String("ANPADEPLOY"), DefaultVersionId: aws.String("v1"),
				AttachmentCount: aws.Int32(1), PermissionsBoundaryUsageCount: aws.Int32(1), IsAttachable: true,
				PolicyVersionList: []types.PolicyVersion{{VersionId: aws.String("v1"), IsDefaultVersion: true, Document: encoded(allowS3)}}},
		},
	}
	header := strings.SplitN(sampleReport, "\n", 2)[0]
	report := header + "\n" +
		"<root_account>,arn:aws:iam::" + acct + ":root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"alice," + arn("user", "alice") + ",2023-01-02T03:04:05+00:00,true,2024-04-01T00:00:00+00:00,2023-01-02T03:04:05+00:00,N/A,true,true,2023-02-01T00:00:00+00:00,2024-04-02T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"bob," + arn("user", "bob") + ",2023-01-02T03:04:05+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	return &fakeIAM{
		pages:  []*iam.GetAccountAuthorizationDetailsOutput{page1, page2},
		report: report,
		keys: map[string][]types.AccessKeyMetadata{
			"alice": {{AccessKeyId: aws.String("AKIAALICE"), Status: types.StatusTypeActive, CreateDate: at("2023-02-01T00:00:00Z"), UserName: aws.String("alice")}},
		},
		lastUsed: map[string]*types.AccessKeyLastUsed{
			"AKIAALICE": {LastUsedDate: at("2024-04-03T00:00:00Z"), Region: aws.String("eu-west-1"), ServiceName: aws.String("sts")},
		},
	}
}

func hasGrant(g model.Graph, principal, resource, ent string, via model.Provenance, viaID string) bool {
	return slices.Contains(g.Grants, model.Grant{PrincipalID: principal, EntitlementID: model.EntitlementID(resource, ent), Provenance: via, ViaID: viaID})
}

func resource(g model.Graph, id string) *model.Resource {
	for i := range g.Resources {
		if g.Resources[i].ID == id {
			return &g.Resources[i]
		}
	}
	return nil
}

func TestCollectIAM(t *testing.T) {
	f := fixture()
	res, err := CollectIAM(context.Background(), f, acct, IAMOptions{AccessKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	g := res.Graph
	// ListMFADevices for alice alone: the report shows her with MFA and
	// ListVirtualMFADevices with no virtual device; bob has no MFA.
	wantCalls := map[string]int{"GetAccountAuthorizationDetails": 2, "GenerateCredentialReport": 1, "GetCredentialReport": 1, "ListAccessKeys": 1,
		"ListVirtualMFADevices": 1, "ListMFADevices": 1}
	if !reflect.DeepEqual(f.calls, wantCalls) {
		t.Errorf("calls = %v, want %v", f.calls, wantCalls)
	}
	for i, in := range f.gaad {
		if aws.ToInt32(in.MaxItems) != 1000 || len(in.Filter) != 5 {
			t.Errorf("page %d asked MaxItems %d, filters %v; want 1000 and all five", i+1, aws.ToInt32(in.MaxItems), in.Filter)
		}
	}

	alice, devs, deploy := arn("user", "alice"), arn("group", "devs"), arn("policy", "deploy")
	readOnly := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	groupInline := model.InlinePolicyID(devs, "grp")
	grants := []struct {
		principal, resource, ent string
		via                      model.Provenance
		viaID                    string
	}{
		{alice, devs, model.EntMember, model.ViaDirect, ""},
		{alice, readOnly, model.EntAttached, model.ViaDirect, ""},
		{alice, model.InlinePolicyID(alice, "self"), model.EntAttached, model.ViaInline, ""},
		{alice, deploy, model.EntAttached, model.ViaGroup, devs},
		{alice, groupInline, model.EntAttached, model.ViaGroup, devs},
		{devs, deploy, model.EntAttached, model.ViaDirect, ""},
		{devs, groupInline, model.EntAttached, model.ViaInline, ""},
		{alice, arn("role", "ci"), model.EntAssume, model.ViaTrust, ""},
		{arn("role", "ci"), arn("role", "chain"), model.EntAssume, model.ViaTrust, ""},
		{model.AccountResourceID(acct), arn("role", "admin"), model.EntAssume, model.ViaTrust, ""},
		{model.AccountResourceID(acct), arn("role", "bare"), model.EntAssume, model.ViaTrust, ""},
		{model.ExternalPrincipalID("Service", "ec2.amazonaws.com"), arn("role", "ec2"), model.EntAssume, model.ViaTrust, ""},
		{model.ExternalPrincipalID("AWS", "arn:aws:iam::999988887777:root"), arn("role", "partner"), model.EntAssume, model.ViaTrust, ""},
		{alice, model.AccessKeyID(acct, "AKIAALICE"), model.EntOwner, model.ViaDirect, ""},
	}
	for _, w := range grants {
		if !hasGrant(g, w.principal, w.resource, w.ent, w.via, w.viaID) {
			t.Errorf("no grant %s → %s#%s (%s %s)", w.principal, w.resource, w.ent, w.via, w.viaID)
		}
	}
	if n := len(g.Grants); n != len(grants) {
		t.Errorf("%d grants, want %d", n, len(grants))
	}
	ext := resource(g, model.ExternalPrincipalID("AWS", "arn:aws:iam::999988887777:root"))
	if ext == nil || ext.Type != model.TypeExternalPrincipal || ext.ARN != "arn:aws:iam::999988887777:root" {
		t.Errorf("external principal = %+v", ext)
	}
	u := resource(g, alice)
	if u == nil || !u.User.CredentialReport || !u.User.ConsoleAccess || !u.User.MFAActive || u.User.PasswordLastUsed == nil || u.Tags["email"] != "alice@example.com" {
		t.Errorf("alice = %+v %+v", u, u.User)
	}
	if b := resource(g, arn("user", "bob")); b.User.PermissionsBoundary != deploy || b.User.ConsoleAccess {
		t.Errorf("bob = %+v", b.User)
	}
	key := resource(g, model.AccessKeyID(acct, "AKIAALICE"))
	if key == nil || key.AccessKey.Status != "Active" || key.AccessKey.LastUsedService != "s3" || key.ParentID != alice {
		t.Errorf("alice's key = %+v %+v", key, key.AccessKey)
	}
	doc, err := policy.Normalize(allowS3)
	if err != nil {
		t.Fatal(err)
	}
	ro := resource(g, readOnly)
	if ro == nil || !ro.Policy.AWSManaged || ro.Policy.VersionCount != 2 || ro.Policy.Document != doc {
		t.Errorf("ReadOnlyAccess = %+v", ro.Policy)
	}
	if inl := resource(g, model.InlinePolicyID(alice, "self")); inl == nil || inl.InlinePolicy.Document != doc || inl.ParentID != alice {
		t.Errorf("alice's inline policy = %+v (documents must be decoded)", inl)
	}
	acc := resource(g, model.AccountResourceID(acct))
	if acc == nil || !acc.Account.CredentialReport || acc.Account.RootMFAActive {
		t.Errorf("account = %+v", acc)
	}
	if !slices.IsSortedFunc(g.Resources, func(a, b model.Resource) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("resources are not sorted")
	}
}

func TestCollectIAMKeysFromReportOnly(t *testing.T) {
	f := fixture()
	res, err := CollectIAM(context.Background(), f, acct, IAMOptions{AccessKeys: false})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls["ListAccessKeys"] != 0 {
		t.Errorf("ListAccessKeys called %d times with AccessKeys off", f.calls["ListAccessKeys"])
	}
	alice := arn("user", "alice")
	k := resource(res.Graph, model.AccessKeyID(acct, "alice/access_key_1"))
	if k == nil || k.Name != "access_key_1" || k.ParentID != alice || k.AccessKey.Status != "Active" || k.AccessKey.LastRotated == nil || k.AccessKey.LastUsedService != "s3" {
		t.Fatalf("report-only key = %+v", k)
	}
}

func TestCollectIAMWithoutReport(t *testing.T) {
	f := fixture()
	f.reportErr = apiErr("AccessDenied")
	res, err := CollectIAM(context.Background(), f, acct, IAMOptions{AccessKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Source != SourceCredentialReport || !strings.Contains(res.Errors[0].Message, "listed per user") {
		t.Fatalf("errors = %+v", res.Errors)
	}
	if f.calls["ListAccessKeys"] != 2 || f.calls["GetAccessKeyLastUsed"] != 1 {
		t.Errorf("fallback calls = %v; want ListAccessKeys for both users, GetAccessKeyLastUsed for the one key", f.calls)
	}
	k := resource(res.Graph, model.AccessKeyID(acct, "AKIAALICE"))
	if k == nil || k.AccessKey.LastUsedService != "sts" || k.AccessKey.LastUsedRegion != "eu-west-1" {
		t.Errorf("key = %+v", k)
	}
	u := resource(res.Graph, arn("user", "alice"))
	if u.User.CredentialReport || u.User.ConsoleAccess || u.User.MFAActive {
		t.Errorf("alice without a report = %+v; want report fields unknown", u.User)
	}
}

// TestCollectIAMKeyLastUseFails: a key whose last use cannot be read is
// kept, its last use unknown (Unread), and the failure recorded.
func TestCollectIAMKeyLastUseFails(t *testing.T) {
	f := fixture()
	f.reportErr = apiErr("AccessDenied")
	f.lastUsedErr = apiErr("ServiceFailure")
	res, err := CollectIAM(context.Background(), f, acct, IAMOptions{AccessKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 2 || res.Errors[1].Source != SourceAccessKeys || !strings.Contains(res.Errors[1].Message, "AKIAALICE") {
		t.Fatalf("errors = %+v; want the report and the key's last use", res.Errors)
	}
	k := resource(res.Graph, model.AccessKeyID(acct, "AKIAALICE"))
	if k == nil || k.AccessKey.Status != "Active" || k.AccessKey.LastUsed != nil || !slices.Equal(k.Unread, []string{"last_used"}) {
		t.Errorf("key = %+v; want it kept, last use unread", k)
	}
}

func TestCollectIAMKeyListingRefused(t *testing.T) {
	f := fixture()
	f.listKeyErr = apiErr("AccessDenied")
	res, err := CollectIAM(context.Background(), f, acct, IAMOptions{AccessKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Source != SourceAccessKeys {
		t.Fatalf("errors = %+v", res.Errors)
	}
	if k := resource(res.Graph, model.AccessKeyID(acct, "alice/access_key_1")); k == nil {
		t.Error("alice's key is not recorded from the report after ListAccessKeys was refused")
	}
}

func TestCollectIAMFailsWithoutDetails(t *testing.T) {
	f := fixture()
	f.pages[0].Marker = nil // IsTruncated without a Marker
	_, err := CollectIAM(context.Background(), f, acct, IAMOptions{AccessKeys: true})
	if err == nil || !strings.Contains(err.Error(), "Marker") {
		t.Fatalf("err = %v, want a paging error", err)
	}
}
