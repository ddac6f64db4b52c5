package findings

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

const (
	acct     = "111111111111"
	adminDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	readDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }

func ptr[T any](v T) *T { return &v }

// graphBuilder assembles a hand-made access graph the way the collector
// records one: resources, their entitlements, and grants.
type graphBuilder struct{ g model.Graph }

func (b *graphBuilder) add(r model.Resource) string {
	r.AccountID = acct
	b.g.Resources = append(b.g.Resources, r)
	return r.ID
}

func (b *graphBuilder) grant(principal, resource, ent string, prov model.Provenance, via string) {
	id := model.EntitlementID(resource, ent)
	known := false
	for _, e := range b.g.Entitlements {
		known = known || e.ID == id
	}
	if !known {
		b.g.Entitlements = append(b.g.Entitlements, model.Entitlement{ID: id, ResourceID: resource, Name: ent})
	}
	b.g.Grants = append(b.g.Grants, model.Grant{PrincipalID: principal, EntitlementID: id, Provenance: prov, ViaID: via})
}

func arn(kind, name string) string { return "arn:aws:iam::" + acct + ":" + kind + "/" + name }

func user(name string, console, mfa, report bool) model.Resource {
	return model.Resource{ID: arn("user", name), Type: model.TypeIAMUser, Name: name,
		User: &model.UserAttrs{ConsoleAccess: console, MFAActive: mfa, CredentialReport: report}}
}

func role(name string, trusted ...model.TrustedEntity) model.Resource {
	return model.Resource{ID: arn("role", name), Type: model.TypeIAMRole, Name: name,
		Role: &model.RoleAttrs{TrustedPrincipals: trusted}}
}

func key(owner, id, status string, created time.Time, rotated *time.Time) model.Resource {
	return model.Resource{ID: model.AccessKeyID(acct, id), Type: model.TypeAccessKey, Name: id, ParentID: owner,
		CreatedAt: created, AccessKey: &model.AccessKeyAttrs{Status: status, LastRotated: rotated}}
}

