// Package difftest builds hand-made access graphs for the tests of
// internal/diff and of the commands printing its reports: a Builder of
// resources, entitlements and grants, and Estate, two snapshots of one
// organization differing by one change of every kind a diff reports.
package difftest

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/warden-iam/warden/internal/model"
)

// The accounts of Estate.
const (
	AcctA = "111122223333"
	AcctB = "444455556666"
)

// Creation times of Estate's access keys: Old is stale at the snapshots'
// times, Recent is not.
var (
	Old    = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	Recent = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
)

// Builder assembles a hand-made graph.
type Builder struct{ g model.Graph }

// ARN returns the ARN of an IAM resource ("user", "group", "role",
// "policy") in an account ("aws" for an AWS managed policy).
func ARN(acct, kind, name string) string { return "arn:aws:iam::" + acct + ":" + kind + "/" + name }

// Add adds a resource offering the named entitlements and returns its ID.
func (b *Builder) Add(r model.Resource, ents ...string) string {
	b.g.Resources = append(b.g.Resources, r)
	for _, e := range ents {
		b.g.Entitlements = append(b.g.Entitlements, model.Entitlement{ID: model.EntitlementID(r.ID, e), ResourceID: r.ID, Name: e})
	}
	return r.ID
}

// Grant gives principal the entitlement ent of resource.
func (b *Builder) Grant(principal, resource, ent string, prov model.Provenance, via string) {
	b.g.Grants = append(b.g.Grants, model.Grant{PrincipalID: principal, EntitlementID: model.EntitlementID(resource, ent), Provenance: prov, ViaID: via})
}

// Account adds an account resource.
func (b *Builder) Account(id, name string, rootMFA bool) string {
	return b.Add(model.Resource{ID: model.AccountResourceID(id), Type: model.TypeAccount, AccountID: id, Name: name,
		Account: &model.AccountAttrs{RootMFAActive: rootMFA, CredentialReport: true}})
}

// User adds an IAM user, with a credential report row.
func (b *Builder) User(acct, name string, console, mfa bool) string {
	id := ARN(acct, "user", name)
	return b.Add(model.Resource{ID: id, Type: model.TypeIAMUser, AccountID: acct, Name: name, ARN: id,
		User: &model.UserAttrs{UserID: "AIDA" + name, ConsoleAccess: console, MFAActive: mfa, CredentialReport: true}})
}

// Group adds an IAM group.
func (b *Builder) Group(acct, name string) string {
	id := ARN(acct, "group", name)
	return b.Add(model.Resource{ID: id, Type: model.TypeIAMGroup, AccountID: acct, Name: name, ARN: id, Group: &model.GroupAttrs{GroupID: "AGPA" + name}}, model.EntMember)
}

// Policy adds a managed policy with a document; account "aws" makes an
// AWS managed one (recorded in AcctA).
func (b *Builder) Policy(acct, name, doc string) string {
	id := ARN(acct, "policy", name)
	if acct == "aws" {
		acct = AcctA
	}
	return b.Add(model.Resource{ID: id, Type: model.TypeIAMPolicy, AccountID: acct, Name: name, ARN: id,
		Policy: &model.PolicyAttrs{PolicyID: "ANPA" + name, DefaultVersionID: "v1", Document: doc, IsAttachable: true}}, model.EntAttached)
}

// Role adds an IAM role trusting the entities given.
func (b *Builder) Role(acct, name string, trusted ...model.TrustedEntity) string {
	id := ARN(acct, "role", name)
	return b.Add(model.Resource{ID: id, Type: model.TypeIAMRole, AccountID: acct, Name: name, ARN: id,
		Role: &model.RoleAttrs{RoleID: "AROA" + name, TrustPolicy: `{}`, TrustedPrincipals: trusted}}, model.EntAssume)
}

// Key adds an access key owned by user.
func (b *Builder) Key(acct, user, keyID, status string, created time.Time) string {
	id := model.AccessKeyID(acct, keyID)
	b.Add(model.Resource{ID: id, Type: model.TypeAccessKey, AccountID: acct, Name: keyID, ParentID: user, CreatedAt: created,
		AccessKey: &model.AccessKeyAttrs{Status: status}}, model.EntOwner)
	b.Grant(user, id, model.EntOwner, model.ViaDirect, "")
	return id
}

