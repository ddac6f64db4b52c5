package awsfake

import (
	"math/rand"
	"time"
)

// DemoEstate describes the organization `warden demo` shows: a management
// account and four members in named OUs (Security, Workloads/Prod,
// Workloads/Dev, Sandbox), two guardrail SCPs attached at OUs, a small
// generated IAM estate in every account, an Identity Center with people,
// groups, permission sets and assignments, and a few findings planted where
// a visitor can find them (see the Demo* constants). Build is deterministic.
type DemoEstate struct {
	// Users is the number of generated IAM users in each account (groups,
	// roles and policies scale with it); default 12.
	Users int
	// Now is the reference clock of every date; default 2026-11-01.
	Now time.Time
}

// The demo's accounts and planted findings, for tests and for the commands
// the demo suggests.
const (
	DemoManagementID = "111111111111"
	DemoSecurityID   = "200000000000"
	DemoProdID       = "200000000001"
	DemoDevID        = "200000000002"
	DemoSandboxID    = "200000000003"
	// DemoOutsideAccountID is the outside account DemoVendorRole trusts.
	DemoOutsideAccountID = "999988887777"

	// DemoAdminUser (in prod) has AdministratorAccess attached.
	DemoAdminUser = "dana.ops"
	// DemoNoMFAUser (in prod) signs in to the console without MFA.
	DemoNoMFAUser = "erin.contractor"
	// DemoOldKeyUser (in dev) has an active access key 400 days old.
	DemoOldKeyUser = "ci-deploy"
	// DemoVendorRole (in security) trusts DemoOutsideAccountID.
	DemoVendorRole = "vendor-audit"
	// DemoOldKeyAgeDays is the age of DemoOldKeyUser's key.
	DemoOldKeyAgeDays = 400
	// DemoNewSSOUser is an Identity Center user with no group and no
	// assignment: the demo assigns her DemoAdminPermissionSet in prod.
	DemoNewSSOUser = "frank.newhire@example.com"
	// DemoAdminPermissionSet is the permission set that carries
	// AdministratorAccess.
	DemoAdminPermissionSet = "AdministratorAccess"
)

// demoAccounts names the members in index order and says where they sit:
// the OU path under the root.
var demoAccounts = []struct{ name, ou string }{
	{"security", "Security"},
	{"prod", "Workloads/Prod"},
	{"dev", "Workloads/Dev"},
	{"sandbox", "Sandbox"},
}

