package main

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/model"
)

// TestAccessListsHoldersOfPoliciesAndPermissionSets: `warden access` on a
// managed policy (by name) and on a permission set (by ARN) lists exactly
// the grants of the snapshot that give it, with through what.
func TestAccessListsHoldersOfPoliciesAndPermissionSets(t *testing.T) {
	useFakeAWS(t, "--accounts", "2", "--users", "4", "--identity-center-users", "6")
	t.Setenv("WARDEN_CONFIG", "")
	db := filepath.Join(t.TempDir(), "w.db")
	if _, errOut, code := runIn(t, db, "sync", "--organization", "--identity-center", "--member-external-id", fakeAWSExternalID); code != 0 {
		t.Fatalf("sync exited %d: %s", code, errOut)
	}
	_, _, whole := latestWhole(t, db)
	byID := map[string]*model.Resource{}
	for i := range whole.Resources {
		byID[whole.Resources[i].ID] = &whole.Resources[i]
	}
	// What the graph says each policy and permission set is held by.
	want := map[string][]string{}
	for _, g := range whole.Grants {
		i := strings.LastIndexByte(g.EntitlementID, '#')
		r := byID[g.EntitlementID[:i]]
		if r == nil || (r.Type != model.TypeIAMPolicy || g.EntitlementID[i+1:] != model.EntAttached) && r.Type != model.TypePermissionSet {
			continue
		}
		want[r.ID] = append(want[r.ID], g.PrincipalID+" "+string(g.Provenance)+" "+g.ViaID)
	}
	var policy, set *model.Resource
	for id, hs := range want {
		r := byID[id]
		switch {
		case r.Type == model.TypeIAMPolicy && r.Policy != nil && !r.Policy.AWSManaged && (policy == nil || len(hs) > len(want[policy.ID])):
			policy = r
		case r.Type == model.TypePermissionSet && (set == nil || len(hs) > len(want[set.ID])):
			set = r
		}
	}
	if policy == nil || set == nil {
		t.Fatalf("the estate has no customer policy (%v) or permission set (%v) held by anyone", policy, set)
	}
	for _, c := range []struct {
		query string
		r     *model.Resource
	}{{strings.ToUpper(policy.Name), policy}, {set.ID, set}} {
		out, errOut, code := runIn(t, db, "access", c.query, "-o", "json")
		if code == exitUsage && strings.Contains(errOut, "matches") && strings.Contains(errOut, c.r.ID) {
			// The name is also another account's policy's: the candidates
			// are listed, and the ARN answers.
			c.query = c.r.ID
			out, errOut, code = runIn(t, db, "access", c.query, "-o", "json")
		}
		if code != 0 {
			t.Fatalf("access %s exited %d: %s", c.query, code, errOut)
		}
		var doc struct {
			Resource struct{ ID string } `json:"resource"`
			Holders  []struct {
				Principal  struct{ ID string } `json:"principal"`
				Provenance string              `json:"provenance"`
				ViaID      string              `json:"via_id"`
				ViaName    string              `json:"via_name"`
			} `json:"holders"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("access %s -o json: %v\n%s", c.query, err, out)
		}
		var got []string
		for _, h := range doc.Holders {
			got = append(got, h.Principal.ID+" "+h.Provenance+" "+h.ViaID)
			if h.ViaID != "" && h.ViaName != byID[h.ViaID].Name {
				t.Errorf("holder via %s named %q", h.ViaID, h.ViaName)
			}
		}
		sort.Strings(got)
		w := append([]string(nil), want[c.r.ID]...)
		sort.Strings(w)
		if doc.Resource.ID != c.r.ID || strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("access %s: resource %s, holders\n%s\nwant\n%s", c.query, doc.Resource.ID, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
		table, _, _ := runIn(t, db, "access", c.query)
		if !strings.Contains(table, "Holders of") {
			t.Errorf("access %s table:\n%s", c.query, table)
		}
	}
}