// MFA adds a virtual MFA device owned by user.
func (b *Builder) MFA(acct, user, serial string) string {
	id := model.MFADeviceID(acct, serial)
	b.Add(model.Resource{ID: id, Type: model.TypeMFADevice, AccountID: acct, Name: serial, ParentID: user, MFADevice: &model.MFADeviceAttrs{Virtual: true, SerialName: serial}}, model.EntOwner)
	b.Grant(user, id, model.EntOwner, model.ViaDirect, "")
	return id
}

// Member makes user a member of group and gives it the group's policies.
func (b *Builder) Member(user, group string, policies ...string) {
	b.Grant(user, group, model.EntMember, model.ViaDirect, "")
	for _, p := range policies {
		b.Grant(user, p, model.EntAttached, model.ViaGroup, group)
	}
}

// Graph returns a deep copy of the graph built so far, sorted.
func (b *Builder) Graph() *model.Graph {
	g := b.g
	// A deep copy: later changes to the Builder must not reach this graph.
	raw, _ := json.Marshal(b.g.Resources)
	g.Resources = nil
	if err := json.Unmarshal(raw, &g.Resources); err != nil {
		panic(err)
	}
	g.Entitlements = append([]model.Entitlement(nil), g.Entitlements...)
	g.Grants = append([]model.Grant(nil), g.Grants...)
	g.Sort()
	return &g
}

