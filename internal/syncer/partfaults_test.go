package syncer

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/scim"
)

// These tests fail one per-entity call of each collector, persistently
// (awsfake's ActionFaults: every retry gets the same answer), and check
// that the failure costs only what it touches: the part is listed in the
// snapshot's errors with a fix and named in the resource's Unread, the
// snapshot is partial, and everything else equals the ground truth.

// resourceOf returns the resource of want with id, failing the test when
// there is none.
func resourceOf(t *testing.T, want *model.Graph, id string) *model.Resource {
	t.Helper()
	for i := range want.Resources {
		if want.Resources[i].ID == id {
			return &want.Resources[i]
		}
	}
	t.Fatalf("no resource %s in the expected graph", id)
	return nil
}

// dropGrantsOf removes from want the grants of entitlement ent, of any
// provenance or of those given.
func dropGrantsOf(want *model.Graph, ent string, via ...model.Provenance) {
	want.Grants = slices.DeleteFunc(want.Grants, func(g model.Grant) bool {
		return g.EntitlementID == ent && (len(via) == 0 || slices.Contains(via, g.Provenance))
	})
}

// checkPartErrors checks that the snapshot is partial and lists exactly n
// errors of source, each naming one of names and with a fix.
func checkPartErrors(t *testing.T, snap *model.Snapshot, source string, n int, names ...string) {
	t.Helper()
	b, _ := json.Marshal(snap.Errors)
	if snap.Status != model.StatusPartial || len(snap.Errors) != n {
		t.Fatalf("snapshot %s with errors %s, want partial with %d", snap.Status, b, n)
	}
	for _, e := range snap.Errors {
		named := false
		for _, name := range names {
			named = named || strings.Contains(e.Message, name)
		}
		if e.Source != source || !named || e.Fix == "" {
			t.Errorf("error %+v: want source %s, naming one of %v, with a fix", e, source, names)
		}
	}
}

// icFaultEstate is an organization with Identity Center whose accounts can
// all be read.
var icFaultEstate = awsfake.OrgEstate{Accounts: 4, Seed: 17, ExternalID: testExternalID,
	PerAccount:     awsfake.Estate{Users: 2, Groups: 1, Roles: 1, Policies: 1},
	IdentityCenter: &awsfake.IdentityCenterEstate{Users: 40, Groups: 6, PermissionSets: 6, AssignmentsPerAccount: 3}}

// syncIC syncs icFaultEstate with Identity Center under faults and returns
// the truth, the snapshot and the store.
func syncIC(t *testing.T, strategy collect.AssignmentStrategy, faults map[string]awsfake.ActionFault, scimClient func(*awsfake.Server, *awsfake.OrgTruth) collect.SCIMUserLister) (*awsfake.OrgTruth, *model.Snapshot, *orgEnv) {
	t.Helper()
	e := newOrgEnv(t, icFaultEstate, awsfake.Options{ActionFaults: faults})
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{IdentityCenterOptions: collect.IdentityCenterOptions{Strategy: strategy}}
	if scimClient != nil {
		o.IdentityCenter.SCIM = scimClient(e.srv, e.truth)
	}
	snap, err := Sync(context.Background(), newSession(t, e.srv.URL(), e.creds), e.st, o)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return e.truth, snap, e
}

// allRead is every account of the truth.
func allRead(truth *awsfake.OrgTruth) map[string]bool {
	read := map[string]bool{}
	for _, a := range truth.Accounts() {
		read[a.ID] = true
	}
	return read
}

// TestIdentityCenterBoundaryFailureCostsOnlyTheBoundaries is issue 10's
// case: GetPermissionsBoundaryForPermissionSet answers 500 for every
// permission set. Every user, group, membership, permission set and
// assignment is still stored; each boundary is unknown and listed.
func TestIdentityCenterBoundaryFailureCostsOnlyTheBoundaries(t *testing.T) {
	truth, snap, e := syncIC(t, collect.AssignmentsAuto, map[string]awsfake.ActionFault{
		"sso:GetPermissionsBoundaryForPermissionSet": {}}, nil)
	ic := truth.IdentityCenter
	read := allRead(truth)
	want := expectedOrgGraph(t, truth, read, expectedIdentityCenter(t, ic, false))
	addReservedRoleLinks(want, ic, read)
	var arns []string
	for arn := range ic.PermissionSets {
		r := resourceOf(t, want, arn)
		attrs := *r.PermissionSet
		attrs.PermissionsBoundary = ""
		r.PermissionSet, r.Unread = &attrs, []string{"permissions_boundary"}
		arns = append(arns, arn)
	}
	checkPartErrors(t, snap, collect.SourceIdentityCenter, len(arns), arns...)
	checkGraph(t, e.st, snap.ID, want)
}

