package render

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
	"github.com/warden-iam/warden/internal/policy"
	"github.com/warden-iam/warden/internal/store"
)

// Ref names a resource.
type Ref struct {
	ID        string             `json:"id"`
	Type      model.ResourceType `json:"type"`
	Name      string             `json:"name"`
	AccountID string             `json:"account_id"`
}

func refOf(r *model.Resource) Ref {
	return Ref{ID: r.ID, Type: r.Type, Name: r.Name, AccountID: r.AccountID}
}

// Path says through what a principal holds something: the provenance and,
// for provenance "group", the group.
type Path struct {
	Provenance model.Provenance `json:"provenance"` // direct, group, inline or trust
	ViaID      string           `json:"via_id"`
	ViaName    string           `json:"via_name"`
}

func (p Path) String() string {
	if p.Provenance == model.ViaGroup {
		return "group " + p.ViaName
	}
	return string(p.Provenance)
}

// AccessPolicy is a managed or inline policy in effect for a principal.
type AccessPolicy struct {
	Ref
	AWSManaged bool `json:"aws_managed"`
	Admin      bool `json:"admin"` // the document grants full access
	Path
}

// AccessKey is an access key a user owns.
type AccessKey struct {
	Ref
	Status    string     `json:"status"`
	CreatedAt *time.Time `json:"created_at"`
	LastUsed  *time.Time `json:"last_used"`
}

// AccessRole is a role whose trust policy names the principal.
type AccessRole struct {
	Ref
	Path
}

// AccessOther is a grant of a kind the views above do not cover.
type AccessOther struct {
	Entitlement string `json:"entitlement"`
	Resource    Ref    `json:"resource"`
	Path
}

// Access is everything one principal holds and through what, as
// `warden access` prints it. Every list is present, empty when it does not
// apply (Members for a non-group, TrustedBy for a non-role).
type Access struct {
	Principal  Ref                   `json:"principal"`
	ARN        string                `json:"arn"`
	Groups     []Ref                 `json:"groups"`      // groups it is a member of
	Policies   []AccessPolicy        `json:"policies"`    // one entry per policy and path
	AccessKeys []AccessKey           `json:"access_keys"` // keys it owns
	MFADevices []Ref                 `json:"mfa_devices"` // MFA devices it owns
	Roles      []AccessRole          `json:"roles"`       // roles it may assume: their trust policy names it
	TrustedBy  []model.TrustedEntity `json:"trusted_by"`  // a role's trusted principals
	Members    []Ref                 `json:"members"`     // a group's members
	Other      []AccessOther         `json:"other"`
}

// NewAccess groups the grants principal p holds (as the store's GrantsOf
// returns them) and, for a group, the holders of its membership.
func NewAccess(p *model.Resource, held []store.HeldGrant, members []store.Holder) *Access {
	a := &Access{Principal: refOf(p), ARN: p.ARN, Groups: []Ref{}, Policies: []AccessPolicy{}, AccessKeys: []AccessKey{},
		MFADevices: []Ref{}, Roles: []AccessRole{}, TrustedBy: []model.TrustedEntity{}, Members: []Ref{}, Other: []AccessOther{}}
	if p.Role != nil && p.Role.TrustedPrincipals != nil {
		a.TrustedBy = p.Role.TrustedPrincipals
	}
	groupNames := make(map[string]string)
	for _, h := range held {
		if h.Resource.Type == model.TypeIAMGroup {
			groupNames[h.Resource.ID] = h.Resource.Name
		}
	}
	for _, h := range held {
		r, gr := &h.Resource, h.Grant
		path := Path{Provenance: gr.Provenance, ViaID: gr.ViaID}
		if gr.ViaID != "" {
			path.ViaName = groupNames[gr.ViaID]
			if path.ViaName == "" {
				path.ViaName = shortName(gr.ViaID)
			}
		}
		_, ent := splitEntitlement(nil, gr.EntitlementID)
		switch {
		case ent == model.EntMember && r.Type == model.TypeIAMGroup:
			a.Groups = append(a.Groups, refOf(r))
		case ent == model.EntAttached && (r.Type == model.TypeIAMPolicy || r.Type == model.TypeInlinePolicy):
			ap := AccessPolicy{Ref: refOf(r), Admin: policy.IsAdmin(findings.Document(r)), Path: path}
			ap.AWSManaged = r.Policy != nil && r.Policy.AWSManaged
			a.Policies = append(a.Policies, ap)
		case ent == model.EntOwner && r.Type == model.TypeAccessKey:
			k := AccessKey{Ref: refOf(r)}
			if created, ok := findings.KeyCreatedAt(r); ok {
				k.CreatedAt = &created
			}
			if r.AccessKey != nil {
				k.Status, k.LastUsed = r.AccessKey.Status, r.AccessKey.LastUsed
			}
			a.AccessKeys = append(a.AccessKeys, k)
		case ent == model.EntOwner && r.Type == model.TypeMFADevice:
			a.MFADevices = append(a.MFADevices, refOf(r))
		case ent == model.EntAssume && r.Type == model.TypeIAMRole:
			a.Roles = append(a.Roles, AccessRole{Ref: refOf(r), Path: path})
		default:
			a.Other = append(a.Other, AccessOther{Entitlement: ent, Resource: refOf(r), Path: path})
		}
	}
	for _, m := range members {
		if m.Principal != nil {
			a.Members = append(a.Members, refOf(m.Principal))
		} else {
			a.Members = append(a.Members, Ref{ID: m.Grant.PrincipalID, Name: shortName(m.Grant.PrincipalID)})
		}
	}
	a.sort()
	return a
}

