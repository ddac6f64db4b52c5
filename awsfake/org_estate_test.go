package awsfake

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Real ID and ARN formats of AWS Organizations.
var (
	orgIDFormat     = regexp.MustCompile(`^o-[a-z0-9]{10}$`)
	rootIDFormat    = regexp.MustCompile(`^r-[0-9a-z]{4}$`)
	ouIDFormat      = regexp.MustCompile(`^ou-[0-9a-z]{4}-[a-z0-9]{8}$`)
	policyIDFormat  = regexp.MustCompile(`^p-[0-9a-z]{8}$`)
	accountIDFormat = regexp.MustCompile(`^\d{12}$`)
)

// TestOrgEstateGroundTruth checks that a generated organization is
// internally consistent and shaped like AWS's: ID and ARN formats, a tree
// with no dangling parent within the depth asked, FullAWSAccess on every
// node, SCP targets that exist, and member roles whose trust admits exactly
// what the estate says.
func TestOrgEstateGroundTruth(t *testing.T) {
	e := OrgEstate{Accounts: 60, OUs: 14, OUDepth: 3, SCPs: 6, Seed: 17, ExternalID: "ground-truth-external-id-000000000",
		PerAccount:  Estate{Users: 2, Groups: 1, Roles: 2, Policies: 1},
		MissingRole: []int{4, 40}, WrongExternalID: []int{7}, Suspended: []int{9}}
	truth := e.Build()
	o := truth.Organization
	mgmt := "111111111111"
	if !orgIDFormat.MatchString(o.ID) || !rootIDFormat.MatchString(o.Root.ID) {
		t.Fatalf("organization %s, root %s: not AWS's ID formats", o.ID, o.Root.ID)
	}
	if o.ARN != "arn:aws:organizations::"+mgmt+":organization/"+o.ID || o.Root.ARN != "arn:aws:organizations::"+mgmt+":root/"+o.ID+"/"+o.Root.ID {
		t.Errorf("organization ARN %s, root ARN %s", o.ARN, o.Root.ARN)
	}
	if o.ManagementAccountID != mgmt || truth.Management.ID != mgmt || o.Accounts[mgmt] == nil || o.Accounts[mgmt].ParentID != o.Root.ID {
		t.Errorf("management account %s is not in the organization under the root", mgmt)
	}
	if !slices.Contains(o.Root.PolicyTypes, "SERVICE_CONTROL_POLICY") {
		t.Error("service control policies are not enabled in the root")
	}

	// The OU tree: formats, known parents, bounded depth.
	if len(o.OUs) != 14 {
		t.Errorf("%d OUs, want 14", len(o.OUs))
	}
	names := map[string]bool{}
	for id, ou := range o.OUs {
		if !ouIDFormat.MatchString(id) || !strings.HasPrefix(id, "ou-"+o.Root.ID[2:]+"-") || ou.ID != id {
			t.Errorf("OU ID %s is not ou-<root>-<8>", id)
		}
		if ou.ARN != "arn:aws:organizations::"+mgmt+":ou/"+o.ID+"/"+id {
			t.Errorf("OU ARN %s", ou.ARN)
		}
		depth := 0
		for p := ou.ParentID; p != o.Root.ID; p = o.OUs[p].ParentID {
			if o.OUs[p] == nil {
				t.Fatalf("OU %s sits under unknown parent %s", id, p)
			}
			if depth++; depth > e.OUDepth {
				t.Fatalf("OU %s is deeper than %d", id, e.OUDepth)
			}
		}
		key := ou.ParentID + "/" + ou.Name
		if names[key] {
			t.Errorf("two OUs named %s under one parent", key)
		}
		names[key] = true
	}

	// Accounts: formats, parents, statuses, and one IAM estate each.
	if len(o.Accounts) != e.Accounts+1 || len(truth.Members) != e.Accounts {
		t.Fatalf("%d organization accounts and %d members, want %d and %d", len(o.Accounts), len(truth.Members), e.Accounts+1, e.Accounts)
	}
	userIDs := map[string]bool{}
	joined := map[string]int{}
	for i, m := range truth.Members {
		a := o.Accounts[m.ID]
		if a == nil || !accountIDFormat.MatchString(m.ID) || a.ARN != "arn:aws:organizations::"+mgmt+":account/"+o.ID+"/"+m.ID {
			t.Fatalf("member %d (%s) missing from the organization or malformed: %+v", i, m.ID, a)
		}
		if o.nodeType(a.ParentID) != "ROOT" && o.nodeType(a.ParentID) != "ORGANIZATIONAL_UNIT" {
			t.Errorf("account %s sits under unknown parent %s", m.ID, a.ParentID)
		}
		if want := map[bool]string{true: "SUSPENDED", false: "ACTIVE"}[slices.Contains(e.Suspended, i)]; a.Status != want {
			t.Errorf("account %d status %s, want %s", i, a.Status, want)
		}
		joined[a.JoinedMethod]++
		if a.Email == "" || a.Name == "" || a.JoinedAt.IsZero() {
			t.Errorf("account %s lacks an email, name or join date", m.ID)
		}
		if len(m.IAM.Users) != e.PerAccount.Users {
			t.Errorf("member %d has %d users, want %d", i, len(m.IAM.Users), e.PerAccount.Users)
		}
		for _, u := range m.IAM.Users {
			if userIDs[u.ID] {
				t.Errorf("user ID %s appears in two accounts: the per-account seeds do not vary", u.ID)
			}
			userIDs[u.ID] = true
			if !strings.HasPrefix(u.ARN, "arn:aws:iam::"+m.ID+":") {
				t.Errorf("user %s of %s has ARN %s", u.Name, m.ID, u.ARN)
			}
		}
	}
	if joined["CREATED"] == 0 || joined["INVITED"] == 0 || joined["CREATED"]+joined["INVITED"] != e.Accounts {
		t.Errorf("joined methods %v, want both CREATED and INVITED", joined)
	}

	// Policies: FullAWSAccess everywhere, customer SCPs on existing nodes.
	full := o.Policies[FullAWSAccessID]
	if full == nil || !full.AWSManaged || full.ARN != "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess" {
		t.Fatalf("FullAWSAccess = %+v", full)
	}
	want := append(append([]string{o.Root.ID}, sortedKeys(o.OUs)...), sortedKeys(o.Accounts)...)
	if got := slices.Sorted(slices.Values(full.Targets)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("FullAWSAccess is attached to %d targets, want the root, %d OUs and %d accounts", len(full.Targets), len(o.OUs), len(o.Accounts))
	}
	if len(o.Policies) != e.SCPs+1 {
		t.Errorf("%d policies, want %d SCPs and FullAWSAccess", len(o.Policies), e.SCPs)
	}
	for id, p := range o.Policies {
		if id == FullAWSAccessID {
			continue
		}
		if !policyIDFormat.MatchString(id) || p.AWSManaged || p.Type != "SERVICE_CONTROL_POLICY" ||
			p.ARN != "arn:aws:organizations::"+mgmt+":policy/"+o.ID+"/service_control_policy/"+id {
			t.Errorf("SCP %s = %+v", id, p)
		}
		if len(p.Targets) == 0 || !strings.Contains(p.Content, `"Statement"`) {
			t.Errorf("SCP %s has no targets or no document", id)
		}
		for _, tg := range p.Targets {
			if o.nodeType(tg) == "" {
				t.Errorf("SCP %s is attached to unknown target %s", id, tg)
			}
		}
	}

	// Member roles: present unless missing on purpose, trusting the
	// management account with the ExternalId unless broken on purpose.
	admin := caller{account: mgmt, arn: "arn:aws:iam::" + mgmt + ":user/warden-admin"}
	outsider := caller{account: "999999999999", arn: "arn:aws:iam::999999999999:user/warden-admin"}
	for i, m := range truth.Members {
		role, ok := m.IAM.Roles[DefaultMemberRoleName]
		if ok == slices.Contains(e.MissingRole, i) {
			t.Errorf("member %d: has the member role = %v", i, ok)
		}
		if !ok {
			continue
		}
		if role.ARN != "arn:aws:iam::"+m.ID+":role/"+DefaultMemberRoleName || !slices.Contains(role.AttachedPolicies, "arn:aws:iam::aws:policy/AdministratorAccess") {
			t.Errorf("member %d role = %+v", i, role)
		}
		wantAllowed := !slices.Contains(e.WrongExternalID, i)
		if got := trustAllows(role.AssumeRolePolicy, trustContext{caller: admin, externalID: e.ExternalID}); got != wantAllowed {
			t.Errorf("member %d: management with the ExternalId allowed = %v, want %v", i, got, wantAllowed)
		}
		if trustAllows(role.AssumeRolePolicy, trustContext{caller: admin}) {
			t.Errorf("member %d: trust admits a caller without the ExternalId", i)
		}
		if trustAllows(role.AssumeRolePolicy, trustContext{caller: outsider, externalID: e.ExternalID}) {
			t.Errorf("member %d: trust admits another account", i)
		}
	}
}