// sampleGraph is a small estate with one of everything the rules look at:
//
//	alice: console without MFA; in admins and devs; ReadOnly also attached directly
//	bob:   console with MFA; in devs (the inherited grant is also recorded explicitly)
//	carol: no console; a key known only from the credential report's rotation date
//	dave:  console without MFA, but no credential report
//	deploy role: admin policy and an inline policy; trusts another account, a service and alice
//	web role: trusts a SAML provider; open role: trusts "*"
//	root: no MFA
func sampleGraph() *model.Graph {
	b := &graphBuilder{}
	b.add(model.Resource{ID: model.AccountResourceID(acct), Type: model.TypeAccount, Name: acct,
		Account: &model.AccountAttrs{CredentialReport: true}})
	alice := b.add(user("alice", true, false, true))
	bob := b.add(user("bob", true, true, true))
	carol := b.add(user("carol", false, false, true))
	b.add(user("dave", true, false, false))
	admins := b.add(model.Resource{ID: arn("group", "admins"), Type: model.TypeIAMGroup, Name: "admins"})
	devs := b.add(model.Resource{ID: arn("group", "devs"), Type: model.TypeIAMGroup, Name: "devs"})
	adminPol := b.add(model.Resource{ID: "arn:aws:iam::aws:policy/AdministratorAccess", Type: model.TypeIAMPolicy,
		Name: "AdministratorAccess", Policy: &model.PolicyAttrs{AWSManaged: true, Document: adminDoc}})
	readPol := b.add(model.Resource{ID: arn("policy", "ReadOnly"), Type: model.TypeIAMPolicy, Name: "ReadOnly",
		Policy: &model.PolicyAttrs{Document: readDoc}})
	devsInline := b.add(model.Resource{ID: model.InlinePolicyID(devs, "devs-extra"), Type: model.TypeInlinePolicy,
		Name: "devs-extra", ParentID: devs, InlinePolicy: &model.InlinePolicyAttrs{Document: readDoc}})
	deploy := b.add(role("deploy",
		model.TrustedEntity{Kind: "AWS", Value: "arn:aws:iam::222222222222:root", Conditions: []string{"sts:ExternalId"}},
		model.TrustedEntity{Kind: "Service", Value: "ec2.amazonaws.com"},
		model.TrustedEntity{Kind: "AWS", Value: alice},
		model.TrustedEntity{Kind: "AWS", Value: "AROADELETEDPRINCIPAL1"},
	))
	deployInline := b.add(model.Resource{ID: model.InlinePolicyID(deploy, "deploy-extra"), Type: model.TypeInlinePolicy,
		Name: "deploy-extra", ParentID: deploy, InlinePolicy: &model.InlinePolicyAttrs{Document: readDoc}})
	b.add(role("web", model.TrustedEntity{Kind: "Federated", Value: "arn:aws:iam::" + acct + ":saml-provider/okta"}))
	b.add(role("open", model.TrustedEntity{Kind: "AWS", Value: "*"}))

	b.grant(alice, admins, model.EntMember, model.ViaDirect, "")
	b.grant(alice, devs, model.EntMember, model.ViaDirect, "")
	b.grant(bob, devs, model.EntMember, model.ViaDirect, "")
	b.grant(admins, adminPol, model.EntAttached, model.ViaDirect, "")
	b.grant(devs, readPol, model.EntAttached, model.ViaDirect, "")
	b.grant(devs, devsInline, model.EntAttached, model.ViaInline, "")
	b.grant(alice, readPol, model.EntAttached, model.ViaDirect, "")
	b.grant(alice, adminPol, model.EntAttached, model.ViaGroup, admins) // recorded and derivable: counts once
	b.grant(bob, readPol, model.EntAttached, model.ViaGroup, devs)
	b.grant(deploy, adminPol, model.EntAttached, model.ViaDirect, "")
	b.grant(deploy, deployInline, model.EntAttached, model.ViaInline, "")
	b.grant(alice, deploy, model.EntAssume, model.ViaTrust, "")

	for _, k := range []model.Resource{
		key(alice, "AKIAALICE1", "Active", daysAgo(100), nil),
		key(alice, "AKIAALICE2", "Inactive", daysAgo(200), nil),
		key(bob, "AKIABOB1", "Active", daysAgo(10), nil),
		key(carol, "AKIACAROL1", "Active", time.Time{}, ptr(daysAgo(95))),
		key(carol, "AKIACAROL2", "Active", time.Time{}, nil),
	} {
		b.grant(k.ParentID, b.add(k), model.EntOwner, model.ViaDirect, "")
	}
	return &b.g
}

func names[T any](items []T, name func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

func TestTopHolders(t *testing.T) {
	tests := []struct {
		n    int
		want []Holder
	}{
		{n: 3, want: []Holder{
			{Principal: Principal{ID: arn("user", "alice"), Type: model.TypeIAMUser, Name: "alice", AccountID: acct}, Policies: 3, Groups: 2, Admin: true},
			{Principal: Principal{ID: arn("role", "deploy"), Type: model.TypeIAMRole, Name: "deploy", AccountID: acct}, Policies: 2, Admin: true},
			{Principal: Principal{ID: arn("user", "bob"), Type: model.TypeIAMUser, Name: "bob", AccountID: acct}, Policies: 2, Groups: 1},
		}},
	}
	for _, tt := range tests {
		got := TopHolders(sampleGraph(), tt.n)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("TopHolders(%d) =\n%+v\nwant\n%+v", tt.n, got, tt.want)
		}
	}
	all := TopHolders(sampleGraph(), 0)
	wantOrder := []string{"alice", "deploy", "bob", "open", "web", "carol", "dave"}
	if got := names(all, func(h Holder) string { return h.Name }); !reflect.DeepEqual(got, wantOrder) {
		t.Errorf("TopHolders(0) order = %v, want %v", got, wantOrder)
	}
}