// TestIdentityCenterPerEntityFailures fails one call about one group, one
// permission set or one principal, and checks the rest is exact.
func TestIdentityCenterPerEntityFailures(t *testing.T) {
	base := icFaultEstate.Build()
	ic := base.IdentityCenter
	groups := sortedIDs(ic.Groups)
	sets := sortedIDs(ic.PermissionSets)
	var direct string // a user with a direct assignment
	for _, a := range ic.Assignments {
		if a.PrincipalType == "USER" && (direct == "" || a.PrincipalID < direct) {
			direct = a.PrincipalID
		}
	}
	if direct == "" {
		t.Fatal("the estate has no direct user assignment")
	}
	group, ps := groups[0], sets[1]
	tests := []struct {
		name     string
		strategy collect.AssignmentStrategy
		fault    string
		param    string
		value    string
		// change makes the Identity Center the snapshot shows from the
		// truth's (what the failed call would have shown is missing).
		change func(ic *awsfake.IdentityCenter)
		// fix adjusts the expected graph: what is unknown and marked so.
		fix func(want *model.Graph)
		// errors is how many parts fail; 0 means 1.
		errors int
	}{
		{"members of one group", collect.AssignmentsAuto, "identitystore:ListGroupMemberships", "GroupId", group,
			func(ic *awsfake.IdentityCenter) { ic.Groups[group].Members = nil },
			func(want *model.Graph) { resourceOf(t, want, collect.SSOGroupID(group)).Unread = []string{"members"} }, 0},
		{"provisioned accounts of one permission set", collect.AssignmentsAuto, "sso:ListAccountsForProvisionedPermissionSet", "PermissionSetArn", ps,
			nil,
			func(want *model.Graph) {
				r := resourceOf(t, want, ps)
				attrs := *r.PermissionSet
				attrs.ProvisionedAccounts = nil
				r.PermissionSet, r.Unread = &attrs, []string{"provisioned_accounts"}
			}, 0},
		{"description of one permission set", collect.AssignmentsAuto, "sso:DescribePermissionSet", "PermissionSetArn", ps,
			nil,
			func(want *model.Graph) {
				r := resourceOf(t, want, ps)
				attrs := *r.PermissionSet
				attrs.Description, attrs.SessionDuration, attrs.RelayState = "", "", ""
				r.Name, r.CreatedAt, r.PermissionSet, r.Unread = "", time.Time{}, &attrs, []string{"description"}
				// Without its name the permission set's reserved roles
				// cannot be told: their links are missing.
				for _, a := range ic.Assignments {
					if a.PermissionSetARN == ps {
						role := "arn:aws:iam::" + a.AccountID + ":role/aws-reserved/sso.amazonaws.com/" + awsfake.ReservedRoleName(ic.PermissionSets[ps], a.AccountID)
						dropGrantsOf(want, model.EntitlementID(role, model.EntAssume), model.ViaSSO, model.ViaGroup)
					}
				}
			}, 0},
		{"assignments of one permission set", collect.AssignmentsByPair, "sso:ListAccountAssignments", "PermissionSetArn", ps,
			func(ic *awsfake.IdentityCenter) {
				ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a awsfake.Assignment) bool { return a.PermissionSetARN == ps })
			},
			func(want *model.Graph) { resourceOf(t, want, ps).Unread = []string{"assignments"} }, provisioned(ic, ps)},
		{"assignments of one user", collect.AssignmentsByPrincipal, "sso:ListAccountAssignmentsForPrincipal", "PrincipalId", direct,
			func(ic *awsfake.IdentityCenter) {
				ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a awsfake.Assignment) bool { return a.PrincipalID == direct })
			},
			func(want *model.Graph) {
				resourceOf(t, want, collect.SSOUserID(direct)).Unread = []string{"assignments"}
			}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			truth, snap, e := syncIC(t, tc.strategy, map[string]awsfake.ActionFault{tc.fault: {Param: tc.param, Value: tc.value}}, nil)
			read := allRead(truth)
			seen := truth.IdentityCenter.Clone()
			if tc.change != nil {
				tc.change(seen)
			}
			want := expectedOrgGraph(t, truth, read, expectedIdentityCenter(t, seen, false))
			addReservedRoleLinks(want, seen, read)
			// A permission set's own attributes come from its own calls,
			// not from the assignments that were (or were not) read.
			full := expectedIdentityCenter(t, truth.IdentityCenter, false)
			for _, r := range full.Resources {
				if r.Type == model.TypePermissionSet {
					*resourceOf(t, want, r.ID) = r
				}
			}
			tc.fix(want)
			want.Sort()
			checkPartErrors(t, snap, collect.SourceIdentityCenter, max(1, tc.errors), tc.value)
			checkGraph(t, e.st, snap.ID, want)
			if e.srv.Calls()[tc.fault] == 0 {
				t.Errorf("%s was never called: the fault proves nothing", tc.fault)
			}
		})
	}
}