// TestOrgEstateOptions checks the role name, trusted account and
// ExternalId-free trust, and Install.
func TestOrgEstateOptions(t *testing.T) {
	e := OrgEstate{ManagementAccountID: "444444444444", Accounts: 3, MemberRoleName: "WardenReader", TrustedAccountID: "555555555555",
		PerAccount: Estate{Users: 1}, Seed: 2}
	truth := e.Build()
	if truth.Organization.ManagementAccountID != "444444444444" || truth.Management.ID != "444444444444" {
		t.Fatalf("management account %s", truth.Organization.ManagementAccountID)
	}
	trusted := caller{account: "555555555555", arn: "arn:aws:iam::555555555555:role/ci", roleARN: "arn:aws:iam::555555555555:role/ci"}
	mgmt := caller{account: "444444444444", arn: "arn:aws:iam::444444444444:user/warden-admin"}
	for i, m := range truth.Members {
		role := m.IAM.Roles["WardenReader"]
		if role == nil || m.IAM.Roles[DefaultMemberRoleName] != nil {
			t.Fatalf("member %d roles: %v", i, sortedKeys(m.IAM.Roles))
		}
		if !trustAllows(role.AssumeRolePolicy, trustContext{caller: trusted}) || trustAllows(role.AssumeRolePolicy, trustContext{caller: mgmt}) {
			t.Errorf("member %d trust = %s, want the trusted account and no ExternalId", i, role.AssumeRolePolicy)
		}
	}

	srv := NewHandler(Options{})
	creds := truth.Install(srv)
	if !reflect.DeepEqual(srv.Organization(), truth.Organization) {
		t.Error("the installed organization differs from the ground truth")
	}
	for _, a := range truth.Accounts() {
		if !reflect.DeepEqual(srv.Account(a.ID), a.Clone()) { // Clone makes nil maps empty, as the emulator keeps them
			t.Errorf("installed account %s differs from the ground truth", a.ID)
		}
	}
	if c := srv.keys[creds.AccessKeyID]; c.account != "444444444444" {
		t.Errorf("Install returned credentials of %s, want the management account", c.account)
	}
}

// TestOrgEstateDeterminism checks that one seed always builds the same
// organization, deeply, and another seed a different one.
func TestOrgEstateDeterminism(t *testing.T) {
	e := smallOrg()
	a, b := e.Build(), e.Build()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two builds of one OrgEstate differ")
	}
	e.Seed++
	c := e.Build()
	if c.Organization.ID == a.Organization.ID || reflect.DeepEqual(c.Members[0], a.Members[0]) {
		t.Error("another seed built the same organization")
	}
}

// BenchmarkOrgEstateBuild builds the 1,000-account organization the sync
// benchmark uses.
func BenchmarkOrgEstateBuild(b *testing.B) {
	e := OrgEstate{Accounts: 1000, SCPs: 10, Seed: 42, ExternalID: "bench-external-id-00000000000000000",
		PerAccount: Estate{Users: 20, Groups: 10, Roles: 60, Policies: 30}}
	b.ReportAllocs()
	for b.Loop() {
		if t := e.Build(); len(t.Members) != 1000 {
			b.Fatalf("%d members", len(t.Members))
		}
	}
}
