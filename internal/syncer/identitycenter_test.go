package syncer

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/scim"
)

// expectedIdentityCenter is the graph the Identity Center collector must
// produce from the ground truth: users, groups, memberships, permission
// sets and assignments, group assignments expanded to members.
func expectedIdentityCenter(t testing.TB, ic *awsfake.IdentityCenter, withSCIM bool) model.Graph {
	t.Helper()
	g := model.Graph{}
	ent := (&expect{t: t, g: &g, ents: map[string]bool{}}).entitlement
	for _, u := range ic.Users {
		attrs := &model.SSOUserAttrs{UserID: u.ID, IdentityStoreID: ic.IdentityStoreID, DisplayName: u.DisplayName,
			GivenName: u.GivenName, FamilyName: u.FamilyName, Emails: []string{u.Email}, Status: u.Status}
		if u.ExternalID != "" {
			attrs.ExternalIDs = []string{u.ExternalIDIssuer + "|" + u.ExternalID}
		}
		if withSCIM {
			active := u.Status == "ENABLED"
			if u.SCIMActive != nil {
				active = *u.SCIMActive
			}
			attrs.SCIMActive = &active
			attrs.SCIMMismatch = active != (u.Status == "ENABLED")
		}
		g.Resources = append(g.Resources, model.Resource{ID: collect.SSOUserID(u.ID), Type: model.TypeSSOUser, Name: u.UserName,
			CreatedAt: u.CreatedAt, SSOUser: attrs})
	}
	for _, gr := range ic.Groups {
		id := collect.SSOGroupID(gr.ID)
		g.Resources = append(g.Resources, model.Resource{ID: id, Type: model.TypeSSOGroup, Name: gr.DisplayName, CreatedAt: gr.CreatedAt,
			SSOGroup: &model.SSOGroupAttrs{GroupID: gr.ID, IdentityStoreID: ic.IdentityStoreID, Description: gr.Description}})
		e := ent(id, model.EntMember)
		for _, uid := range gr.Members {
			g.Grants = append(g.Grants, model.Grant{PrincipalID: collect.SSOUserID(uid), EntitlementID: e, Provenance: model.ViaDirect})
		}
	}
	provisioned := map[string][]string{}
	for _, p := range ic.ProvisionedPairs() {
		provisioned[p[0]] = append(provisioned[p[0]], p[1])
	}
	for _, ps := range ic.PermissionSets {
		attrs := &model.PermissionSetAttrs{InstanceARN: ic.InstanceARN, Description: ps.Description, SessionDuration: ps.SessionDuration,
			RelayState: ps.RelayState, ManagedPolicies: ps.ManagedPolicies, PermissionsBoundary: ps.BoundaryManagedPolicyARN,
			ProvisionedAccounts: provisioned[ps.ARN]}
		for _, ref := range ps.CustomerManagedPolicies {
			attrs.CustomerManagedPolicies = append(attrs.CustomerManagedPolicies, ref.Path+ref.Name)
		}
		if ps.BoundaryCustomerManaged != nil {
			attrs.PermissionsBoundary = ps.BoundaryCustomerManaged.Path + ps.BoundaryCustomerManaged.Name
		}
		if ps.InlinePolicy != "" {
			doc, err := policy.Normalize(ps.InlinePolicy)
			if err != nil {
				t.Fatal(err)
			}
			attrs.InlinePolicy = doc
		}
		g.Resources = append(g.Resources, model.Resource{ID: ps.ARN, Type: model.TypePermissionSet, Name: ps.Name, ARN: ps.ARN,
			CreatedAt: ps.CreatedAt, Tags: tags(ps.Tags), PermissionSet: attrs})
	}
	for _, a := range ic.Assignments {
		e := ent(a.PermissionSetARN, model.AssignmentEntitlement(a.AccountID))
		if a.PrincipalType == "GROUP" {
			gid := collect.SSOGroupID(a.PrincipalID)
			g.Grants = append(g.Grants, model.Grant{PrincipalID: gid, EntitlementID: e, Provenance: model.ViaDirect})
			for _, uid := range ic.Groups[a.PrincipalID].Members {
				g.Grants = append(g.Grants, model.Grant{PrincipalID: collect.SSOUserID(uid), EntitlementID: e, Provenance: model.ViaGroup, ViaID: gid})
			}
			continue
		}
		g.Grants = append(g.Grants, model.Grant{PrincipalID: collect.SSOUserID(a.PrincipalID), EntitlementID: e, Provenance: model.ViaDirect})
	}
	return g
}