// Policy documents and statements of Estate.
const (
	AdminDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	ReadDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`
	StmtS1   = `{"Effect":"Allow","Action":"ec2:*","Resource":"*"}`
	StmtS2   = `{"Sid":"Logs","Effect":"Allow","Action":"logs:*","Resource":"*"}`
	StmtS3   = `{"Resource":"arn:aws:s3:::deploy/*","Effect":"Allow","Action":"s3:PutObject"}`
)

// Estate returns the graphs of two snapshots of one organization, the
// second with one change of every kind the report knows.
func Estate() (before, after *model.Graph) {
	var b Builder
	b.Account(AcctA, "prod", true)
	b.Account(AcctB, "dev", true)
	alice := b.User(AcctA, "alice", true, true)
	bob := b.User(AcctA, "bob", false, false)
	carol := b.User(AcctA, "carol", true, false)
	admins := b.Group(AcctA, "admins")
	devs := b.Group(AcctA, "devs")
	adminPol := b.Policy("aws", "AdministratorAccess", AdminDoc)
	readPol := b.Policy("aws", "ReadOnlyAccess", ReadDoc)
	deployPol := b.Policy(AcctA, "deploy-policy", `{"Version":"2012-10-17","Statement":[`+StmtS1+`,`+StmtS2+`]}`)
	deploy := b.Role(AcctA, "deploy", model.TrustedEntity{Kind: "AWS", Value: ARN(AcctA, "user", "alice")})
	b.Grant(alice, deploy, model.EntAssume, model.ViaTrust, "")
	b.Grant(admins, adminPol, model.EntAttached, model.ViaDirect, "")
	b.Grant(devs, readPol, model.EntAttached, model.ViaDirect, "")
	b.Grant(deploy, deployPol, model.EntAttached, model.ViaDirect, "")
	b.Member(alice, devs, readPol)
	b.Member(bob, devs, readPol)
	b.Key(AcctA, alice, "AKIAALICE00000000001", "Active", Recent)
	b.Key(AcctA, bob, "AKIABOB0000000000001", "Active", Recent)
	b.Key(AcctA, carol, "AKIACAROL00000000001", "Active", Old)
	// Identity Center: two people in a group, a permission set.
	ann := b.Add(model.Resource{ID: "arn:aws:identitystore:::user/u-ann", Type: model.TypeSSOUser, Name: "ann", SSOUser: &model.SSOUserAttrs{UserID: "u-ann"}})
	ben := b.Add(model.Resource{ID: "arn:aws:identitystore:::user/u-ben", Type: model.TypeSSOUser, Name: "ben", SSOUser: &model.SSOUserAttrs{UserID: "u-ben"}})
	eng := b.Add(model.Resource{ID: "arn:aws:identitystore:::group/g-eng", Type: model.TypeSSOGroup, Name: "eng", SSOGroup: &model.SSOGroupAttrs{GroupID: "g-eng"}}, model.EntMember)
	ps := b.Add(model.Resource{ID: "arn:aws:sso:::permissionSet/ssoins-1/ps-admin", Type: model.TypePermissionSet, Name: "Admin",
		PermissionSet: &model.PermissionSetAttrs{ManagedPolicies: []string{adminPol}}}, model.AssignmentEntitlement(AcctA))
	b.Grant(ann, eng, model.EntMember, model.ViaDirect, "")
	b.Grant(ben, eng, model.EntMember, model.ViaDirect, "")
	before = b.Graph()

	// alice joins admins.
	b.Member(alice, admins, adminPol)
	// bob's key is deactivated, alice gets a second key, carol's old key
	// is deleted.
	b.Set(model.AccessKeyID(AcctA, "AKIABOB0000000000001"), func(r *model.Resource) { r.AccessKey = &model.AccessKeyAttrs{Status: "Inactive"} })
	b.Key(AcctA, alice, "AKIAALICE00000000002", "Active", Recent)
	b.Remove(model.AccessKeyID(AcctA, "AKIACAROL00000000001"))
	// bob gets a password and an MFA device; carol turns MFA on (seen only
	// in the credential report).
	b.Set(bob, func(r *model.Resource) {
		r.User = &model.UserAttrs{UserID: "AIDAbob", ConsoleAccess: true, MFAActive: true, CredentialReport: true}
	})
	b.MFA(AcctA, bob, "arn:aws:iam::"+AcctA+":mfa/bob")
	b.Set(carol, func(r *model.Resource) {
		r.User = &model.UserAttrs{UserID: "AIDAcarol", ConsoleAccess: true, MFAActive: true, CredentialReport: true}
	})
	// The role deploy now trusts anyone.
	b.Set(deploy, func(r *model.Resource) {
		r.Role.TrustedPrincipals = append(r.Role.TrustedPrincipals, model.TrustedEntity{Kind: "*", Value: "*"})
	})
	anyone := b.Add(model.Resource{ID: model.ExternalPrincipalID("*", "*"), Type: model.TypeExternalPrincipal, Name: "*"})
	b.Grant(anyone, deploy, model.EntAssume, model.ViaTrust, "")
	// The group eng is assigned the permission set in account A.
	b.Grant(eng, ps, model.AssignmentEntitlement(AcctA), model.ViaDirect, "")
	b.Grant(ann, ps, model.AssignmentEntitlement(AcctA), model.ViaGroup, eng)
	b.Grant(ben, ps, model.AssignmentEntitlement(AcctA), model.ViaGroup, eng)
	// deploy-policy loses a statement and gains one.
	b.Set(deployPol, func(r *model.Resource) {
		r.Policy = &model.PolicyAttrs{PolicyID: "ANPAdeploy-policy", DefaultVersionID: "v2", IsAttachable: true,
			Document: `{"Version":"2012-10-17","Statement":[` + StmtS2 + `,` + StmtS3 + `]}`}
	})
	// In account B: a new console user without MFA, with an old key.
	erin := b.User(AcctB, "erin", true, false)
	b.Key(AcctB, erin, "AKIAERIN000000000001", "Active", Old)
	after = b.Graph()
	return before, after
}

// Remove takes out a resource, its entitlements and every grant of or on
// it.
func (b *Builder) Remove(id string) {
	var rs []model.Resource
	for _, r := range b.g.Resources {
		if r.ID != id {
			rs = append(rs, r)
		}
	}
	var es []model.Entitlement
	for _, e := range b.g.Entitlements {
		if e.ResourceID != id {
			es = append(es, e)
		}
	}
	var gs []model.Grant
	for _, g := range b.g.Grants {
		if res, _ := splitEntitlement(g.EntitlementID); res != id && g.PrincipalID != id {
			gs = append(gs, g)
		}
	}
	b.g.Resources, b.g.Entitlements, b.g.Grants = rs, es, gs
}

// Set changes the resource with the ID in place; it panics when there is
// none.
func (b *Builder) Set(id string, f func(r *model.Resource)) {
	for i := range b.g.Resources {
		if b.g.Resources[i].ID == id {
			f(&b.g.Resources[i])
			return
		}
	}
	panic("difftest: no resource " + id)
}

func splitEntitlement(id string) (resourceID, name string) {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[:i], id[i+1:]
	}
	return id, ""
}
