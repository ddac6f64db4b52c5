package syncer

import (
	"context"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/awsapi"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/provision"
	"github.com/warden-iam/warden/internal/store"
)

// change applies provisioning actions in an account and returns the users
// they touched.
func change(t *testing.T, sess *awsapi.Session, account string, actions ...provision.Action) []string {
	t.Helper()
	p := &provision.Provisioner{IAM: sess.IAM(account), AccountID: account}
	var users []string
	for _, a := range actions {
		pl, err := p.Plan(context.Background(), a)
		if err != nil {
			t.Fatalf("plan %s: %v", a.Kind, err)
		}
		if _, err := p.Apply(context.Background(), pl); err != nil {
			t.Fatalf("apply %s: %v", a.Kind, err)
		}
		if a.User != "" {
			users = append(users, a.User)
		}
	}
	return users
}

// checkRefreshEqualsFullSync refreshes the snapshot of st after a change
// and compares it with a full sync of the same estate into a fresh store.
func checkRefreshEqualsFullSync(t *testing.T, sess *awsapi.Session, st store.Store, account string, changed []string, full func() *model.Graph) {
	t.Helper()
	snap, err := Refresh(context.Background(), sess, st, "", account, changed, syncOptions().IAM)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	got, err := st.Graph(context.Background(), snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := graphDiff(canonical(got), canonical(full()), 20); diff != "" {
		t.Fatalf("the refreshed snapshot differs from a full sync:\n%s", diff)
	}
	if n := snap.APICalls["iam:ListAccessKeys"]; n > int64(len(changed)) {
		t.Errorf("refresh listed the keys of %d users, want only the %d changed", n, len(changed))
	}
}

func TestRefreshAfterChangeEqualsFullSync(t *testing.T) {
	e := newEnv(t, smallEstate, envOptions{})
	if _, err := Sync(context.Background(), e.sess, e.st, syncOptions()); err != nil {
		t.Fatal(err)
	}
	var victim, group string
	for name, u := range e.truth.IAM.Users {
		if len(u.AccessKeys) > 0 && len(u.AttachedPolicies) > 0 && (victim == "" || name < victim) {
			victim = name
		}
	}
	for name := range e.truth.IAM.Groups {
		if group == "" || name < group {
			group = name
		}
	}
	v := e.truth.IAM.Users[victim]
	changed := change(t, e.sess, testAccount,
		provision.Action{Kind: provision.CreateUser, User: "refresh-joiner", Groups: []string{group}, Policies: []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}},
		provision.Action{Kind: provision.DeactivateUser, User: victim, DenyAll: true},
		provision.Action{Kind: provision.DetachPolicy, User: victim, PolicyARN: v.AttachedPolicies[0]},
	)
	checkRefreshEqualsFullSync(t, e.sess, e.st, testAccount, changed, func() *model.Graph {
		st := newOrgEnvStore(t)
		snap, err := Sync(context.Background(), e.sess, st, syncOptions())
		if err != nil {
			t.Fatal(err)
		}
		g, _ := st.Graph(context.Background(), snap.ID)
		return g
	})
}

func TestRefreshInAnOrganizationWithIdentityCenter(t *testing.T) {
	e := newOrgEnv(t, awsfake.OrgEstate{Accounts: 3, Seed: 8, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 4, Groups: 2, Roles: 3, Policies: 2},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 20, Groups: 3, PermissionSets: 3}}, awsfake.Options{})
	sess := newSession(t, e.srv.URL(), e.creds)
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{}
	if _, err := Sync(context.Background(), sess, e.st, o); err != nil {
		t.Fatal(err)
	}
	var user string
	for name := range e.truth.Management.IAM.Users {
		if user == "" || name < user {
			user = name
		}
	}
	changed := change(t, sess, "111111111111",
		provision.Action{Kind: provision.CreateUser, User: "org-joiner", Policies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		provision.Action{Kind: provision.DeleteUser, User: user},
	)
	checkRefreshEqualsFullSync(t, sess, e.st, "111111111111", changed, func() *model.Graph {
		st := newOrgEnvStore(t)
		snap, err := Sync(context.Background(), sess, st, o)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := st.Graph(context.Background(), snap.ID)
		return g
	})
}

func TestRefreshIdentityCenterEqualsFullSync(t *testing.T) {
	e := newOrgEnv(t, awsfake.OrgEstate{Accounts: 3, Seed: 9, ExternalID: testExternalID, PerAccount: awsfake.Estate{Users: 2, Roles: 2},
		IdentityCenter: &awsfake.IdentityCenterEstate{Users: 15, Groups: 3, PermissionSets: 3}}, awsfake.Options{})
	sess := newSession(t, e.srv.URL(), e.creds)
	o := orgSyncOptions()
	o.IdentityCenter = &IdentityCenterOptions{}
	if _, err := Sync(context.Background(), sess, e.st, o); err != nil {
		t.Fatal(err)
	}
	sso, ids := sess.IdentityCenter("")
	ic, err := provision.FindIdentityCenter(context.Background(), sso, ids)
	if err != nil {
		t.Fatal(err)
	}
	p := &provision.Provisioner{AccountID: "111111111111", IC: ic}
	for _, a := range []provision.Action{
		{Kind: provision.CreateSSOGroup, Group: "refreshers"},
		{Kind: provision.AssignPermissionSet, Group: "refreshers", PermissionSet: "ReadOnlyAccess", Account: e.truth.Members[2].ID},
	} {
		pl, err := p.Plan(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Apply(context.Background(), pl); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := RefreshIdentityCenter(context.Background(), sess, e.st, "", *o.IdentityCenter)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.Graph(context.Background(), snap.ID)
	full := newOrgEnvStore(t)
	fsnap, err := Sync(context.Background(), sess, full, o)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := full.Graph(context.Background(), fsnap.ID)
	if diff := graphDiff(canonical(got), canonical(want), 20); diff != "" {
		t.Fatalf("the refreshed snapshot differs from a full sync:\n%s", diff)
	}
}
