package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/access"
)

// TestAccessByKeyIDNamesOwner asks `warden access` for an access key ID of
// the demo estate and checks it answers with the key's owner, in JSON
// (the owner's report, the key among its keys) and in the table heading.
func TestAccessByKeyIDNamesOwner(t *testing.T) {
	acct := truth(t)
	u := busiestUser(t, acct)
	keyID := u.AccessKeys[0].ID
	var got access.Access
	if err := json.Unmarshal([]byte(mustWarden(t, "access", keyID, "-o", "json")), &got); err != nil {
		t.Fatalf("access %s -o json: %v", keyID, err)
	}
	if got.Principal.ID != u.ARN || got.Principal.Name != u.Name {
		t.Errorf("access %s resolved to %+v, want its owner %s", keyID, got.Principal, u.ARN)
	}
	var owned bool
	for _, k := range got.AccessKeys {
		owned = owned || k.Name == keyID
	}
	if !owned {
		t.Errorf("access %s: the owner's keys %+v do not include it", keyID, got.AccessKeys)
	}
	want := "Access key " + keyID + " is owned by: User " + u.Name + " in account " + got.Principal.AccountID
	if out := mustWarden(t, "access", keyID); !strings.HasPrefix(out, want+"\n") {
		t.Errorf("access %s table starts\n%.200s\nwant the heading %q", keyID, out, want)
	}
	if _, errOut, code := warden(t, "access", "AKIANOSUCHKEY0000000"); code != 2 || !strings.Contains(errOut, `no user, group or role matches "AKIANOSUCHKEY0000000"`) {
		t.Errorf("an unknown key ID exited %d with %q, want 2 and no match", code, errOut)
	}
}
