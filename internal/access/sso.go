package access

import (
	"fmt"
	"sort"
	"strings"

	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/store"
)

// Assignment is one permission set an Identity Center user holds in one
// account, how, and what it gives there.
type Assignment struct {
	AccountID     string `json:"account_id"`
	AccountName   string `json:"account_name"`
	PermissionSet Ref    `json:"permission_set"`
	Path
	// Role is the role Identity Center created for the permission set in
	// the account; nil when that account's IAM was not synced.
	Role *Ref `json:"role"`
	// Policies are the policies in effect for the role (from the
	// account's IAM), or else the permission set's own.
	Policies []Policy `json:"policies"`
}

// SSOAccess is everything an Identity Center user holds, as `warden access`
// prints it for one: groups, assignments per account with the role and
// policies they give, and the access of IAM users of the same person.
type SSOAccess struct {
	Principal   Ref          `json:"principal"`
	Status      string       `json:"status"`
	Emails      []string     `json:"emails"`
	Groups      []Ref        `json:"groups"`
	Assignments []Assignment `json:"assignments"`
	// LinkedIAMUsers are IAM users taken to be the same person: named like
	// the user's user name or an e-mail address, or tagged with one.
	LinkedIAMUsers []*Access `json:"linked_iam_users"`
	// Activity is the user's last sign-in and account use; absent for a
	// connection that reads no activity.
	Activity *PrincipalActivity `json:"activity,omitempty"`
}

// RoleGrants returns what a role holds, for the policies of an assignment.
type RoleGrants func(roleID string) ([]store.HeldGrant, error)

// NewSSOAccess builds the view of an Identity Center user from what it
// holds, reading each reserved role's grants with roleGrants, and the
// accounts (by ID) for their names. It leaves LinkedIAMUsers empty.
func NewSSOAccess(p *model.Resource, held []store.HeldGrant, accounts map[string]model.Resource, roleGrants RoleGrants) (*SSOAccess, error) {
	a := &SSOAccess{Principal: refOf(p), Groups: []Ref{}, Assignments: []Assignment{}, LinkedIAMUsers: []*Access{}, Emails: []string{}}
	if p.SSOUser != nil {
		a.Status = p.SSOUser.Status
		if p.SSOUser.Emails != nil {
			a.Emails = p.SSOUser.Emails
		}
	}
	names := map[string]string{}
	for _, h := range held {
		names[h.Resource.ID] = h.Resource.Name
	}
	// A reserved role is keyed by everything that tells it apart: one
	// group may bring several permission sets into one account, each with
	// its own role, so the permission set (read from the role's name) is
	// part of the key.
	type key struct{ account, via, viaID, permissionSet string }
	roles := map[key]*Ref{}
	for _, h := range held {
		ent := entitlementName(h.Grant.EntitlementID)
		ps, reserved := model.ReservedRolePermissionSet(h.Resource.Name)
		if ent == model.EntAssume && reserved && h.Resource.Type == model.TypeIAMRole && (h.Grant.Provenance == model.ViaSSO || h.Grant.Provenance == model.ViaGroup) {
			r := refOf(&h.Resource)
			roles[key{h.Resource.AccountID, string(h.Grant.Provenance), h.Grant.ViaID, ps}] = &r
		}
	}
	for _, h := range held {
		r, gr := &h.Resource, h.Grant
		ent := entitlementName(gr.EntitlementID)
		switch {
		case ent == model.EntMember && r.Type == model.TypeSSOGroup:
			a.Groups = append(a.Groups, refOf(r))
		case r.Type == model.TypePermissionSet && strings.HasPrefix(ent, model.AssignmentEntitlement("")):
			acct := strings.TrimPrefix(ent, model.AssignmentEntitlement(""))
			as := Assignment{AccountID: acct, AccountName: accounts[model.AccountResourceID(acct)].Name, PermissionSet: refOf(r),
				Path: Path{Provenance: gr.Provenance, ViaID: gr.ViaID, ViaName: names[gr.ViaID]}}
			// The role link carries the permission set (direct) or the
			// group (through a group) as its via.
			if gr.Provenance == model.ViaGroup {
				as.Role = roles[key{acct, string(model.ViaGroup), gr.ViaID, r.Name}]
			} else {
				as.Role = roles[key{acct, string(model.ViaSSO), r.ID, r.Name}]
			}
			policies, err := assignmentPolicies(r, as.Role, roleGrants)
			if err != nil {
				return nil, err
			}
			as.Policies = policies
			a.Assignments = append(a.Assignments, as)
		}
	}
	sort.Slice(a.Groups, func(i, j int) bool { return a.Groups[i].Name < a.Groups[j].Name })
	sort.Slice(a.Assignments, func(i, j int) bool {
		x, y := a.Assignments[i], a.Assignments[j]
		if x.AccountID != y.AccountID {
			return x.AccountID < y.AccountID
		}
		if x.PermissionSet.Name != y.PermissionSet.Name {
			return x.PermissionSet.Name < y.PermissionSet.Name
		}
		return x.Path.String() < y.Path.String()
	})
	return a, nil
}

// assignmentPolicies are the policies an assignment gives: the role's, as
// the account's IAM shows them, or else the permission set's.
func assignmentPolicies(ps *model.Resource, role *Ref, roleGrants RoleGrants) ([]Policy, error) {
	if role != nil && roleGrants != nil {
		held, err := roleGrants(role.ID)
		if err != nil {
			return nil, fmt.Errorf("read the policies of %s: %w", role.ID, err)
		}
		return NewAccess(&model.Resource{ID: role.ID, Type: model.TypeIAMRole}, held, nil).Policies, nil
	}
	out := []Policy{}
	if a := ps.PermissionSet; a != nil {
		for _, arn := range a.ManagedPolicies {
			out = append(out, Policy{Ref: Ref{ID: arn, Type: model.TypeIAMPolicy, Name: shortName(arn)}, AWSManaged: true, Path: Path{Provenance: model.ViaDirect}})
		}
		for _, ref := range a.CustomerManagedPolicies {
			out = append(out, Policy{Ref: Ref{ID: ref, Type: model.TypeIAMPolicy, Name: shortName(ref)}, Path: Path{Provenance: model.ViaDirect}})
		}
		if a.InlinePolicy != "" {
			out = append(out, Policy{Ref: Ref{ID: ps.ID + "/inline", Type: model.TypeInlinePolicy, Name: "inline policy"}, Path: Path{Provenance: model.ViaInline}})
		}
	}
	return out, nil
}