// addReservedRoleLinks adds to want what an assignment means in an account
// whose IAM was read: its holders may assume the reserved role.
func addReservedRoleLinks(want *model.Graph, ic *awsfake.IdentityCenter, read map[string]bool) {
	ents := map[string]bool{}
	for _, e := range want.Entitlements {
		ents[e.ID] = true
	}
	seen := map[model.Grant]bool{}
	for _, g := range want.Grants {
		seen[g] = true
	}
	add := func(g model.Grant, role string) {
		if !ents[g.EntitlementID] {
			ents[g.EntitlementID] = true
			want.Entitlements = append(want.Entitlements, model.Entitlement{ID: g.EntitlementID, ResourceID: role, Name: model.EntAssume})
		}
		if !seen[g] {
			seen[g] = true
			want.Grants = append(want.Grants, g)
		}
	}
	for _, a := range ic.Assignments {
		if !read[a.AccountID] {
			continue
		}
		ps := ic.PermissionSets[a.PermissionSetARN]
		role := "arn:aws:iam::" + a.AccountID + ":role/aws-reserved/sso.amazonaws.com/" + awsfake.ReservedRoleName(ps, a.AccountID)
		e := model.EntitlementID(role, model.EntAssume)
		if a.PrincipalType == "GROUP" {
			gid := collect.SSOGroupID(a.PrincipalID)
			add(model.Grant{PrincipalID: gid, EntitlementID: e, Provenance: model.ViaSSO, ViaID: ps.ARN}, role)
			for _, uid := range ic.Groups[a.PrincipalID].Members {
				add(model.Grant{PrincipalID: collect.SSOUserID(uid), EntitlementID: e, Provenance: model.ViaGroup, ViaID: gid}, role)
			}
			continue
		}
		add(model.Grant{PrincipalID: collect.SSOUserID(a.PrincipalID), EntitlementID: e, Provenance: model.ViaSSO, ViaID: ps.ARN}, role)
	}
	want.Sort()
}

// TestIdentityCenterSyncMatchesGroundTruth syncs an organization with
// Identity Center, both assignment strategies, and compares everything:
// memberships, permission sets, assignments, expansion through groups,
// and the reserved roles each assignment gives.
func TestIdentityCenterSyncMatchesGroundTruth(t *testing.T) {
	estate := awsfake.OrgEstate{Accounts: 8, Seed: 21, ExternalID: testExternalID, MissingRole: []int{5},
		PerAccount:     awsfake.Estate{Users: 3, Groups: 2, Roles: 3, Policies: 2},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 260, Groups: 14, PermissionSets: 9, AssignmentsPerAccount: 3}}
	for _, strategy := range []collect.AssignmentStrategy{collect.AssignmentsByPair, collect.AssignmentsByPrincipal, collect.AssignmentsAuto} {
		t.Run("strategy "+string(strategy), func(t *testing.T) {
			e := newOrgEnv(t, estate, awsfake.Options{})
			o := orgSyncOptions()
			o.IdentityCenter = &IdentityCenterOptions{IdentityCenterOptions: collect.IdentityCenterOptions{Strategy: strategy}}
			snap, err := Sync(context.Background(), newSession(t, e.srv.URL(), e.creds), e.st, o)
			if err != nil {
				t.Fatal(err)
			}
			read := map[string]bool{}
			for _, a := range e.truth.Accounts() {
				if a.ID != "200000000005" {
					read[a.ID] = true
				}
			}
			if len(snap.Errors) != 1 || snap.Errors[0].AccountID != "200000000005" {
				t.Errorf("errors = %+v, want only the member without a role", snap.Errors)
			}
			ic := e.truth.IdentityCenter
			want := expectedOrgGraph(t, e.truth, read, expectedIdentityCenter(t, ic, false))
			addReservedRoleLinks(want, ic, read)
			checkGraph(t, e.st, snap.ID, want)

			calls := e.srv.Calls()
			pairs := int64(len(ic.ProvisionedPairs()))
			principals := int64(len(ic.Users) + len(ic.Groups))
			switch strategy {
			case collect.AssignmentsByPair:
				if calls["sso:ListAccountAssignments"] != pairs || calls["sso:ListAccountAssignmentsForPrincipal"] != 0 {
					t.Errorf("by pair: %d ListAccountAssignments, want one per provisioned pair (%d)", calls["sso:ListAccountAssignments"], pairs)
				}
			case collect.AssignmentsByPrincipal:
				if calls["sso:ListAccountAssignmentsForPrincipal"] != principals {
					t.Errorf("by principal: %d calls, want one per user and group (%d)", calls["sso:ListAccountAssignmentsForPrincipal"], principals)
				}
			default:
				if got := calls["sso:ListAccountAssignments"] + calls["sso:ListAccountAssignmentsForPrincipal"]; got != min(pairs, principals) {
					t.Errorf("auto: %d assignment calls, want the cheaper strategy's %d", got, min(pairs, principals))
				}
			}
			if n := calls["identitystore:ListGroupMemberships"]; n != int64(len(ic.Groups)) {
				t.Errorf("ListGroupMemberships = %d, want one per group (%d)", n, len(ic.Groups))
			}
		})
	}
}