// TestSCIMFailureCostsOnlySCIMStatus fails the SCIM listing: Identity
// Center is stored whole, the users' SCIM status is unknown.
func TestSCIMFailureCostsOnlySCIMStatus(t *testing.T) {
	truth, snap, e := syncIC(t, collect.AssignmentsAuto, map[string]awsfake.ActionFault{"scim:ListUsers": {}},
		func(srv *awsfake.Server, truth *awsfake.OrgTruth) collect.SCIMUserLister {
			c, err := scim.New(srv.SCIMURL(), truth.IdentityCenter.SCIMToken, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Backoff = time.Millisecond
			return c
		})
	read := allRead(truth)
	want := expectedOrgGraph(t, truth, read, expectedIdentityCenter(t, truth.IdentityCenter, false))
	addReservedRoleLinks(want, truth.IdentityCenter, read)
	checkPartErrors(t, snap, collect.SourceSCIM, 1, "SCIM")
	checkGraph(t, e.st, snap.ID, want)
}

// TestOrganizationPerEntityFailures fails DescribePolicy of one SCP,
// ListTargetsForPolicy of another and ListTagsForResource of one account.
func TestOrganizationPerEntityFailures(t *testing.T) {
	estate := awsfake.OrgEstate{Accounts: 5, Seed: 9, SCPs: 4, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 2, Groups: 1, Roles: 1, Policies: 1}}
	truth := estate.Build()
	var custom []*awsfake.OrgPolicy
	for _, id := range sortedIDs(truth.Organization.Policies) {
		if p := truth.Organization.Policies[id]; !p.AWSManaged && len(p.Targets) > 0 {
			custom = append(custom, p)
		}
	}
	if len(custom) < 2 {
		t.Fatalf("the estate has %d attached customer SCPs, want 2", len(custom))
	}
	noDoc, noTargets := custom[0], custom[1]
	tagless := truth.Members[1].ID
	e := newOrgEnv(t, estate, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"organizations:DescribePolicy":       {Param: "PolicyId", Value: noDoc.ID},
		"organizations:ListTargetsForPolicy": {Param: "PolicyId", Value: noTargets.ID},
		"organizations:ListTagsForResource":  {Code: "AccessDeniedException", Status: http.StatusForbidden, Param: "ResourceId", Value: tagless},
	}})
	snap, err := Sync(context.Background(), newSession(t, e.srv.URL(), e.creds), e.st, orgSyncOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := expectedOrgGraph(t, e.truth, allRead(e.truth))
	r := resourceOf(t, want, noDoc.ARN)
	attrs := *r.SCP
	attrs.Document = ""
	r.SCP, r.Unread = &attrs, []string{"document"}
	resourceOf(t, want, noTargets.ARN).Unread = []string{"targets"}
	dropGrantsOf(want, model.EntitlementID(noTargets.ARN, model.EntAttached))
	acct := resourceOf(t, want, model.AccountResourceID(tagless))
	acct.Tags, acct.Unread = nil, []string{"tags"}
	checkPartErrors(t, snap, collect.SourceOrganizations, 3, noDoc.ID, noTargets.ID, tagless)
	checkGraph(t, e.st, snap.ID, want)
}

