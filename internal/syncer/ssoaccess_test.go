package syncer

import (
	"context"
	"sort"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/collect"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// TestSSOAccessGroupWithTwoPermissionSetsInOneAccount syncs a group that
// holds two permission sets, AdministratorAccess among them, in one
// account, and checks the `access` answer of a member: each assignment
// shows its own reserved role and that role's policies, the
// administrator one flagged admin.
func TestSSOAccessGroupWithTwoPermissionSetsInOneAccount(t *testing.T) {
	estate := awsfake.OrgEstate{Accounts: 2, Seed: 3, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 1},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 20, Groups: 3, PermissionSets: 3, AssignmentsPerAccount: 1}}
	truth := estate.Build()
	ic := truth.IdentityCenter
	byName := map[string]*awsfake.PermissionSet{}
	for _, ps := range ic.PermissionSets {
		byName[ps.Name] = ps
	}
	admin, readOnly := byName["AdministratorAccess"], byName["ReadOnlyAccess"]
	if admin == nil || readOnly == nil {
		t.Fatal("the estate has no AdministratorAccess or ReadOnlyAccess permission set")
	}
	var groupIDs []string
	for id, g := range ic.Groups {
		if len(g.Members) > 0 {
			groupIDs = append(groupIDs, id)
		}
	}
	sort.Strings(groupIDs)
	group := ic.Groups[groupIDs[0]]
	account := truth.Members[0].ID
	// Only this group holds anything in this account, so the member's
	// answer there is exactly the two assignments.
	kept := ic.Assignments[:0]
	for _, a := range ic.Assignments {
		if a.AccountID != account {
			kept = append(kept, a)
		}
	}
	ic.Assignments = append(kept,
		awsfake.Assignment{AccountID: account, PermissionSetARN: admin.ARN, PrincipalType: "GROUP", PrincipalID: group.ID},
		awsfake.Assignment{AccountID: account, PermissionSetARN: readOnly.ARN, PrincipalType: "GROUP", PrincipalID: group.ID})

	isolateAWS(t)
	srv := awsfake.NewServer(awsfake.Options{})
	t.Cleanup(srv.Close)
	creds := truth.Install(srv)
	st := newOrgEnvStore(t)
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{}
	snap, err := Sync(context.Background(), newSession(t, srv.URL(), creds), st, o)
	if err != nil || snap.Status != model.StatusComplete {
		t.Fatalf("sync: %v %+v", err, snap)
	}

	ctx := context.Background()
	user, err := st.Resource(ctx, snap.ID, collect.SSOUserID(group.Members[0]))
	if err != nil {
		t.Fatal(err)
	}
	held, err := st.GrantsOf(ctx, snap.ID, user.ID)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := access.NewSSOAccess(user, held, nil, func(roleID string) ([]store.HeldGrant, error) {
		return st.GrantsOf(ctx, snap.ID, roleID)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		role     string
		policies []string
		admin    bool
	}{
		admin.Name:    {awsfake.ReservedRoleName(admin, account), admin.ManagedPolicies, true},
		readOnly.Name: {awsfake.ReservedRoleName(readOnly, account), readOnly.ManagedPolicies, false},
	}
	seen := 0
	for _, as := range acc.Assignments {
		if as.AccountID != account {
			continue
		}
		seen++
		w, ok := want[as.PermissionSet.Name]
		if !ok {
			t.Errorf("unexpected assignment %s in %s", as.PermissionSet.Name, account)
			continue
		}
		if as.Provenance != model.ViaGroup || as.ViaID != collect.SSOGroupID(group.ID) {
			t.Errorf("%s: through %s %s, want group %s", as.PermissionSet.Name, as.Provenance, as.ViaID, group.ID)
		}
		if as.Role == nil || as.Role.Name != w.role {
			t.Errorf("%s: role = %+v, want %s (the account's IAM was synced)", as.PermissionSet.Name, as.Role, w.role)
		}
		var got []string
		isAdmin := false
		for _, p := range as.Policies {
			got = append(got, p.ID)
			isAdmin = isAdmin || p.Admin
		}
		if len(got) != len(w.policies) || len(got) > 0 && got[0] != w.policies[0] || isAdmin != w.admin {
			t.Errorf("%s: policies %v admin %v, want %v admin %v", as.PermissionSet.Name, got, isAdmin, w.policies, w.admin)
		}
	}
	if seen != 2 {
		t.Errorf("%d assignments in %s, want the group's 2", seen, account)
	}
}
