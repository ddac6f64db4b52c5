package benchestate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// TestMutate checks the benchmark's 1% change on a small organization:
// the input is left as it was, the result is the same every time, and
// every change it counts is in the graph (store.GraphChanges is the
// reference).
func TestMutate(t *testing.T) {
	isolateAWS(t)
	_, g, err := Build(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(g)
	m, ch := Mutate(g, 50)
	if after, _ := json.Marshal(g); string(after) != string(before) {
		t.Fatal("Mutate changed its input graph")
	}
	again, ch2 := Mutate(g, 50)
	if a, b := mustJSON(t, m), mustJSON(t, again); a != b || ch != ch2 {
		t.Fatal("Mutate gave two different results for the same graph")
	}
	principals := 0
	for _, r := range g.Resources {
		switch r.Type {
		case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole:
			principals++
		}
	}
	if ch.Principals != principals/50 || ch.Memberships+ch.Attachments+ch.Tags+ch.Removed != ch.Principals || ch.Memberships == 0 || ch.Removed == 0 {
		t.Fatalf("%d principals, every 50th changed: %+v", principals, ch)
	}

	c := store.GraphChanges(1, 2, g, m)
	inM := map[string]bool{}
	for _, r := range m.Resources {
		inM[r.ID] = true
	}
	removedPrincipals, changed := 0, 0
	for _, rc := range c.Resources {
		switch {
		case rc.Before == nil:
			t.Errorf("resource %s added; Mutate adds none", rc.ID)
		case rc.After == nil:
			if inM[rc.ID] {
				t.Errorf("resource %s removed but still in the graph", rc.ID)
			}
			switch rc.Before.Type {
			case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole:
				removedPrincipals++
			}
		default:
			changed++
		}
	}
	if removedPrincipals != ch.Removed {
		t.Errorf("%d principals removed, Mutate says %d", removedPrincipals, ch.Removed)
	}
	// Changed: the tagged principals and the policies attached once more.
	if changed < ch.Tags+1 || changed > ch.Tags+ch.Attachments {
		t.Errorf("%d resources changed for %d tags and %d attachments", changed, ch.Tags, ch.Attachments)
	}
	added := 0
	for _, gc := range c.Grants {
		if gc.Added {
			added++
		}
		if !inM[gc.Grant.PrincipalID] && gc.Added {
			t.Errorf("grant added to %s, which is not in the graph", gc.Grant.PrincipalID)
		}
	}
	if added < ch.Memberships*2+ch.Attachments { // a membership and at least one inherited policy
		t.Errorf("%d grants added for %d memberships and %d attachments", added, ch.Memberships, ch.Attachments)
	}
	gone := map[string]bool{}
	for _, rc := range c.Resources {
		if rc.After == nil {
			gone[rc.ID] = true
		}
	}
	for _, gr := range m.Grants {
		if gone[gr.PrincipalID] || gone[gr.ViaID] {
			t.Errorf("grant %+v of or through a removed resource", gr)
		}
	}
	for _, e := range m.Entitlements {
		if gone[e.ResourceID] {
			t.Errorf("entitlement %s of a removed resource", e.ID)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