// TestIAMPerEntityFailure fails ListAccessKeys of one user: the user's
// keys are recorded from the credential report's slots, without IDs, and
// everything else is exact.
func TestIAMPerEntityFailure(t *testing.T) {
	truth := smallEstate.Build()
	var user *awsfake.User
	for _, name := range sortedIDs(truth.IAM.Users) {
		if u := truth.IAM.Users[name]; len(u.AccessKeys) == 1 {
			user = u
			break
		}
	}
	if user == nil {
		t.Fatal("the estate has no user with one access key")
	}
	e := newEnv(t, smallEstate, envOptions{fake: awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"iam:ListAccessKeys": {Param: "UserName", Value: user.Name}}}})
	snap, err := Sync(context.Background(), e.sess, e.st, syncOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
	k := user.AccessKeys[0]
	listed := model.AccessKeyID(testAccount, k.ID)
	want.Resources = slices.DeleteFunc(want.Resources, func(r model.Resource) bool { return r.ID == listed })
	want.Entitlements = slices.DeleteFunc(want.Entitlements, func(e model.Entitlement) bool { return e.ResourceID == listed })
	dropGrantsOf(want, model.EntitlementID(listed, model.EntOwner))
	slot := model.AccessKeyID(testAccount, user.Name+"/access_key_1")
	rotated := k.CreatedAt
	want.Resources = append(want.Resources, model.Resource{ID: slot, Type: model.TypeAccessKey, AccountID: testAccount, Name: "access_key_1",
		ParentID: user.ARN, AccessKey: &model.AccessKeyAttrs{Status: k.Status, LastRotated: &rotated, LastUsed: k.LastUsed,
			LastUsedService: notAvailable(k.LastUsedService), LastUsedRegion: notAvailable(k.LastUsedRegion)}})
	want.Entitlements = append(want.Entitlements, model.Entitlement{ID: model.EntitlementID(slot, model.EntOwner), ResourceID: slot, Name: model.EntOwner})
	want.Grants = append(want.Grants, model.Grant{PrincipalID: user.ARN, EntitlementID: model.EntitlementID(slot, model.EntOwner), Provenance: model.ViaDirect})
	resourceOf(t, want, user.ARN).Unread = []string{"access_key_ids"}
	want.Sort()
	checkPartErrors(t, snap, collect.SourceAccessKeys, 1, user.Name)
	checkGraph(t, e.st, snap.ID, want)
}

// provisioned counts the accounts a permission set is provisioned to.
func provisioned(ic *awsfake.IdentityCenter, ps string) int {
	n := 0
	for _, p := range ic.ProvisionedPairs() {
		if p[0] == ps {
			n++
		}
	}
	return n
}

// sortedIDs returns a map's keys in order.
func sortedIDs[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestMFAPerEntityFailure fails ListMFADevices of one user with a hardware
// token: that user's devices are unknown, everything else is exact.
func TestMFAPerEntityFailure(t *testing.T) {
	truth := smallEstate.Build()
	var user *awsfake.User
	for _, name := range sortedIDs(truth.IAM.Users) {
		if u := truth.IAM.Users[name]; len(u.MFADevices) == 1 && !u.MFADevices[0].Virtual {
			user = u
			break
		}
	}
	if user == nil {
		t.Fatal("the estate has no user with only a hardware MFA device")
	}
	e := newEnv(t, smallEstate, envOptions{fake: awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{
		"iam:ListMFADevices": {Code: "AccessDenied", Status: http.StatusForbidden, Param: "UserName", Value: user.Name}}}})
	snap, err := Sync(context.Background(), e.sess, e.st, syncOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := expectedGraph(t, e.truth, awsfake.AWSManagedPolicies())
	device := model.MFADeviceID(testAccount, user.MFADevices[0].SerialNumber)
	want.Resources = slices.DeleteFunc(want.Resources, func(r model.Resource) bool { return r.ID == device })
	want.Entitlements = slices.DeleteFunc(want.Entitlements, func(e model.Entitlement) bool { return e.ResourceID == device })
	dropGrantsOf(want, model.EntitlementID(device, model.EntOwner))
	resourceOf(t, want, user.ARN).Unread = []string{"mfa_devices"}
	checkPartErrors(t, snap, collect.SourceMFADevices, 1, user.Name)
	checkGraph(t, e.st, snap.ID, want)
}

// TestRefreshRecordsItsOwnFailures: a refresh that fails a part stores a
// partial snapshot listing it, and the next refresh that reads the part
// clears it.
func TestRefreshRecordsItsOwnFailures(t *testing.T) {
	e := newOrgEnv(t, icFaultEstate, awsfake.Options{})
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{}
	sess := newSession(t, e.srv.URL(), e.creds)
	if snap, err := Sync(context.Background(), sess, e.st, o); err != nil || snap.Status != model.StatusComplete {
		t.Fatalf("sync: %v %+v", err, snap)
	}
	e.srv.SetOptions(awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"sso:GetPermissionsBoundaryForPermissionSet": {}}})
	snap, err := RefreshIdentityCenter(context.Background(), sess, e.st, "", IdentityCenterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkPartErrors(t, snap, collect.SourceIdentityCenter, len(e.truth.IdentityCenter.PermissionSets), "permissions boundary")
	e.srv.SetOptions(awsfake.Options{})
	if snap, err = RefreshIdentityCenter(context.Background(), sess, e.st, "", IdentityCenterOptions{}); err != nil || snap.Status != model.StatusComplete || len(snap.Errors) != 0 {
		t.Fatalf("refresh without faults: %v, %s with errors %+v; want complete", err, snap.Status, snap.Errors)
	}
	read := allRead(e.truth)
	want := expectedOrgGraph(t, e.truth, read, expectedIdentityCenter(t, e.truth.IdentityCenter, false))
	addReservedRoleLinks(want, e.truth.IdentityCenter, read)
	checkGraph(t, e.st, snap.ID, want)
}