func TestAdmins(t *testing.T) {
	got := Admins(sampleGraph())
	want := []Admin{
		{Principal: Principal{ID: arn("role", "deploy"), Type: model.TypeIAMRole, Name: "deploy", AccountID: acct},
			Through: []PolicyPath{{PolicyID: "arn:aws:iam::aws:policy/AdministratorAccess", PolicyName: "AdministratorAccess",
				PolicyType: model.TypeIAMPolicy, Provenance: model.ViaDirect}}},
		{Principal: Principal{ID: arn("user", "alice"), Type: model.TypeIAMUser, Name: "alice", AccountID: acct},
			Through: []PolicyPath{{PolicyID: "arn:aws:iam::aws:policy/AdministratorAccess", PolicyName: "AdministratorAccess",
				PolicyType: model.TypeIAMPolicy, Provenance: model.ViaGroup, ViaID: arn("group", "admins"), ViaName: "admins"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Admins =\n%+v\nwant\n%+v", got, want)
	}
}

func TestPolicyPaths(t *testing.T) {
	g := sampleGraph()
	x := newIndex(g)
	tests := []struct {
		principal string
		want      []string
	}{
		{arn("user", "alice"), []string{"AdministratorAccess/group/admins", "ReadOnly/direct/", "ReadOnly/group/devs", "devs-extra/group/devs"}},
		{arn("user", "bob"), []string{"ReadOnly/group/devs", "devs-extra/group/devs"}},
		{arn("role", "deploy"), []string{"AdministratorAccess/direct/", "deploy-extra/inline/"}},
		{arn("user", "carol"), []string{}},
	}
	for _, tt := range tests {
		got := names(x.policyPaths(x.byID[tt.principal]), func(p PolicyPath) string {
			return p.PolicyName + "/" + string(p.Provenance) + "/" + p.ViaName
		})
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("policyPaths(%s) = %v, want %v", tt.principal, got, tt.want)
		}
	}
}

func TestStaleKeys(t *testing.T) {
	tests := []struct {
		days int
		want []string // key id/status/age
	}{
		{90, []string{"AKIAALICE1/Active/100/alice", "AKIACAROL1/Active/95/carol", "AKIAALICE2/Inactive/200/alice"}},
		{96, []string{"AKIAALICE1/Active/100/alice", "AKIAALICE2/Inactive/200/alice"}},
		{5, []string{"AKIAALICE1/Active/100/alice", "AKIACAROL1/Active/95/carol", "AKIABOB1/Active/10/bob", "AKIAALICE2/Inactive/200/alice"}},
		{365, []string{}},
	}
	for _, tt := range tests {
		got := names(StaleKeys(sampleGraph(), now, tt.days), func(k StaleKey) string {
			return k.KeyID + "/" + k.Status + "/" + strconv.Itoa(k.AgeDays) + "/" + k.User.Name
		})
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("StaleKeys(%d days) = %v, want %v", tt.days, got, tt.want)
		}
	}
}

func TestConsoleWithoutMFA(t *testing.T) {
	got := ConsoleWithoutMFA(sampleGraph())
	want := []ConsoleUser{
		{Principal: Principal{ID: model.AccountResourceID(acct), Type: model.TypeAccount, Name: RootUserName, AccountID: acct}, Root: true},
		{Principal: Principal{ID: arn("user", "alice"), Type: model.TypeIAMUser, Name: "alice", AccountID: acct}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConsoleWithoutMFA =\n%+v\nwant\n%+v", got, want)
	}
}

func TestOutsideTrust(t *testing.T) {
	got := names(OutsideTrust(sampleGraph()), func(tr Trust) string {
		return tr.Role.Name + "/" + string(tr.Reason) + "/" + tr.Account + "/" + tr.Trusted.Value
	})
	want := []string{
		"deploy/other_account/222222222222/arn:aws:iam::222222222222:root",
		"open/anyone//*",
		"web/federated//arn:aws:iam::111111111111:saml-provider/okta",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OutsideTrust = %v, want %v", got, want)
	}
}

func TestAccountOf(t *testing.T) {
	tests := map[string]string{
		"123456789012":                        "123456789012",
		"arn:aws:iam::123456789012:root":      "123456789012",
		"arn:aws:iam::123456789012:role/x":    "123456789012",
		"arn:aws-cn:iam::123456789012:user/y": "123456789012",
		"AROADELETEDPRINCIPAL1":               "",
		"12345678901":                         "",
		"arn:aws:iam::aws:policy/x":           "",
	}
	for in, want := range tests {
		if got := accountOf(in); got != want {
			t.Errorf("accountOf(%q) = %q, want %q", in, got, want)
		}
	}
}
