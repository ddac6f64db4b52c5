package store

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/warden-iam/warden/internal/model"
)

// effectiveGraph is sampleGraph with a user and a role whose strings need
// every JSON escape (quotes, backslashes, control characters, <>&, a
// character outside the BMP, U+2028), a boundary, an account assignment
// grant, and a role trust policy held as escaped JSON.
func effectiveGraph() *model.Graph {
	g := sampleGraph()
	odd := "q\"b\\s/\t\n\r\x01<>&é😀\u2028end"
	u := "arn:aws:iam::111122223333:user/odd"
	r := "arn:aws:iam::111122223333:role/service-role/odd"
	ps := "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
	g.Resources = append(g.Resources,
		model.Resource{ID: u, Type: model.TypeIAMUser, AccountID: "111122223333", Name: "odd", ARN: u, Path: "/x/", Tags: map[string]string{odd: odd, "": ""},
			User: &model.UserAttrs{UserID: "AIDA2", PermissionsBoundary: "arn:aws:iam::aws:policy/ReadOnlyAccess", MFAActive: true}},
		model.Resource{ID: r, Type: model.TypeIAMRole, AccountID: "111122223333", Name: "odd", ARN: r, Path: "/service-role/",
			Role: &model.RoleAttrs{RoleID: "AROA2", PermissionsBoundary: "arn:aws:iam::aws:policy/ReadOnlyAccess",
				TrustPolicy: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"` + odd + `"},"Action":"sts:AssumeRole"}]}`}},
		model.Resource{ID: ps, Type: model.TypePermissionSet, Name: "Admin " + odd, PermissionSet: &model.PermissionSetAttrs{InlinePolicy: `{"c":3}`}},
		model.Resource{ID: "arn:aws:iam::111122223333:policy/odd", Type: model.TypeIAMPolicy, AccountID: "111122223333", Name: odd,
			Policy: &model.PolicyAttrs{Document: `{"Statement":[{"Sid":"` + odd + `"}]}`}})
	g.Entitlements = append(g.Entitlements, model.Entitlement{ID: model.EntitlementID(ps, model.AssignmentEntitlement("111122223333")), ResourceID: ps, Name: model.AssignmentEntitlement("111122223333")})
	g.Grants = append(g.Grants,
		model.Grant{PrincipalID: u, EntitlementID: model.EntitlementID(ps, model.AssignmentEntitlement("111122223333")), Provenance: model.ViaSSO},
		model.Grant{PrincipalID: u, EntitlementID: model.EntitlementID(r, model.EntAssume), Provenance: model.ViaTrust},
		model.Grant{PrincipalID: u, EntitlementID: model.EntitlementID("arn:aws:iam::111122223333:policy/odd", model.EntAttached), Provenance: model.ViaDirect},
		model.Grant{PrincipalID: r, EntitlementID: model.EntitlementID("arn:aws:iam::111122223333:policy/odd", model.EntAttached), Provenance: model.ViaDirect})
	g.Sort()
	return g
}

// slim is r as EffectiveResources gives it: for the types it picks fields
// of, only those.
func slim(r model.Resource) model.Resource {
	switch r.Type {
	case model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeIAMPolicy, model.TypeInlinePolicy:
	default:
		return r
	}
	out := model.Resource{ID: r.ID, Type: r.Type, AccountID: r.AccountID, Name: r.Name, ARN: r.ARN, Path: r.Path, ParentID: r.ParentID, Tags: r.Tags}
	if r.User != nil {
		out.User = &model.UserAttrs{UserID: r.User.UserID, PermissionsBoundary: r.User.PermissionsBoundary}
	}
	if r.Role != nil {
		out.Role = &model.RoleAttrs{RoleID: r.Role.RoleID, PermissionsBoundary: r.Role.PermissionsBoundary, TrustPolicy: r.Role.TrustPolicy}
	}
	if r.Policy != nil {
		out.Policy = &model.PolicyAttrs{Document: r.Policy.Document}
	}
	if r.InlinePolicy != nil {
		out.InlinePolicy = &model.InlinePolicyAttrs{Document: r.InlinePolicy.Document}
	}
	return out
}

// TestEffectiveData: on both back-ends, EffectiveResources gives every
// resource of the types asked with the fields it names exactly as
// Resources decodes them (escapes and all), and EffectiveData's grants are
// Subgraph's of the member, attached, assume and account-assignment kinds,
// grouped by principal in the same order.
func TestEffectiveData(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *DB) {
		ctx := context.Background()
		g := effectiveGraph()
		snap, err := st.WriteSnapshot(ctx, &model.Snapshot{Status: model.StatusComplete}, g)
		if err != nil {
			t.Fatal(err)
		}
		types := []model.ResourceType{model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeIAMPolicy,
			model.TypeInlinePolicy, model.TypeAccount, model.TypePermissionSet, model.TypeExternalPrincipal}
		var want []model.Resource
		for _, ty := range types {
			rs, err := st.Resources(ctx, snap, ResourceFilter{Type: ty})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				want = append(want, slim(r))
			}
		}
		got, err := st.EffectiveResources(ctx, snap, types)
		if err != nil {
			t.Fatal(err)
		}
		byID := func(a, b model.Resource) int { return strings.Compare(a.ID, b.ID) }
		slices.SortFunc(want, byID)
		slices.SortFunc(got, byID)
		if len(want) != len(g.Resources)-1 { // all but the access key
			t.Fatalf("Resources read %d resources of the types, want %d", len(want), len(g.Resources)-1)
		}
		if !reflect.DeepEqual(got, want) {
			jg, _ := json.Marshal(got)
			jw, _ := json.Marshal(want)
			t.Fatalf("EffectiveResources:\n%s\nwant\n%s", jg, jw)
		}

		principals := []model.ResourceType{model.TypeIAMUser, model.TypeIAMGroup, model.TypeIAMRole, model.TypeExternalPrincipal}
		sub, err := st.Subgraph(ctx, snap, principals, "")
		if err != nil {
			t.Fatal(err)
		}
		wantGrants := map[string][]model.Grant{}
		for _, gr := range sub.Grants {
			if effectiveKind(gr.EntitlementID) {
				wantGrants[gr.PrincipalID] = append(wantGrants[gr.PrincipalID], gr)
			}
		}
		d, err := st.EffectiveData(ctx, snap, principals)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Resources) != len(sub.Resources) {
			t.Errorf("EffectiveData read %d principals, Subgraph %d", len(d.Resources), len(sub.Resources))
		}
		if len(wantGrants) < 3 || !reflect.DeepEqual(d.Grants, wantGrants) {
			t.Errorf("EffectiveData grants:\n%v\nwant\n%v", d.Grants, wantGrants)
		}
		for _, gs := range d.Grants {
			for _, gr := range gs {
				if strings.HasSuffix(gr.EntitlementID, "#"+model.EntOwner) {
					t.Errorf("EffectiveData read an ownership grant %+v", gr)
				}
			}
		}
	})
}

// TestSlimDecodeFallsBack: text the scanner does not expect (a lone
// surrogate escape, which encoding/json turns into U+FFFD) is decoded by
// encoding/json, with the same result.
func TestSlimDecodeFallsBack(t *testing.T) {
	data := `{"id":"a\ud800b","type":"iam_user","name":"n","tags":{"k":"\ud83d\ude00"},"user":{"user_id":"x","mfa_active":true,"password_last_used":null}}`
	var got, want model.Resource
	if err := decodeEffective(data, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(data), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, slim(want)) {
		t.Fatalf("decodeEffective: %+v, want %+v", got, slim(want))
	}
	if err := decodeEffective(`{"id":`, &got); err == nil {
		t.Fatal("decodeEffective took a truncated text")
	}
}