// Build generates the demo organization.
func (d DemoEstate) Build() *OrgTruth {
	if d.Users <= 0 {
		d.Users = 12
	}
	if d.Now.IsZero() {
		d.Now = defaultEstateNow
	}
	users := d.Users
	per := Estate{Users: users, Groups: max(1, users/6), Roles: max(1, users/3), Policies: max(1, users/5), Now: d.Now}
	t := OrgEstate{ManagementAccountID: DemoManagementID, Accounts: len(demoAccounts), OUs: 1, SCPs: 0, PerAccount: per, Seed: 2,
		IdentityCenter: &IdentityCenterEstate{Users: 10, Groups: 4, PermissionSets: 4, AssignmentsPerAccount: 2}}.Build()
	o := t.Organization
	rng := rand.New(rand.NewSource(97))
	now := d.Now
	mgmt := DemoManagementID

	// The OU tree, by path.
	o.OUs = map[string]*OrgUnit{}
	ouIDs := map[string]string{}
	for _, path := range []string{"Security", "Workloads", "Workloads/Prod", "Workloads/Dev", "Sandbox"} {
		parent, name := o.Root.ID, path
		for i := len(path) - 1; i >= 0; i-- {
			if path[i] == '/' {
				parent, name = ouIDs[path[:i]], path[i+1:]
				break
			}
		}
		id := "ou-" + o.Root.ID[2:] + "-" + randLower(rng, 8)
		o.OUs[id] = &OrgUnit{ID: id, ARN: "arn:aws:organizations::" + mgmt + ":ou/" + o.ID + "/" + id, Name: name, ParentID: parent}
		ouIDs[path] = id
	}
	for i, m := range t.Members {
		a := o.Accounts[m.ID]
		a.Name, a.ParentID, a.Email = demoAccounts[i].name, ouIDs[demoAccounts[i].ou], "aws+"+demoAccounts[i].name+"@example.com"
		a.Tags = []Tag{{Key: "env", Value: demoAccounts[i].name}}
		m.Alias = "demo-" + demoAccounts[i].name
	}
	// The sandbox joined by invitation, so it may be removed from the
	// organization as it is (an account the organization created needs its
	// standalone setup first).
	o.Accounts[DemoSandboxID].JoinedMethod = "INVITED"
	t.Management.Alias = "demo-management"

	// FullAWSAccess everywhere, as AWS attaches it; two guardrails at OUs.
	full := o.Policies[FullAWSAccessID]
	full.Targets = append(append([]string{o.Root.ID}, sortedKeys(o.OUs)...), sortedKeys(o.Accounts)...)
	scp := func(name, desc, content string, targets ...string) {
		id := "p-" + randLower(rng, 8)
		o.Policies[id] = &OrgPolicy{ID: id, ARN: "arn:aws:organizations::" + mgmt + ":policy/" + o.ID + "/service_control_policy/" + id,
			Name: name, Description: desc, Type: "SERVICE_CONTROL_POLICY", Content: content, Targets: targets,
			Tags: []Tag{{Key: "owner", Value: "security"}}}
	}
	scp("deny-leave-organization", "Members cannot leave the organization",
		`{"Version":"2012-10-17","Statement":[{"Sid":"NoLeaving","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`,
		ouIDs["Workloads"], ouIDs["Sandbox"])
	scp("deny-cloudtrail-changes", "Keep the audit trail on",
		`{"Version":"2012-10-17","Statement":[{"Sid":"KeepTrail","Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail"],"Resource":"*"}]}`,
		ouIDs["Security"], ouIDs["Workloads/Prod"])

	// The planted findings.
	prod, dev, sec := t.Members[1], t.Members[2], t.Members[0]
	user := func(acct *Account, name string) *User {
		u := &User{Name: name, ID: randID(rng, "AIDA", 17), Path: "/", ARN: "arn:aws:iam::" + acct.ID + ":user/" + name,
			CreatedAt: now.AddDate(-2, 0, 0), InlinePolicies: map[string]string{}}
		acct.IAM.Users[name] = u
		return u
	}
	console := func(u *User) {
		u.LoginProfile = &LoginProfile{CreatedAt: u.CreatedAt, PasswordLastChanged: u.CreatedAt, Password: "demo-" + randLower(rng, 16)}
		last := now.AddDate(0, 0, -3)
		u.PasswordLastUsed = &last
	}
	admin := user(prod, DemoAdminUser)
	admin.AttachedPolicies = []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
	console(admin)
	admin.MFADevices = []*MFADevice{{SerialNumber: "arn:aws:iam::" + prod.ID + ":mfa/" + DemoAdminUser, Virtual: true, EnabledAt: admin.CreatedAt}}
	nomfa := user(prod, DemoNoMFAUser)
	nomfa.AttachedPolicies = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
	console(nomfa)
	ci := user(dev, DemoOldKeyUser)
	ci.AttachedPolicies = []string{"arn:aws:iam::aws:policy/PowerUserAccess"}
	keyAt := now.AddDate(0, 0, -DemoOldKeyAgeDays)
	usedAt := now.AddDate(0, 0, -1)
	ci.AccessKeys = []*AccessKey{{ID: randID(rng, "AKIA", 16), Secret: randLower(rng, 40), Status: "Active", CreatedAt: keyAt,
		LastUsed: &usedAt, LastUsedService: "s3", LastUsedRegion: "us-east-1"}}
	sec.IAM.Roles[DemoVendorRole] = &Role{Name: DemoVendorRole, ID: randID(rng, "AROA", 17), Path: "/",
		ARN: "arn:aws:iam::" + sec.ID + ":role/" + DemoVendorRole, CreatedAt: now.AddDate(-1, 0, 0),
		Description: "Read-only access for an outside auditor", MaxSessionDuration: 3600,
		AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + DemoOutsideAccountID + `:root"},"Action":"sts:AssumeRole"}]}`,
		AttachedPolicies: []string{"arn:aws:iam::aws:policy/SecurityAudit"},
		InlinePolicies:   map[string]string{}}
	ic := t.IdentityCenter
	id := uuidFrom("user/" + ic.IdentityStoreID + "/" + DemoNewSSOUser)
	ic.Users[id] = &SSOUser{ID: id, UserName: DemoNewSSOUser, DisplayName: "Frank Newhire", GivenName: "Frank", FamilyName: "Newhire",
		Email: DemoNewSSOUser, Status: "ENABLED", CreatedAt: now.AddDate(0, 0, -2)}
	return t
}
