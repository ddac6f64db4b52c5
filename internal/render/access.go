package render

import (
	"fmt"
	"strconv"
	"time"

	"github.com/warden-iam/warden/internal/access"
	"github.com/warden-iam/warden/internal/findings"
	"github.com/warden-iam/warden/internal/model"
)

// Path is access.Path, which the findings view shows in its through column.
type Path = access.Path

// AccessTables lays out the access report of an IAM principal: a heading,
// then one table per non-empty section.
func AccessTables(a *access.Access, now time.Time) []*Table {
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

// KeyOwnerTables lays out the answer to an access key ID: the access
// report of the key's owner, its heading naming the key.
func KeyOwnerTables(key access.Ref, owner *access.Access, now time.Time) []*Table {
	out := AccessTables(owner, now)
	out[0].Title = "Access key " + key.Name + " is owned by: " + out[0].Title
	return out
}

func policyKind(p access.Policy) string {
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

// HoldersTable lays out who holds a managed policy or permission set.
func HoldersTable(h *access.Holders) *Table {
	t := &Table{Title: fmt.Sprintf("Holders of %s %s (%d)", kindName(h.Resource.Type), h.Resource.Name, len(h.Holders)),
		Header: []string{"TYPE", "NAME", "ACCOUNT", "THROUGH"}}
	for _, x := range h.Holders {
		t.Add(kindName(x.Principal.Type), x.Principal.Name, dash(x.AccountID), Path{Provenance: x.Provenance, ViaName: x.ViaName}.String())
	}
	return t
}