// TestSCIMFailureAfterOnePage fails the SCIM listing from its second page
// on: the users of the first page have their SCIM status, the others'
// is unknown, and everything else is exact.
func TestSCIMFailureAfterOnePage(t *testing.T) {
	estate := icFaultEstate
	ice := *estate.IdentityCenter
	ice.Users = 230
	estate.IdentityCenter = &ice
	e := newOrgEnv(t, estate, awsfake.Options{ActionFaults: map[string]awsfake.ActionFault{"scim:ListUsers": {Skip: 1}}})
	c, err := scim.New(e.srv.SCIMURL(), e.truth.IdentityCenter.SCIMToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = time.Millisecond
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{SCIM: c}
	snap, err := Sync(context.Background(), newSession(t, e.srv.URL(), e.creds), e.st, o)
	if err != nil {
		t.Fatal(err)
	}
	checkPartErrors(t, snap, collect.SourceSCIM, 1, "100 users read")
	got, err := e.st.Graph(context.Background(), snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	unknown := map[string]bool{}
	for _, r := range got.Resources {
		if r.Type == model.TypeSSOUser && r.SSOUser.SCIMActive == nil {
			unknown[r.ID] = true
		}
	}
	if len(unknown) != 130 {
		t.Errorf("%d users without SCIM status, want the 130 past the first page", len(unknown))
	}
	read := allRead(e.truth)
	ic := expectedIdentityCenter(t, e.truth.IdentityCenter, true)
	for i := range ic.Resources {
		if r := &ic.Resources[i]; unknown[r.ID] {
			attrs := *r.SSOUser
			attrs.SCIMActive, attrs.SCIMMismatch = nil, false
			r.SSOUser = &attrs
		}
	}
	want := expectedOrgGraph(t, e.truth, read, ic)
	addReservedRoleLinks(want, e.truth.IdentityCenter, read)
	checkGraph(t, e.st, snap.ID, want)
}

// TestIdentityCenterListingFailures fails a whole listing (users, groups
// or permission sets): what refers to its entities is left out, the rest
// of Identity Center is exact.
func TestIdentityCenterListingFailures(t *testing.T) {
	tests := []struct {
		fault  string
		change func(ic *awsfake.IdentityCenter)
	}{
		{"identitystore:ListUsers", func(ic *awsfake.IdentityCenter) {
			ic.Users = map[string]*awsfake.SSOUser{}
			for _, g := range ic.Groups {
				g.Members = nil
			}
			ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a awsfake.Assignment) bool { return a.PrincipalType == "USER" })
		}},
		{"identitystore:ListGroups", func(ic *awsfake.IdentityCenter) {
			ic.Groups = map[string]*awsfake.SSOGroup{}
			ic.Assignments = slices.DeleteFunc(ic.Assignments, func(a awsfake.Assignment) bool { return a.PrincipalType == "GROUP" })
		}},
		{"sso:ListPermissionSets", func(ic *awsfake.IdentityCenter) {
			ic.PermissionSets = map[string]*awsfake.PermissionSet{}
			ic.Assignments = nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			truth, snap, e := syncIC(t, collect.AssignmentsAuto, map[string]awsfake.ActionFault{tc.fault: {}}, nil)
			read := allRead(truth)
			seen := truth.IdentityCenter.Clone()
			tc.change(seen)
			want := expectedOrgGraph(t, truth, read, expectedIdentityCenter(t, seen, false))
			addReservedRoleLinks(want, seen, read)
			// Permission sets keep the accounts they are provisioned to.
			full := expectedIdentityCenter(t, truth.IdentityCenter, false)
			for _, r := range full.Resources {
				if r.Type == model.TypePermissionSet && len(seen.PermissionSets) > 0 {
					*resourceOf(t, want, r.ID) = r
				}
			}
			checkPartErrors(t, snap, collect.SourceIdentityCenter, 1, "not read")
			checkGraph(t, e.st, snap.ID, want)
		})
	}
}