func (a *Access) sort() {
	byName := func(refs []Ref) {
		sort.Slice(refs, func(i, j int) bool {
			return refs[i].Name < refs[j].Name || refs[i].Name == refs[j].Name && refs[i].ID < refs[j].ID
		})
	}
	byName(a.Groups)
	byName(a.MFADevices)
	byName(a.Members)
	sort.Slice(a.Policies, func(i, j int) bool {
		x, y := a.Policies[i], a.Policies[j]
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		if x.ID != y.ID {
			return x.ID < y.ID
		}
		return x.Path.String() < y.Path.String()
	})
	sort.Slice(a.AccessKeys, func(i, j int) bool { return a.AccessKeys[i].Name < a.AccessKeys[j].Name })
	sort.Slice(a.Roles, func(i, j int) bool { return a.Roles[i].Name < a.Roles[j].Name })
	sort.Slice(a.Other, func(i, j int) bool {
		if a.Other[i].Entitlement != a.Other[j].Entitlement {
			return a.Other[i].Entitlement < a.Other[j].Entitlement
		}
		return a.Other[i].Resource.ID < a.Other[j].Resource.ID
	})
}

// Tables lays out the access report: a heading, then one table per
// non-empty section.
func (a *Access) Tables(now time.Time) []*Table {
	head := &Table{Title: fmt.Sprintf("%s %s in account %s", kindName(a.Principal.Type), a.Principal.Name, a.Principal.AccountID)}
	head.Add("arn", a.ARN)
	out := []*Table{head}
	if len(a.Groups) > 0 {
		t := &Table{Title: fmt.Sprintf("Groups (%d)", len(a.Groups)), Header: []string{"NAME", "ID"}}
		for _, g := range a.Groups {
			t.Add(g.Name, g.ID)
		}
		out = append(out, t)
	}
	if a.Principal.Type == model.TypeIAMGroup {
		t := &Table{Title: fmt.Sprintf("Members (%d)", len(a.Members)), Header: []string{"NAME", "ID"}}
		for _, m := range a.Members {
			t.Add(m.Name, m.ID)
		}
		out = append(out, t)
	}
	pt := &Table{Title: fmt.Sprintf("Policies (%d)", len(a.Policies)), Header: []string{"NAME", "KIND", "THROUGH", "ADMIN"}}
	for _, p := range a.Policies {
		pt.Add(p.Name, policyKind(p), p.Path.String(), yesNo(p.Admin, true))
	}
	out = append(out, pt)
	if len(a.AccessKeys) > 0 || a.Principal.Type == model.TypeIAMUser {
		t := &Table{Title: fmt.Sprintf("Access keys (%d)", len(a.AccessKeys)), Header: []string{"KEY ID", "STATUS", "AGE (DAYS)", "LAST USED"}}
		for _, k := range a.AccessKeys {
			age := "-"
			if k.CreatedAt != nil {
				age = strconv.Itoa(findings.AgeDays(*k.CreatedAt, now))
			}
			t.Add(k.Name, k.Status, age, lastUsedCell(k.LastUsed))
		}
		out = append(out, t)
	}
	if len(a.MFADevices) > 0 {
		t := &Table{Title: fmt.Sprintf("MFA devices (%d)", len(a.MFADevices)), Header: []string{"SERIAL"}}
		for _, m := range a.MFADevices {
			t.Add(m.Name)
		}
		out = append(out, t)
	}
	if len(a.Roles) > 0 || a.Principal.Type != model.TypeIAMGroup {
		t := &Table{Title: fmt.Sprintf("Roles it may assume (%d)", len(a.Roles)), Header: []string{"NAME", "ACCOUNT", "THROUGH"}}
		for _, r := range a.Roles {
			t.Add(r.Name, r.AccountID, r.Path.String())
		}
		out = append(out, t)
	}
	if a.Principal.Type == model.TypeIAMRole {
		t := &Table{Title: fmt.Sprintf("Trusted principals (%d)", len(a.TrustedBy)), Header: []string{"KIND", "PRINCIPAL", "CONDITIONS"}}
		for _, te := range a.TrustedBy {
			t.Add(te.Kind, te.Value, list(te.Conditions))
		}
		out = append(out, t)
	}
	if len(a.Other) > 0 {
		t := &Table{Title: fmt.Sprintf("Other grants (%d)", len(a.Other)), Header: []string{"ENTITLEMENT", "RESOURCE", "TYPE", "THROUGH"}}
		for _, o := range a.Other {
			t.Add(o.Entitlement, o.Resource.Name, string(o.Resource.Type), o.Path.String())
		}
		out = append(out, t)
	}
	return out
}

func policyKind(p AccessPolicy) string {
	switch {
	case p.Type == model.TypeInlinePolicy:
		return "inline"
	case p.AWSManaged:
		return "AWS managed"
	}
	return "customer managed"
}

// kindName is how the heading names a principal's type.
func kindName(t model.ResourceType) string {
	switch t {
	case model.TypeIAMUser:
		return "User"
	case model.TypeIAMGroup:
		return "Group"
	case model.TypeIAMRole:
		return "Role"
	}
	return string(t)
}
