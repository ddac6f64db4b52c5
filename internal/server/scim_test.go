package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/warden-iam/warden/awsfake"
	"github.com/warden-iam/warden/internal/scimsync"
)

// TestSCIMPush pushes a source into awsfake's Identity Center through its
// SCIM endpoint: a dry run writes nothing, the push creates the people,
// a second push writes nothing, and the audit log names the token.
func TestSCIMPush(t *testing.T) {
	e := newEnv(t, smallEstate, Config{})
	e.fake.SetIdentityCenter(&awsfake.IdentityCenter{InstanceARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
		IdentityStoreID: "d-0123456789", OwnerAccountID: testAccount, Users: map[string]*awsfake.SSOUser{},
		Groups: map[string]*awsfake.SSOGroup{}, PermissionSets: map[string]*awsfake.PermissionSet{},
		SCIMTenant: "tenant0000aa-bcde", SCIMToken: "fake-scim-token-for-the-server-test"})
	t.Setenv("TEST_SCIM_TOKEN", "fake-scim-token-for-the-server-test")
	e.srv.c.Connections[0].IdentityCenter.SCIM.Endpoint = e.fake.SCIMURL()
	e.srv.c.Connections[0].IdentityCenter.SCIM.TokenEnv = "TEST_SCIM_TOKEN"
	source := "external_id,user_name,given_name,family_name,email,groups\n" +
		"e1,ann@example.com,Ann,Lee,ann@example.com,eng\n" +
		"e2,ben@example.com,Ben,Ng,ben@example.com,eng;ops\n"
	push := func(dryRun bool) scimsync.Report {
		t.Helper()
		body, _ := json.Marshal(SCIMPushRequest{Format: "csv", Source: source, DryRun: dryRun})
		status, _, b := e.do(t, "POST", "/api/v1/scim/push", e.admin, body)
		if status != 200 {
			t.Fatalf("push: %d %s", status, b)
		}
		validate(t, e.srv, "POST", "/api/v1/scim/push", status, b)
		var rep scimsync.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := push(true); !rep.DryRun || rep.Created != 2 || len(e.fake.IdentityCenter().Users) != 0 {
		t.Fatalf("dry run: %+v, %d users in Identity Center", rep, len(e.fake.IdentityCenter().Users))
	}
	if rep := push(false); rep.Created != 2 || rep.GroupsCreated != 2 || len(e.fake.IdentityCenter().Users) != 2 {
		t.Fatalf("push: %+v, %d users in Identity Center", rep, len(e.fake.IdentityCenter().Users))
	}
	if rep := push(false); rep.Writes != 0 {
		t.Fatalf("second push wrote %d times", rep.Writes)
	}
	recs, err := e.st.Audit(context.Background(), "prod", 0)
	if err != nil || len(recs) == 0 {
		t.Fatalf("audit: %v %v", len(recs), err)
	}
	for _, r := range recs {
		if r.Actor != "ops" {
			t.Errorf("audit %s by %q, want ops", r.Call, r.Actor)
		}
	}
	if status, _, b := e.do(t, "POST", "/api/v1/scim/push", e.read, []byte(`{"format":"csv","source":""}`)); status != 403 {
		t.Errorf("read token: %d %s", status, b)
	}
	if status, _, b := e.do(t, "POST", "/api/v1/scim/push", e.admin, []byte(`{"format":"csv","source":"user_name\nx\n"}`)); status != 400 {
		t.Errorf("bad source: %d %s", status, b)
	} else {
		validate(t, e.srv, "POST", "/api/v1/scim/push", status, b)
	}
}
