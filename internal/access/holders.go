package access

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// Holders is who holds a managed policy (attached to them, directly, inline
// being another policy, or through a group) or a permission set (assigned
// to them in an account, directly or through a group).
type Holders struct {
	Resource Ref      `json:"resource"`
	Holders  []Holder `json:"holders"`
}

// Holder is one principal holding the resource, and through what.
type Holder struct {
	Principal  Ref              `json:"principal"`
	AccountID  string           `json:"account_id"` // for a permission set, the account assigned; else the principal's
	Provenance model.Provenance `json:"provenance"`
	ViaID      string           `json:"via_id"`
	ViaName    string           `json:"via_name"`
}

// HoldersOf lists who holds the managed or inline policy or permission set r in
// snapshot snap of st, ordered by principal type, name and account.
func HoldersOf(ctx context.Context, st store.Store, snap int64, r *model.Resource) (*Holders, error) {
	out := &Holders{Resource: refOf(r), Holders: []Holder{}}
	type ent struct{ id, account string }
	var ents []ent
	switch r.Type {
	case model.TypeIAMPolicy, model.TypeInlinePolicy:
		ents = append(ents, ent{id: model.EntitlementID(r.ID, model.EntAttached)})
	case model.TypePermissionSet:
		accts, err := st.Resources(ctx, snap, store.ResourceFilter{Type: model.TypeAccount})
		if err != nil {
			return nil, fmt.Errorf("read the accounts of snapshot %d: %w", snap, err)
		}
		for _, a := range accts {
			ents = append(ents, ent{id: model.EntitlementID(r.ID, model.AssignmentEntitlement(a.AccountID)), account: a.AccountID})
		}
	default:
		return nil, fmt.Errorf("%s is a %s: only a managed or inline policy or a permission set has holders to list", r.Name, r.Type)
	}
	var vias []string
	for _, e := range ents {
		hs, err := st.HoldersOf(ctx, snap, e.id)
		if err != nil {
			return nil, fmt.Errorf("read the holders of %s: %w", r.Name, err)
		}
		for _, h := range hs {
			p := Ref{ID: h.Grant.PrincipalID}
			if h.Principal != nil {
				p = refOf(h.Principal)
			}
			acct := e.account
			if acct == "" {
				acct = p.AccountID
			}
			out.Holders = append(out.Holders, Holder{Principal: p, AccountID: acct, Provenance: h.Grant.Provenance, ViaID: h.Grant.ViaID})
			if h.Grant.ViaID != "" {
				vias = append(vias, h.Grant.ViaID)
			}
		}
	}
	names, err := st.ResourcesByID(ctx, snap, vias)
	if err != nil {
		return nil, fmt.Errorf("read the groups holders of %s are in: %w", r.Name, err)
	}
	for i := range out.Holders {
		if v, ok := names[out.Holders[i].ViaID]; ok {
			out.Holders[i].ViaName = v.Name
		}
	}
	slices.SortFunc(out.Holders, func(a, b Holder) int {
		return cmp.Or(cmp.Compare(a.Principal.Type, b.Principal.Type), cmp.Compare(a.Principal.Name, b.Principal.Name),
			cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Provenance, b.Provenance), cmp.Compare(a.ViaID, b.ViaID))
	})
	return out, nil
}