func TestIdentityCenterMissingIsRecorded(t *testing.T) {
	e := newOrgEnv(t, awsfake.OrgEstate{Accounts: 2, Seed: 1, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 2}}, awsfake.Options{})
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{}
	snap, err := Sync(context.Background(), newSession(t, e.srv.URL(), e.creds), e.st, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(snap.Errors)
	if snap.Status != model.StatusPartial || len(snap.Errors) != 1 || snap.Errors[0].Source != collect.SourceIdentityCenter ||
		!strings.Contains(snap.Errors[0].Message, "no IAM Identity Center instance") {
		t.Errorf("errors = %s, want the missing instance recorded", b)
	}
}

// TestIdentityCenterSCIMStatus reads users' active flag from the SCIM
// endpoint in pages, records it, and flags the user whose SCIM view
// disagrees with the Identity Store; a wrong token is recorded without
// being repeated.
func TestIdentityCenterSCIMStatus(t *testing.T) {
	estate := awsfake.OrgEstate{Accounts: 2, Seed: 5, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 2},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 230, Groups: 5, PermissionSets: 3}}
	truth := estate.Build()
	var stale *awsfake.SSOUser
	for _, u := range truth.IdentityCenter.Users {
		if u.Status == "ENABLED" && (stale == nil || u.ID < stale.ID) {
			stale = u
		}
	}
	off := false
	stale.SCIMActive = &off
	isolateAWS(t)
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	creds := truth.Install(srv)
	st := newOrgEnvStore(t)

	client, err := scim.New(srv.SCIMURL(), truth.IdentityCenter.SCIMToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{SCIM: client}
	snap, err := Sync(context.Background(), newSession(t, srv.URL(), creds), st, o)
	if err != nil || snap.Status != model.StatusComplete {
		t.Fatalf("sync: %v %+v", err, snap)
	}
	read := map[string]bool{}
	for _, a := range truth.Accounts() {
		read[a.ID] = true
	}
	want := expectedOrgGraph(t, truth, read, expectedIdentityCenter(t, truth.IdentityCenter, true))
	addReservedRoleLinks(want, truth.IdentityCenter, read)
	checkGraph(t, st, snap.ID, want)
	if n := srv.Calls()["scim:ListUsers"]; n != 3 {
		t.Errorf("SCIM ListUsers calls = %d, want 3 pages of 100 for 230 users", n)
	}

	bad, _ := scim.New(srv.SCIMURL(), "not-the-token-0123456789", nil)
	o.IdentityCenter = &IdentityCenterOptions{SCIM: bad}
	snap, err = Sync(context.Background(), newSession(t, srv.URL(), creds), st, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(snap.Errors)
	if snap.Status != model.StatusPartial || len(snap.Errors) != 1 || snap.Errors[0].Source != collect.SourceSCIM ||
		!strings.Contains(string(b), "401") || strings.Contains(string(b), "not-the-token") {
		t.Errorf("errors with a wrong token = %s", b)
	}
}
