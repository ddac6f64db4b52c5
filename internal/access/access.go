// Package access answers access questions about a snapshot: everything an
// IAM user, group or role holds and through what, everything an IAM
// Identity Center user holds per account, and which of those views a query
// names. It reads a store.Store and returns plain values (with the JSON
// form `warden access -o json` prints); internal/render lays them out.
package access

import (
	"sort"
	"strings"
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

// String is how a path reads in a table: "group G" for a group, else the
// provenance.
func (p Path) String() string {
	if p.Provenance == model.ViaGroup {
		return "group " + p.ViaName
	}
	return string(p.Provenance)
}

// Policy is a managed or inline policy in effect for a principal.
type Policy struct {
	Ref
	AWSManaged bool `json:"aws_managed"`
	Admin      bool `json:"admin"` // the document grants full access
	Path
}

// Key is an access key a user owns.
type Key struct {
	Ref
	Status    string     `json:"status"`
	CreatedAt *time.Time `json:"created_at"`
	LastUsed  *time.Time `json:"last_used"`
}

// Role is a role whose trust policy names the principal.
type Role struct {
	Ref
	Path
}

// Other is a grant of a kind the views above do not cover.
type Other struct {
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
	Policies   []Policy              `json:"policies"`    // one entry per policy and path
	AccessKeys []Key                 `json:"access_keys"` // keys it owns
	MFADevices []Ref                 `json:"mfa_devices"` // MFA devices it owns
	Roles      []Role                `json:"roles"`       // roles it may assume: their trust policy names it
	TrustedBy  []model.TrustedEntity `json:"trusted_by"`  // a role's trusted principals
	Members    []Ref                 `json:"members"`     // a group's members
	Other      []Other               `json:"other"`
	// Activity is the principal's last activity (activity_report.go);
	// absent for a connection that reads no activity.
	Activity *PrincipalActivity `json:"activity,omitempty"`
	// LastAccessed is the IAM user's or role's service last accessed data,
	// as the last sync that read it stored it (lastaccessed.go); absent when
	// none was read.
	LastAccessed *findings.LastAccessed `json:"last_accessed,omitempty"`
}

// NewAccess groups the grants principal p holds (as the store's GrantsOf
// returns them) and, for a group, the holders of its membership.
func NewAccess(p *model.Resource, held []store.HeldGrant, members []store.Holder) *Access {
	a := &Access{Principal: refOf(p), ARN: p.ARN, Groups: []Ref{}, Policies: []Policy{}, AccessKeys: []Key{},
		MFADevices: []Ref{}, Roles: []Role{}, TrustedBy: []model.TrustedEntity{}, Members: []Ref{}, Other: []Other{}}
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
		ent := entitlementName(gr.EntitlementID)
		switch {
		case ent == model.EntMember && r.Type == model.TypeIAMGroup:
			a.Groups = append(a.Groups, refOf(r))
		case ent == model.EntAttached && (r.Type == model.TypeIAMPolicy || r.Type == model.TypeInlinePolicy):
			ap := Policy{Ref: refOf(r), Admin: policy.IsAdmin(findings.Document(r)), Path: path}
			ap.AWSManaged = r.Policy != nil && r.Policy.AWSManaged
			a.Policies = append(a.Policies, ap)
		case ent == model.EntOwner && r.Type == model.TypeAccessKey:
			k := Key{Ref: refOf(r)}
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
			a.Roles = append(a.Roles, Role{Ref: refOf(r), Path: path})
		default:
			a.Other = append(a.Other, Other{Entitlement: ent, Resource: refOf(r), Path: path})
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

// entitlementName is the name part of an entitlement ID ("member" of
// "…/devs#member").
func entitlementName(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		return id[i+1:]
	}
	return ""
}

// shortName is the last part of an ARN or ID, to stand for a name.
func shortName(id string) string {
	if i := strings.LastIndexAny(id, "/:"); i >= 0 && i < len(id)-1 {
		return id[i+1:]
	}
	return id
}
